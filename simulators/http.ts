import http from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { z } from 'zod';

// Just enough HTTP for the simulators: a pattern router, JSON in and out, and HMPPS-style error bodies
// (`{ status, userMessage, developerMessage }`) whose message names the bad field, so a failing sync
// says exactly which part of its request broke the contract.

export type ApiName = 'nomis' | 'dps' | 'auth';

export interface SimRequest {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  rawBody: string;
  route: Route;
}

export interface SimResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Handler = (request: SimRequest) => SimResponse | Promise<SimResponse>;

export interface Route {
  method: string;
  pattern: string;
  /** Set on contract API routes only: those are counted, can be faulted, and need a token when `role` is set. */
  api?: ApiName;
  role?: string;
  handler: Handler;
}

/** Runs before a contract API route: may answer in its place (a fault, 401/403) or leave it hanging. */
export type Gate = (request: SimRequest) => Promise<SimResponse | 'hang' | undefined>;

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly userMessage: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(userMessage);
  }
}

export const notFound = (what: string) => new HttpError(404, `${what} not found`);
export const badRequest = (message: string) => new HttpError(400, message);
export const conflict = (message: string) => new HttpError(409, message);

export function errorBody(status: number, userMessage: string, developerMessage = userMessage) {
  return { status, userMessage, developerMessage };
}

export const json = (status: number, body: unknown): SimResponse => ({ status, body });
export const noContent = (): SimResponse => ({ status: 204 });

/** Like describeIssues in common/contract.ts, but array positions read `[2].alertCode` as the sync's logs do. */
export function describeRequestIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const field = issue.path
        .map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? part : `.${part}`))
        .join('');
      return `${field || '(root)'}: ${issue.message}`;
    })
    .join('; ');
}

function parseJson(request: SimRequest): unknown {
  if (request.rawBody.trim() === '') return undefined;
  try {
    return JSON.parse(request.rawBody) as unknown;
  } catch {
    throw badRequest('(root): body is not valid JSON');
  }
}

export function validate<S extends z.ZodTypeAny>(schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw badRequest(describeRequestIssues(parsed.error));
  return parsed.data as z.infer<S>;
}

export const body = <S extends z.ZodTypeAny>(request: SimRequest, schema: S): z.infer<S> =>
  validate(schema, parseJson(request));

export function param(request: SimRequest, name: string): string {
  const value = request.params[name];
  if (value === undefined) throw new Error(`route ${request.route.pattern} has no :${name}`);
  return value;
}

export function intParam(request: SimRequest, name: string): number {
  const raw = param(request, name);
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < 1) {
    throw badRequest(`${name}: must be a positive whole number, got "${raw}"`);
  }
  return value;
}

interface CompiledRoute {
  route: Route;
  regex: RegExp;
  names: string[];
}

function compile(route: Route): CompiledRoute {
  const names: string[] = [];
  const source = route.pattern
    .split('/')
    .map((segment) => {
      if (!segment.startsWith(':')) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(segment.slice(1));
      return '([^/]+)';
    })
    .join('/');
  return { route, regex: new RegExp(`^${source}/?$`), names };
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: http.ServerResponse, response: SimResponse): void {
  if (res.writableEnded || res.destroyed) return;
  const headers: Record<string, string> = { ...response.headers };
  if (response.body === undefined) {
    res.writeHead(response.status, headers).end();
    return;
  }
  const text = JSON.stringify(response.body);
  headers['content-type'] ??= 'application/json';
  res.writeHead(response.status, headers).end(text);
}

/** Finds the route, runs the gate before a contract API route, and answers errors HMPPS-style. */
async function handleRequest(
  compiled: CompiledRoute[],
  options: { gate: Gate; onError?: (err: unknown) => void },
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://simulator');
  const method = (req.method ?? 'GET').toUpperCase();
  const rawBody = await readBody(req);
  let pathMatched = false;
  for (const { route, regex, names } of compiled) {
    const match = regex.exec(url.pathname);
    if (!match) continue;
    pathMatched = true;
    if (route.method !== method) continue;
    const params: Record<string, string> = {};
    names.forEach((name, i) => (params[name] = decodeURIComponent(match[i + 1] ?? '')));
    const request: SimRequest = {
      method,
      path: url.pathname,
      params,
      query: url.searchParams,
      headers: req.headers,
      rawBody,
      route,
    };
    try {
      if (route.api) {
        const gated = await options.gate(request);
        // A hung request is never answered: the client's own timeout is what is being tested.
        if (gated === 'hang') return;
        if (gated) return send(res, gated);
      }
      send(res, await route.handler(request));
    } catch (err) {
      if (err instanceof HttpError) {
        send(res, { status: err.status, body: errorBody(err.status, err.userMessage), headers: err.headers });
      } else {
        options.onError?.(err);
        send(res, { status: 500, body: errorBody(500, 'Simulator error', String(err)) });
      }
    }
    return;
  }
  send(
    res,
    pathMatched
      ? { status: 405, body: errorBody(405, `${method} not supported on ${url.pathname}`) }
      : { status: 404, body: errorBody(404, `No endpoint ${method} ${url.pathname}`) },
  );
}

export interface SimServer {
  url: string;
  close(): Promise<void>;
}

export async function startServer(options: {
  host: string;
  port: number;
  routes: Route[];
  gate: Gate;
  onError?: (err: unknown) => void;
}): Promise<SimServer> {
  const compiled = options.routes.map(compile);
  const server = http.createServer((req, res) => {
    handleRequest(compiled, options, req, res).catch((err: unknown) => {
      options.onError?.(err);
      send(res, { status: 500, body: errorBody(500, 'Simulator error', String(err)) });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  // A wildcard bind is reachable on loopback; a URL naming 0.0.0.0 is not usable by every client.
  const wildcard = address.address === '0.0.0.0' || address.address === '::';
  const host = wildcard ? '127.0.0.1' : address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive sockets and deliberately hung requests would otherwise hold close() open forever.
        server.closeAllConnections();
      }),
  };
}
