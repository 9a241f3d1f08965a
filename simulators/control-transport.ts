import type { z } from 'zod';
import { HmppsAuthClient } from '../adapters/auth';
import { ApiError, JsonApiClient } from '../adapters/http';
import type { RequestOptions } from '../adapters/http';
import { DpsAlertsApiClient } from '../adapters/dps';
import { NomisApiClient } from '../adapters/nomis';

// How the control client (control-client.ts) speaks HTTP: through the product's own clients (adapters/http.ts
// and the token cache of adapters/auth.ts), so there is one HTTP stack and one token cache, not a second pair
// that could drift from what the sync does.

export interface SimulatorUrls {
  nomis: string;
  dps: string;
  auth: string;
}

export class SimulatorControlError extends Error {
  override name = 'SimulatorControlError';
  constructor(
    message: string,
    readonly status: number,
    readonly body: unknown,
  ) {
    super(message);
  }
}

/** A request whose successful answer has a body, parsed with `schema`. */
export type BodyRequest<T> = RequestOptions<T> & { schema: z.ZodType<T, z.ZodTypeDef, unknown> };

/** Generous: seeding thousands of prisoners is one control call. */
const TIMEOUT_MS = 30_000;

export class ControlTransport {
  private readonly auth: HmppsAuthClient;
  /** The control API needs no token; every server serves it, so the NOMIS one does. */
  private readonly controlApi: JsonApiClient;
  /** DPS as its users call it: the product's DPS client marks every write as the sync's own. */
  private readonly dpsApi: JsonApiClient;
  private readonly readers: { nomis: NomisApiClient; dps: DpsAlertsApiClient };

  constructor(urls: SimulatorUrls, credentials: { clientId: string; clientSecret: string }) {
    this.auth = new HmppsAuthClient(urls.auth, credentials.clientId, credentials.clientSecret, TIMEOUT_MS);
    this.controlApi = new JsonApiClient('NOMIS', urls.nomis, undefined, TIMEOUT_MS);
    this.dpsApi = new JsonApiClient('DPS', urls.dps, this.auth, TIMEOUT_MS);
    this.readers = {
      nomis: new NomisApiClient(urls.nomis, this.auth, TIMEOUT_MS),
      dps: new DpsAlertsApiClient(urls.dps, this.auth, TIMEOUT_MS),
    };
  }

  async control<T>(options: BodyRequest<T>): Promise<T> {
    try {
      return await this.controlApi.requestBody(options);
    } catch (err) {
      throw controlError(err);
    }
  }

  async controlNoBody(options: RequestOptions<never>): Promise<void> {
    try {
      await this.controlApi.request(options);
    } catch (err) {
      throw controlError(err);
    }
  }

  /** A call of the DPS API with a token: with a schema it answers the body, without one nothing (a 204). */
  callDps<T>(options: BodyRequest<T>): Promise<T>;
  callDps(options: RequestOptions<never>): Promise<void>;
  async callDps<T>(options: RequestOptions<T>): Promise<T | void> {
    return this.againIfTokenRefused(async () =>
      options.schema
        ? this.dpsApi.requestBody({ ...options, schema: options.schema })
        : void (await this.dpsApi.request(options)),
    );
  }

  /** A read of a real API as the sync makes it, through the product's own client of that API. */
  read<T>(call: (readers: { nomis: NomisApiClient; dps: DpsAlertsApiClient }) => Promise<T>): Promise<T> {
    return this.againIfTokenRefused(() => call(this.readers));
  }

  private async againIfTokenRefused<T>(send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401 && err.api !== 'HMPPS_AUTH')) throw controlError(err);
    }
    // The token was expired or revoked (POST /__sim/auth/expire-tokens) and the client has dropped it: once more.
    try {
      return await send();
    } catch (err) {
      throw controlError(err);
    }
  }

  async token(): Promise<string> {
    try {
      return await this.auth.token();
    } catch (err) {
      throw controlError(err);
    }
  }

  /** After a simulator reset, which forgets every token issued. */
  forgetToken(): void {
    this.auth.forget();
  }

  async close(): Promise<void> {
    await Promise.all([
      this.controlApi.close(),
      this.dpsApi.close(),
      this.readers.nomis.close(),
      this.readers.dps.close(),
      this.auth.close(),
    ]);
  }
}

/**
 * The product's ApiError keeps response bodies out of its message (they may hold alert text bound for Temporal);
 * a test or the CLI wants the simulator's userMessage in plain sight, so an HTTP failure is retold here.
 */
function controlError(err: unknown): unknown {
  if (!(err instanceof ApiError) || err.status === undefined) return err;
  if (err.responseBody === undefined) return new SimulatorControlError(err.message, err.status, undefined);
  let body: unknown = err.responseBody;
  try {
    body = JSON.parse(err.responseBody) as unknown;
  } catch {
    // not JSON: keep the text for the error message
  }
  const detail =
    typeof body === 'object' && body !== null && 'userMessage' in body
      ? String(body.userMessage)
      : JSON.stringify(body);
  return new SimulatorControlError(`${err.message}: ${detail}`, err.status, body);
}
