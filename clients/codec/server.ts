import http from 'node:http';
import type { PayloadCodec } from '@temporalio/common';
import { z } from 'zod';
import { describeIssues } from '../../common/contract';

// The Web UI (and `temporal --codec-endpoint`) send encrypted payloads here to read them, so operators see
// decoded histories while Temporal stores ciphertext. The protocol is Temporal's remote codec: POST /decode or
// /encode with { payloads: [{ metadata: { key: base64 }, data: base64 }] }, answered in the same shape.

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
const requestSchema = z.object({
  payloads: z.array(z.object({ metadata: z.record(base64).optional(), data: base64.optional() })),
});
type JsonPayload = z.infer<typeof requestSchema>['payloads'][number];

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** Browser origins allowed to call (the Web UI's); other origins get no CORS headers and a 403. */
  corsOrigins: string[];
  /** When set, every call but a CORS preflight must carry `Authorization: Bearer <token>`. */
  token?: string;
  /** Largest request body accepted, in bytes. */
  maxBodyBytes?: number;
}

export function createCodecServer(options: CodecServerOptions): http.Server {
  const maxBodyBytes = options.maxBodyBytes ?? 4 * 1024 * 1024;
  return http.createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      // A payload that will not decode (a key that is not configured, a tampered ciphertext): say so, no detail.
      if (!res.headersSent) reply(res, 422, { error: err instanceof Error ? err.message : 'cannot process payloads' });
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://codec');
    if (url.pathname === '/health/liveness' || url.pathname === '/health/readiness') {
      return reply(res, 200, { status: 'UP' });
    }
    const origin = req.headers.origin;
    if (origin !== undefined) {
      if (!options.corsOrigins.includes(origin)) return reply(res, 403, { error: `origin ${origin} is not allowed` });
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.setHeader('Vary', 'Origin');
    }
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type, Authorization, X-Namespace');
      res.setHeader('Access-Control-Max-Age', '600');
      res.writeHead(204).end();
      return;
    }
    const direction = url.pathname.replace(/\/$/, '').split('/').pop();
    if (req.method !== 'POST' || (direction !== 'decode' && direction !== 'encode')) {
      return reply(res, 404, { error: 'POST /decode or /encode' });
    }
    if (options.token !== undefined && req.headers.authorization !== `Bearer ${options.token}`) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      return reply(res, 401, { error: 'a valid bearer token is required' });
    }
    const body = await readBody(req, maxBodyBytes);
    if (body === undefined) return reply(res, 413, { error: `body larger than ${maxBodyBytes} bytes` });
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      return reply(res, 400, { error: 'body is not JSON' });
    }
    const parsed = requestSchema.safeParse(json);
    if (!parsed.success) return reply(res, 400, { error: describeIssues(parsed.error) });
    const payloads = parsed.data.payloads.map(fromJson);
    const result = direction === 'decode' ? await options.codec.decode(payloads) : await options.codec.encode(payloads);
    return reply(res, 200, { payloads: result.map(toJson) });
  }
}

function fromJson(payload: JsonPayload) {
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))]),
    ),
    data: new Uint8Array(Buffer.from(payload.data ?? '', 'base64')),
  };
}

function toJson(payload: { metadata?: Record<string, Uint8Array> | null; data?: Uint8Array | null }): JsonPayload {
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
    ),
    data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64'),
  };
}

function readBody(req: http.IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > limit ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function reply(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
