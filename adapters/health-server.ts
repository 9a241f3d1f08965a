import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createTcpServer } from 'node:net';
import { cached } from './metrics';

// Kubernetes probes and the Prometheus scrape, on a port of their own so that neither depends on the
// process's real work (the router has no HTTP API; the worker only polls).

export interface Readiness {
  ready: boolean;
  /** Why not ready: shown in the 503 body, so a failing probe explains itself in `kubectl describe`. */
  why?: string;
}

export interface HealthServerOptions {
  port: number;
  /** Liveness: false only when the process is wedged and a restart would help. */
  live: () => boolean;
  ready: () => Promise<Readiness>;
  /** Prometheus text exposition format 0.0.4. */
  metrics: () => Promise<string>;
  host?: string;
}

export interface HealthServer {
  port: number;
  close: () => Promise<void>;
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const json = (status: number, body: object) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(405, { error: 'method not allowed' });
    const answer = async (): Promise<void> => {
      switch (path) {
        case '/health/liveness': {
          const live = options.live();
          return json(live ? 200 : 503, { status: live ? 'UP' : 'DOWN' });
        }
        case '/health/readiness': {
          const { ready, why } = await options.ready();
          return json(ready ? 200 : 503, ready ? { status: 'UP' } : { status: 'DOWN', why });
        }
        case '/metrics': {
          const text = await options.metrics();
          res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE });
          res.end(text);
          return;
        }
        default:
          return json(404, { error: `no ${path} here` });
      }
    };
    // A probe that throws is a failed probe, not a crashed process.
    answer().catch((err: unknown) => {
      if (!res.headersSent) json(503, { status: 'DOWN', why: err instanceof Error ? err.message : String(err) });
      else res.end();
    });
  });
  // Keep-alive sockets from a scraper must not hold up a graceful shutdown.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** What a Temporal connection offers a probe; the client's Connection and the worker's NativeConnection alike. */
interface TemporalHealthCheckable {
  withDeadline<R>(deadline: number | Date, fn: () => Promise<R>): Promise<R>;
  healthService: { check(request: object): Promise<unknown> };
}

/**
 * Whether the Temporal frontend answers its gRPC health check, for readiness probes: false before the process
 * has connected; a probe storm shares one answer for 2 s.
 */
export function temporalReachability(connection: () => TemporalHealthCheckable | undefined): () => Promise<boolean> {
  return cached(2_000, async () => {
    const c = connection();
    if (!c) return false;
    await c.withDeadline(Date.now() + 2_000, () => c.healthService.check({}));
    return true;
  });
}

/** A TCP port free on loopback now (for a listener the caller starts next, e.g. the SDK's metrics exporter). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createTcpServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
