import { randomBytes, timingSafeEqual } from 'node:crypto';
import { HttpError, json } from './http';
import type { Route, SimRequest } from './http';

// HMPPS Auth, client-credentials only (contract §2). Tokens are opaque and live in memory shared by the three
// servers of one process, so NOMIS and DPS can check them without a JWT library.

export const NOMIS_ROLE = 'ROLE_NOMIS_ALERTS';
export const DPS_ROLE = 'ROLE_PRISONER_ALERTS__RW';

export interface ClientCredentials {
  secret: string;
  roles: string[];
}

interface IssuedToken {
  clientId: string;
  roles: string[];
  expiresAt: number;
}

export class TokenStore {
  private readonly tokens = new Map<string, IssuedToken>();
  issued = 0;

  constructor(
    private readonly clients: Record<string, ClientCredentials>,
    private readonly ttlSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  accepts(clientId: string, secret: string): boolean {
    const client = this.clients[clientId];
    return client !== undefined && sameText(client.secret, secret);
  }

  issue(clientId: string): { token: string; expiresIn: number } {
    const client = this.clients[clientId];
    if (!client) throw new Error(`unknown client ${clientId}`);
    this.removeExpired();
    const token = randomBytes(24).toString('base64url');
    this.tokens.set(token, { clientId, roles: client.roles, expiresAt: this.now() + this.ttlSeconds * 1000 });
    this.issued += 1;
    return { token, expiresIn: this.ttlSeconds };
  }

  /** Throws the 401 or 403 the real APIs answer with; returns the caller's client id. */
  authorise(request: SimRequest, role: string): string {
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const unauthorised = (why: string) =>
      new HttpError(401, `Unauthorised: ${why}`, { 'www-authenticate': `Bearer error="invalid_token"` });
    if (!match?.[1]) throw unauthorised('no bearer token');
    const issued = this.tokens.get(match[1]);
    if (!issued) throw unauthorised('unknown token');
    if (issued.expiresAt <= this.now()) throw unauthorised('token expired');
    if (!issued.roles.includes(role)) throw new HttpError(403, `Forbidden: client ${issued.clientId} lacks ${role}`);
    return issued.clientId;
  }

  /** Every token now fails with 401, so a test can watch the sync refresh its token. */
  expireAll(): number {
    const count = this.tokens.size;
    this.tokens.clear();
    return count;
  }

  reset(): void {
    this.tokens.clear();
    this.issued = 0;
  }

  stats() {
    return {
      activeTokens: [...this.tokens.values()].filter((t) => t.expiresAt > this.now()).length,
      issued: this.issued,
    };
  }

  private removeExpired(): void {
    const now = this.now();
    for (const [token, issued] of this.tokens) if (issued.expiresAt <= now) this.tokens.delete(token);
  }
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function basicCredentials(request: SimRequest): { clientId: string; secret: string } | undefined {
  const match = /^Basic\s+(\S+)$/i.exec(request.headers.authorization ?? '');
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return {
    clientId: decodeURIComponent(decoded.slice(0, colon)),
    secret: decodeURIComponent(decoded.slice(colon + 1)),
  };
}

/** The grant type may come in the query (as the contract shows) or in a form body (as OAuth clients often send). */
function grantType(request: SimRequest): string | null {
  const fromQuery = request.query.get('grant_type');
  if (fromQuery) return fromQuery;
  const contentType = request.headers['content-type'] ?? '';
  return contentType.includes('application/x-www-form-urlencoded')
    ? new URLSearchParams(request.rawBody).get('grant_type')
    : null;
}

export function authRoutes(tokens: TokenStore): Route[] {
  return [
    {
      method: 'POST',
      pattern: '/auth/oauth/token',
      api: 'auth',
      handler: (request) => {
        const credentials = basicCredentials(request);
        if (!credentials || !tokens.accepts(credentials.clientId, credentials.secret)) {
          return json(401, { error: 'unauthorized', error_description: 'Bad client credentials' });
        }
        const grant = grantType(request);
        if (grant !== 'client_credentials') {
          return json(400, {
            error: 'unsupported_grant_type',
            error_description: `grant_type: must be client_credentials, got ${grant ?? 'nothing'}`,
          });
        }
        const issued = tokens.issue(credentials.clientId);
        return json(200, { access_token: issued.token, token_type: 'bearer', expires_in: issued.expiresIn });
      },
    },
  ];
}
