import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Config } from '../common/config';
import { ConfigError } from '../common/config';

// The full Temporal server (STACK_TEMPORAL=server): the same binary and PostgreSQL persistence a deployment runs,
// all services in one process, instead of the CLI's dev server on SQLite. This module holds its settings; the files
// generated from them are in infra/stack/temporal-server-config.ts, its database schema, namespace and search
// attributes in infra/stack/temporal-server-setup.ts, and infra/stack/temporal.ts turns it into a supervised process.
// docs/temporal-server.md is the operator's view.

export type TemporalKind = 'dev' | 'server';

export interface SqlDatabase {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

export interface TemporalServerTls {
  caFile: string;
  certFile: string;
  keyFile: string;
  /** mTLS: the frontend refuses clients without a certificate signed by caFile. */
  requireClientAuth: boolean;
  /** What the stack's own clients (system worker, Web UI, health checks) present: client.pem, else the server's. */
  clientCertFile: string;
  clientKeyFile: string;
  /** The name those clients expect in the server certificate. */
  serverName: string;
}

export interface TemporalServerSettings {
  kind: TemporalKind;
  historyShards: number;
  databases: { default: SqlDatabase; visibility: SqlDatabase };
  tls?: TemporalServerTls;
  codecEndpoint?: string;
}

const unsetIfEmpty = (value: unknown) => (value === '' ? undefined : value);

const envSchema = z.object({
  STACK_TEMPORAL: z.preprocess(
    unsetIfEmpty,
    z.enum(['dev', 'server'], { errorMap: () => ({ message: 'STACK_TEMPORAL must be dev or server' }) }).default('dev'),
  ),
  TEMPORAL_HISTORY_SHARDS: z.preprocess(
    unsetIfEmpty,
    z.coerce
      .number({ invalid_type_error: 'TEMPORAL_HISTORY_SHARDS must be a whole number above 0' })
      .int('TEMPORAL_HISTORY_SHARDS must be a whole number above 0')
      .positive('TEMPORAL_HISTORY_SHARDS must be a whole number above 0')
      .default(4),
  ),
  TEMPORAL_DATABASE_URL: z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .url('TEMPORAL_DATABASE_URL must be a postgres:// URL')
      .regex(/^postgres(ql)?:\/\//, 'TEMPORAL_DATABASE_URL must be a postgres:// URL')
      .optional(),
  ),
  STACK_TEMPORAL_TLS_DIR: z.preprocess(unsetIfEmpty, z.string().optional()),
  STACK_TEMPORAL_MTLS: z.preprocess(
    unsetIfEmpty,
    z.enum(['on', 'off'], { errorMap: () => ({ message: 'STACK_TEMPORAL_MTLS must be on or off' }) }).default('off'),
  ),
  TEMPORAL_CODEC_ENDPOINT: z.preprocess(
    unsetIfEmpty,
    z.string().url('TEMPORAL_CODEC_ENDPOINT must be a URL').optional(),
  ),
});

/** The stack's Temporal settings; they configure the stack only, so they live here rather than in common/config. */
export function temporalServerSettings(
  config: Config,
  env: Record<string, string | undefined> = process.env,
): TemporalServerSettings {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(`Invalid configuration: ${parsed.error.issues.map((issue) => issue.message).join('; ')}`);
  }
  const e = parsed.data;
  // Temporal's two databases sit beside the application's on the same server unless told otherwise.
  const base = e.TEMPORAL_DATABASE_URL ?? withDatabase(config.postgres.url, 'temporal');
  const main = sqlDatabase(base);
  return {
    kind: e.STACK_TEMPORAL,
    historyShards: e.TEMPORAL_HISTORY_SHARDS,
    databases: { default: main, visibility: { ...main, database: `${main.database}_visibility` } },
    tls: e.STACK_TEMPORAL_TLS_DIR
      ? serverTls(path.resolve(e.STACK_TEMPORAL_TLS_DIR), e.STACK_TEMPORAL_MTLS === 'on', config)
      : undefined,
    // The stack's own codec server (an app service of bin/start), so the Web UI shows decoded payloads.
    codecEndpoint: e.TEMPORAL_CODEC_ENDPOINT ?? config.codecServer.url,
  };
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

function sqlDatabase(url: string): SqlDatabase {
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: Number(parsed.port || 5432),
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    database: decodeURIComponent(parsed.pathname.slice(1)) || 'temporal',
  };
}

function serverTls(dir: string, requireClientAuth: boolean, config: Config): TemporalServerTls {
  const file = (name: string) => path.join(dir, name);
  const hasClientPair = fs.existsSync(file('client.pem')) && fs.existsSync(file('client-key.pem'));
  return {
    caFile: file('ca.pem'),
    certFile: file('server.pem'),
    keyFile: file('server-key.pem'),
    requireClientAuth,
    clientCertFile: hasClientPair ? file('client.pem') : file('server.pem'),
    clientKeyFile: hasClientPair ? file('client-key.pem') : file('server-key.pem'),
    serverName: config.temporal.tls.serverName ?? 'localhost',
  };
}
