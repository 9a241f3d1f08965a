import { Pool } from 'undici';
import type { z } from 'zod';
import { describeIssues } from '../common/contract';

// What every API client shares: one undici Pool per API, bearer tokens, timeouts, schema-checked responses,
// and one classification of failures that the activities turn into Temporal retry decisions.

export type ApiName = 'NOMIS' | 'DPS' | 'HMPPS_AUTH';

/** A failed call, classified at the edge. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    message: string,
    readonly api: ApiName,
    /** HTTP status, or undefined for network errors and timeouts. */
    readonly status: number | undefined,
    /** false: repeating the same request cannot succeed (400, 403, 404, 409, bad response...). */
    readonly retryable: boolean,
    /** From Retry-After on 429/503. */
    readonly retryAfterMs?: number,
    /**
     * The error response's body: it may echo alert text (a 400 quoting a description), so it stays out of the
     * message, which Temporal stores in plain text, and travels in the failure's encrypted details.
     */
    readonly responseBody?: string,
  ) {
    super(message);
  }

  /** A stable, readable failure type for the Web UI, e.g. DpsBadRequest, NomisNotFound. */
  get type(): string {
    const prefix = { NOMIS: 'Nomis', DPS: 'Dps', HMPPS_AUTH: 'HmppsAuth' }[this.api];
    if (this.status === undefined) return `${prefix}Unavailable`;
    return `${prefix}${STATUS_NAMES[this.status] ?? `Http${this.status}`}`;
  }
}

const STATUS_NAMES: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  408: 'RequestTimeout',
  409: 'Conflict',
  422: 'UnprocessableEntity',
  429: 'TooManyRequests',
  500: 'ServerError',
  502: 'BadGateway',
  503: 'ServiceUnavailable',
  504: 'GatewayTimeout',
};

/** 4xx means "this request is wrong", except 408 and 429 which mean "try later"; 401 is retried after refresh. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429 || status === 401;
}

export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (!raw) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export interface TokenSource {
  token(signal?: AbortSignal): Promise<string>;
  /** Forget a token the server rejected, so the next call fetches a new one. */
  invalidate(token: string): void;
}

export interface RequestOptions<T> {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Schema of a successful response body; omit for bodiless responses. */
  schema?: z.ZodType<T, z.ZodTypeDef, unknown>;
  /** Statuses that are not errors for this call, e.g. DELETE's 404 "already gone". */
  okStatuses?: number[];
  signal?: AbortSignal;
}

export interface JsonResponse<T> {
  status: number;
  body: T | undefined;
}

export class JsonApiClient {
  private readonly pool: Pool;

  constructor(
    readonly api: ApiName,
    baseUrl: string,
    private readonly tokens: TokenSource | undefined,
    private readonly timeoutMs: number,
  ) {
    this.pool = new Pool(baseUrl, { connections: 16, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  }

  async request<T>(options: RequestOptions<T>): Promise<JsonResponse<T>> {
    const token = this.tokens ? await this.tokens.token(options.signal) : undefined;
    const what = `${this.api} ${options.method} ${options.path}`;
    let response;
    try {
      response = await this.pool.request({
        method: options.method,
        path: options.path,
        headers: {
          accept: 'application/json',
          ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...options.headers,
        },
        body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
        signal: options.signal ?? AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      // Connection refused, reset, timed out, aborted: the request may never have arrived. Try again later.
      throw new ApiError(
        `${what} failed: ${err instanceof Error ? err.message : String(err)}`,
        this.api,
        undefined,
        true,
      );
    }
    const text = await response.body.text();
    const { statusCode: status } = response;
    const ok = (status >= 200 && status < 300) || options.okStatuses?.includes(status);
    if (!ok) {
      if (status === 401 && token) this.tokens?.invalidate(token);
      const retryAfterMs = parseRetryAfter(response.headers['retry-after']);
      throw new ApiError(
        `${what} returned ${status}`,
        this.api,
        status,
        isRetryableStatus(status),
        retryAfterMs,
        text ? text.slice(0, 2000) : undefined,
      );
    }
    if (!options.schema || status === 204 || !(status >= 200 && status < 300)) return { status, body: undefined };
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ApiError(`${what} returned ${status} with a body that is not JSON`, this.api, status, false);
    }
    const parsed = options.schema.safeParse(json);
    if (!parsed.success) {
      // The other side broke the contract; repeating the call will not fix that.
      throw new ApiError(
        `${what} returned a response that breaks the contract: ${describeIssues(parsed.error)}`,
        this.api,
        status,
        false,
      );
    }
    return { status, body: parsed.data };
  }

  /** Like request() but the response body is required. */
  async requestBody<T>(options: RequestOptions<T> & { schema: z.ZodType<T, z.ZodTypeDef, unknown> }): Promise<T> {
    const { body, status } = await this.request(options);
    if (body === undefined) {
      throw new ApiError(
        `${this.api} ${options.method} ${options.path} returned ${status} without a body`,
        this.api,
        status,
        false,
      );
    }
    return body;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

export function encode(segment: string | number): string {
  return encodeURIComponent(String(segment));
}
