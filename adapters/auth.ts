import { Pool } from 'undici';
import { describeIssues, tokenResponseSchema } from '../common/contract';
import { ApiError, isRetryableStatus, parseRetryAfter } from './http';
import type { TokenSource } from './http';

/** Refresh this long before expiry, so a token never expires between being read and being used. */
const REFRESH_MARGIN_MS = 60_000;

/** HMPPS Auth client-credentials tokens (contract §2), cached and refreshed before expiry. */
export class HmppsAuthClient implements TokenSource {
  private readonly pool: Pool;
  private cached: { token: string; refreshAt: number } | undefined;
  private inFlight: Promise<string> | undefined;

  constructor(
    baseUrl: string,
    private readonly clientId: string,
    private readonly clientSecret: string,
    private readonly timeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.pool = new Pool(baseUrl, { connections: 2, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  }

  async token(signal?: AbortSignal): Promise<string> {
    if (this.cached && this.now() < this.cached.refreshAt) return this.cached.token;
    // Many concurrent activities share one refresh instead of stampeding the auth server.
    this.inFlight ??= this.fetchToken(signal).finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  invalidate(token: string): void {
    if (this.cached?.token === token) this.cached = undefined;
  }

  /** Forget the cached token whatever it is: the auth server has forgotten it too (a simulator reset). */
  forget(): void {
    this.cached = undefined;
  }

  private async fetchToken(signal?: AbortSignal): Promise<string> {
    const basic = Buffer.from(`${this.clientId}:${this.clientSecret}`).toString('base64');
    let response;
    try {
      response = await this.pool.request({
        method: 'POST',
        path: '/auth/oauth/token?grant_type=client_credentials',
        headers: { authorization: `Basic ${basic}`, accept: 'application/json' },
        signal: signal ?? AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new ApiError(
        `HMPPS Auth token request failed: ${err instanceof Error ? err.message : String(err)}`,
        'HMPPS_AUTH',
        undefined,
        true,
      );
    }
    const text = await response.body.text();
    const status = response.statusCode;
    if (status !== 200) {
      // 401 here means wrong client credentials: no retry will fix configuration.
      const retryable = status !== 401 && isRetryableStatus(status);
      throw new ApiError(
        `HMPPS Auth token request returned ${status}: ${text.slice(0, 300)}`,
        'HMPPS_AUTH',
        status,
        retryable,
        parseRetryAfter(response.headers['retry-after']),
      );
    }
    const parsed = tokenResponseSchema.safeParse(safeJson(text));
    if (!parsed.success) {
      throw new ApiError(
        `HMPPS Auth token response breaks the contract: ${describeIssues(parsed.error)}`,
        'HMPPS_AUTH',
        status,
        false,
      );
    }
    const expiresInMs = parsed.data.expires_in * 1000;
    this.cached = {
      token: parsed.data.access_token,
      refreshAt: this.now() + Math.max(expiresInMs - REFRESH_MARGIN_MS, expiresInMs / 2),
    };
    return parsed.data.access_token;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
