import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { status } from '@grpc/grpc-js';
import type { Connection } from '@temporalio/client';
import { isGrpcServiceError } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import pg from 'pg';
import { z } from 'zod';
import type { Config } from '../common/config';
import { ConfigError } from '../common/config';
import { SEARCH_ATTRIBUTES } from '../common/search-attributes';

// The full Temporal server (STACK_TEMPORAL=server): the same binary and PostgreSQL persistence a deployment runs,
// all services in one process, instead of the CLI's dev server on SQLite. This module holds its settings and
// everything generated from them (server and Web UI configs, database schema, namespace and search attributes);
// infra/stack.ts turns them into supervised processes. docs/temporal-server.md is the operator's view.

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

/**
 * Ports from the frontend's: the dev (7233) and test (17233) stacks each take a block of ten, so they never meet.
 * Membership ports are ringpop's gossip between the services, here all in one process.
 */
export function serverPorts(frontend: number) {
  return {
    frontend,
    history: frontend + 1,
    matching: frontend + 2,
    worker: frontend + 3,
    membership: { frontend: frontend + 4, history: frontend + 5, matching: frontend + 6, worker: frontend + 7 },
    metrics: frontend + 8,
  };
}

/**
 * Keys as in go.temporal.io/server common/config/config.go (v1.31.2). Written as JSON, which is YAML too, so no
 * YAML library is needed and nothing in it can be misread as a template (`# enable-template`).
 */
export function serverConfig(config: Config, settings: TemporalServerSettings, dynamicConfigFile: string): object {
  const ports = serverPorts(config.temporal.port);
  const rpc = (grpcPort: number, membershipPort: number) => ({
    rpc: { grpcPort, membershipPort, bindOnIP: '127.0.0.1' },
  });
  const sql = (db: SqlDatabase, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName: db.database,
      connectAddr: `${db.host}:${db.port}`,
      connectProtocol: 'tcp',
      user: db.user,
      password: db.password,
      // Every service in the process opens its own pools: four services at these sizes stay well inside
      // PostgreSQL's default 100 connections, beside the sync's own pool.
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const tls = settings.tls;
  return {
    log: { stdout: true, level: 'warn' },
    persistence: {
      defaultStore: 'default',
      visibilityStore: 'visibility',
      numHistoryShards: settings.historyShards,
      datastores: { default: sql(settings.databases.default, 10), visibility: sql(settings.databases.visibility, 5) },
    },
    global: {
      membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' },
      pprof: { port: 0 },
      metrics: {
        prometheus: { framework: 'tally', timerType: 'histogram', listenAddress: `127.0.0.1:${ports.metrics}` },
      },
      ...(tls && {
        tls: {
          // Internode traffic stays plaintext on 127.0.0.1; only the frontend, which clients reach, serves TLS.
          frontend: {
            server: {
              certFile: tls.certFile,
              keyFile: tls.keyFile,
              requireClientAuth: tls.requireClientAuth,
              clientCaFiles: [tls.caFile],
            },
          },
          // The server's own system workers (schedules, batch, deletes) are frontend clients like any other.
          systemWorker: {
            certFile: tls.clientCertFile,
            keyFile: tls.clientKeyFile,
            client: { serverName: tls.serverName, rootCaFiles: [tls.caFile] },
          },
        },
      }),
    },
    services: {
      frontend: rpc(ports.frontend, ports.membership.frontend),
      history: rpc(ports.history, ports.membership.history),
      matching: rpc(ports.matching, ports.membership.matching),
      worker: rpc(ports.worker, ports.membership.worker),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: {
          enabled: true,
          initialFailoverVersion: 1,
          rpcName: 'frontend',
          rpcAddress: `127.0.0.1:${ports.frontend}`,
        },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    dynamicConfigClient: { filepath: dynamicConfigFile, pollInterval: '60s' },
  };
}

/**
 * Production defaults except where a one-host stack differs: visibility reads are capped at 10 per second per
 * namespace by default, which the Web UI's polling and the tests' waits would exceed (the dev server raises it too).
 */
export const DYNAMIC_CONFIG = {
  'frontend.namespaceRPS.visibility': [{ value: 100 }],
};

/** Keys as in github.com/temporalio/ui-server server/config/config.go (v2.53.3). */
export function uiConfig(config: Config, settings: TemporalServerSettings): object {
  const tls = settings.tls;
  return {
    temporalGrpcAddress: `127.0.0.1:${config.temporal.port}`,
    host: '127.0.0.1',
    port: config.temporal.uiPort,
    enableUi: true,
    defaultNamespace: config.temporal.namespace,
    // Served over plain HTTP on this host: a Secure-only CSRF cookie would never come back.
    cors: { cookieInsecure: true },
    hideLogs: true,
    ...(tls && {
      tls: {
        caFile: tls.caFile,
        certFile: tls.clientCertFile,
        keyFile: tls.clientKeyFile,
        serverName: tls.serverName,
        enableHostVerification: true,
      },
    }),
    ...(settings.codecEndpoint && { codec: { endpoint: settings.codecEndpoint } }),
  };
}

export function writeConfigFile(file: string, content: object): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // It holds the database password.
  fs.writeFileSync(
    file,
    `# written by infra/temporal-server.ts on every start\n${JSON.stringify(content, null, 2)}\n`,
    {
      mode: 0o600,
    },
  );
}

/** Creates Temporal's databases if missing and brings both schemas to the versions shipped with the server. */
export async function setupSchema(settings: TemporalServerSettings, sqlTool: string, schemaDir: string): Promise<void> {
  const stores = [
    { db: settings.databases.default, versioned: path.join(schemaDir, 'temporal', 'versioned') },
    { db: settings.databases.visibility, versioned: path.join(schemaDir, 'visibility', 'versioned') },
  ];
  for (const { db, versioned } of stores) {
    if (!fs.existsSync(versioned))
      throw new Error(`Missing the Temporal schema (run infra/provision.sh): ${versioned}`);
    await createDatabaseIfMissing(db);
    const run = (args: string[]) =>
      promisify(execFile)(
        sqlTool,
        [
          '--plugin',
          'postgres12',
          '--endpoint',
          db.host,
          '--port',
          String(db.port),
          '--user',
          db.user,
          '--database',
          db.database,
          ...args,
        ],
        // The password goes by environment, not argv, where any `ps` would show it.
        { env: { ...process.env, SQL_PASSWORD: db.password } },
      ).catch((err: unknown) => {
        const output = err && typeof err === 'object' && 'stderr' in err ? String(err.stderr) : '';
        throw new Error(`temporal-sql-tool ${args[0]} on ${db.database} failed: ${String(err)}\n${output}`);
      });
    // Both are idempotent: setup only creates the version tables, update applies only the newer versions.
    await run(['setup-schema', '-v', '0.0']);
    await run(['update-schema', '-d', versioned]);
  }
}

async function createDatabaseIfMissing(db: SqlDatabase): Promise<void> {
  const client = new pg.Client({
    host: db.host,
    port: db.port,
    user: db.user,
    password: db.password,
    database: 'postgres',
    connectionTimeoutMillis: 2000,
  });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `Temporal's database server ${db.host}:${db.port} is not reachable (is postgres up, or TEMPORAL_DATABASE_URL right?): ${String(err)}`,
    );
  }
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [db.database]);
    if (found.rowCount === 0) await client.query(`create database "${db.database.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}

const INDEXED_VALUE_TYPES: Record<(typeof SEARCH_ATTRIBUTES)[number]['type'], temporal.api.enums.v1.IndexedValueType> =
  {
    Keyword: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  };

/** Closed workflow histories are kept this long; enough to inspect a failed resync after a weekend. */
export const NAMESPACE_RETENTION_DAYS = 3;

/**
 * What the dev server does from its flags: the namespace (the full server starts with none) and the search
 * attributes the workflows set. Idempotent, so it can run on every health check until both are in place.
 */
export async function registerNamespaceAndSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  try {
    await connection.workflowService.describeNamespace({ namespace });
  } catch (err) {
    if (!isGrpcServiceError(err) || err.code !== status.NOT_FOUND) throw err;
    try {
      await connection.workflowService.registerNamespace({
        namespace,
        workflowExecutionRetentionPeriod: msToTs(`${NAMESPACE_RETENTION_DAYS}d`),
      });
    } catch (registerErr) {
      // Another `up` got there first.
      if (!isGrpcServiceError(registerErr) || registerErr.code !== status.ALREADY_EXISTS) throw registerErr;
    }
  }
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = SEARCH_ATTRIBUTES.filter((sa) => !(sa.name in (customAttributes ?? {})));
  if (missing.length > 0) {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((sa) => [sa.name, INDEXED_VALUE_TYPES[sa.type]])),
    });
  }
}
