import { createHash } from 'node:crypto';
import type { Duration } from '@temporalio/common';
import { z } from 'zod';
import type { SyncSwitches } from './sync-switches';
import { SYNC_TASK_QUEUE } from './task-queues';

// Every setting comes from the environment with a default, so the same code runs the dev stack, the test
// stack (other ports) and a deployment pointed at real services. Errors name the variable. Some 400 lines, kept
// whole: one schema of every variable with its default beside one typed view of it, which the README's table
// and the chart's values follow; split, a variable's default and its meaning would live in different files.

const DEFAULT_API_CLIENT_SECRET = 'alerts-sync-secret';

/** A number from the environment; `valid` says what is wrong with it, if anything, for the error message. */
const number = (name: string, fallback: number, valid: (value: number) => string | undefined) =>
  z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw === '') return fallback;
      const problem = valid(Number(raw));
      if (problem) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${name} must be ${problem}, got "${raw}"` });
        return z.NEVER;
      }
      return Number(raw);
    });

const port = (name: string, fallback: number) =>
  number(name, fallback, (n) => (Number.isInteger(n) && n >= 1 && n <= 65535 ? undefined : 'a TCP port 1-65535'));
const positiveNumber = (name: string, fallback: number) =>
  number(name, fallback, (n) => (Number.isFinite(n) && n > 0 ? undefined : 'a number above 0'));
const positiveInt = (name: string, fallback: number) =>
  number(name, fallback, (n) => (Number.isInteger(n) && n > 0 ? undefined : 'a whole number above 0'));

const onOff = (name: string) =>
  z.enum(['on', 'off'], { errorMap: () => ({ message: `${name} must be on or off` }) }).optional();

const text = (fallback: string) =>
  z
    .string()
    .optional()
    .transform((raw) => (raw === undefined || raw === '' ? fallback : raw));

/** Temporal's duration strings as operators type them: 90s, 15m, 1h, 1d. */
const DURATION = /^(\d+)(ms|s|m|h|d)$/;
const duration = (name: string, fallback: string) =>
  text(fallback).transform((value, ctx): Duration => {
    if (!DURATION.test(value)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `${name} must be a duration like 90s, 15m, 1h or 1d, got "${value}"`,
      });
      return z.NEVER;
    }
    return value as Duration;
  });

const envSchema = z.object({
  STACK_DIR: text('.stack/dev'),
  TEMPORAL_PORT: port('TEMPORAL_PORT', 7233),
  TEMPORAL_UI_PORT: port('TEMPORAL_UI_PORT', 8233),
  TEMPORAL_ADDRESS: z.string().optional(),
  TEMPORAL_NAMESPACE: text('default'),
  TEMPORAL_TASK_QUEUE: text(SYNC_TASK_QUEUE),
  KAFKA_PORT: port('KAFKA_PORT', 9092),
  KAFKA_CONTROLLER_PORT: port('KAFKA_CONTROLLER_PORT', 9093),
  KAFKA_BROKERS: z.string().optional(),
  POSTGRES_PORT: port('POSTGRES_PORT', 5433),
  DATABASE_URL: z.string().optional(),
  KAFKA_TOPIC_OFFENDER_EVENTS: text('nomis.offender-events'),
  KAFKA_TOPIC_DOMAIN_EVENTS: text('hmpps.domain-events'),
  KAFKA_TOPIC_DLQ: text('alerts-sync.dlq'),
  KAFKA_CONSUMER_GROUP: text('alerts-sync-router'),
  SIM_NOMIS_PORT: port('SIM_NOMIS_PORT', 8081),
  SIM_DPS_PORT: port('SIM_DPS_PORT', 8082),
  SIM_AUTH_PORT: port('SIM_AUTH_PORT', 8090),
  NOMIS_API_URL: z.string().url('NOMIS_API_URL must be a URL').optional(),
  DPS_API_URL: z.string().url('DPS_API_URL must be a URL').optional(),
  HMPPS_AUTH_URL: z.string().url('HMPPS_AUTH_URL must be a URL').optional(),
  API_CLIENT_ID: text('alerts-sync'),
  API_CLIENT_SECRET: text(DEFAULT_API_CLIENT_SECRET),
  API_TIMEOUT_MS: z.coerce.number().int().positive().optional().default(10_000),
  SYNC_NOMIS_TO_DPS: z.enum(['on', 'off']).optional().default('on'),
  SYNC_DPS_TO_NOMIS: z.enum(['on', 'off']).optional().default('on'),
  RESYNC_SOURCE: z
    .enum(['nomis', 'dps'], { errorMap: () => ({ message: 'RESYNC_SOURCE must be nomis or dps' }) })
    .optional()
    .default('nomis'),
  SYNC_SWITCHES_CACHE_MS: positiveInt('SYNC_SWITCHES_CACHE_MS', 2_000),
  ROUTER_PARTITIONS_AT_ONCE: positiveInt('ROUTER_PARTITIONS_AT_ONCE', 6),
  ROUTER_LANES_PER_PARTITION: positiveInt('ROUTER_LANES_PER_PARTITION', 16),
  ROUTER_REQUESTS_PER_SIGNAL: positiveInt('ROUTER_REQUESTS_PER_SIGNAL', 50),
  BULK_RESYNC_CONCURRENCY: positiveInt('BULK_RESYNC_CONCURRENCY', 20),
  BULK_RESYNC_RATE: positiveNumber('BULK_RESYNC_RATE', 10),
  RECONCILIATION_INTERVAL: duration('RECONCILIATION_INTERVAL', '1h'),
  RECONCILIATION_RECHECK_DELAY: duration('RECONCILIATION_RECHECK_DELAY', '30s'),
  RECONCILIATION_AUTO_RESYNC: z.enum(['on', 'off']).optional().default('off'),
  RECONCILIATION_PAGE_SIZE: positiveInt('RECONCILIATION_PAGE_SIZE', 100),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).optional().default('info'),
  NODE_ENV: z.string().optional(),
  TEMPORAL_TLS: onOff('TEMPORAL_TLS'),
  TEMPORAL_TLS_CA: z.string().optional(),
  TEMPORAL_TLS_CERT: z.string().optional(),
  TEMPORAL_TLS_KEY: z.string().optional(),
  TEMPORAL_TLS_SERVER_NAME: z.string().optional(),
  TEMPORAL_API_KEY: z.string().optional(),
  KAFKA_SSL: onOff('KAFKA_SSL'),
  KAFKA_SSL_CA: z.string().optional(),
  KAFKA_SSL_CERT: z.string().optional(),
  KAFKA_SSL_KEY: z.string().optional(),
  KAFKA_SASL_MECHANISM: z
    .enum(['plain', 'scram-sha-256', 'scram-sha-512'], {
      errorMap: () => ({ message: 'KAFKA_SASL_MECHANISM must be plain, scram-sha-256 or scram-sha-512' }),
    })
    .optional(),
  KAFKA_SASL_USERNAME: z.string().optional(),
  KAFKA_SASL_PASSWORD: z.string().optional(),
  PAYLOAD_ENCRYPTION_KEYS: z.string().optional(),
  PAYLOAD_ENCRYPTION_KEY_ID: z.string().optional(),
  CODEC_SERVER_PORT: port('CODEC_SERVER_PORT', 8888),
  CODEC_SERVER_URL: z.string().url('CODEC_SERVER_URL must be a URL').optional(),
  CODEC_SERVER_TOKEN: z.string().optional(),
  CODEC_CORS_ORIGINS: z.string().optional(),
  HEALTH_PORT: port('HEALTH_PORT', 0),
  WORKER_HEALTH_PORT: port('WORKER_HEALTH_PORT', 9464),
  ROUTER_HEALTH_PORT: port('ROUTER_HEALTH_PORT', 9465),
  SHUTDOWN_GRACE: duration('SHUTDOWN_GRACE', '25s'),
  WORKER_CACHED_WORKFLOWS: positiveInt('WORKER_CACHED_WORKFLOWS', 500),
  BULK_REPORTS_GROUPED: onOff('BULK_REPORTS_GROUPED'),
});

export interface Config {
  stackDir: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** NODE_ENV=production: default credentials are refused (see productionProblems). */
  production: boolean;
  temporal: {
    port: number;
    uiPort: number;
    address: string;
    namespace: string;
    taskQueue: string;
    uiUrl: string;
    /** TLS to the frontend; a client certificate and key make it mTLS. */
    tls: { enabled: boolean; caPath?: string; certPath?: string; keyPath?: string; serverName?: string };
    /** Temporal Cloud style API key, sent as a bearer token (implies TLS unless TEMPORAL_TLS=off). */
    apiKey?: string;
  };
  kafka: {
    ssl: { enabled: boolean; caPath?: string; certPath?: string; keyPath?: string };
    sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
    port: number;
    controllerPort: number;
    brokers: string[];
    consumerGroup: string;
    topics: { offenderEvents: string; domainEvents: string; dlq: string };
    /** The router's partitions handled side by side, and prisoners (keys) of one partition's batch side by side. */
    partitionsAtOnce: number;
    lanesPerPartition: number;
    /** One prisoner's consecutive requests in one signal at most; 1 while workers older than syncsRequested run. */
    requestsPerSignal: number;
  };
  /** The external systems; by default the simulators on their default ports. */
  apis: {
    nomisUrl: string;
    dpsUrl: string;
    authUrl: string;
    clientId: string;
    clientSecret: string;
    timeoutMs: number;
  };
  simulators: { nomisPort: number; dpsPort: number; authPort: number };
  /**
   * ADR002's and ADR004's switches (common/sync-switches.ts). They live in the database and change at run time
   * (`npm run switches`); these are only the values recorded at first start, and how long a process may keep a
   * value it read.
   */
  switches: { defaults: SyncSwitches; cacheMs: number };
  postgres: { port: number; url: string; embedded: boolean };
  /** Defaults of the bulk resync client: prisoners resyncing at once, and resyncs started per second. */
  bulkResync: { concurrency: number; ratePerSecond: number };
  /** AES-256-GCM keys for Temporal payloads; `keyId` encrypts, every key decrypts (rotation). */
  encryption: { keys: EncryptionKey[]; keyId: string; usingDevelopmentKey: boolean };
  codecServer: { port: number; url: string; token?: string; corsOrigins: string[] };
  /** Where each process serves /health/liveness, /health/readiness and /metrics. */
  health: { workerPort: number; routerPort: number };
  /** What a worker waits for in-flight activities on SIGTERM; below Kubernetes' 30 s grace period. */
  shutdownGrace: Duration;
  /**
   * Running workflows a worker keeps in memory between tasks. Set, not derived: the SDK's default follows V8's
   * heap limit, and the chart's limit would leave room for about 20, fewer than a bulk batch's window, so the
   * batch itself would be evicted and replayed from its whole history again and again.
   */
  cachedWorkflows: number;
  /**
   * A batch's prisoners report to it a few to a signal (resyncsFinished). Off while workers are upgraded from a
   * release whose batches cannot take that signal: a rolling update runs both releases for a while.
   */
  bulkReportsGrouped: boolean;
  reconciliation: {
    /** How often the Temporal Schedule runs it. */
    interval: Duration;
    /** A mismatch is checked again after this long before it is reported (it may be a sync still in flight). */
    recheckDelay: Duration;
    /** Start a resync for each mismatched prisoner. */
    autoResync: boolean;
    pageSize: number;
  };
}

export interface EncryptionKey {
  id: string;
  key: Buffer;
}

/**
 * Development stacks encrypt too, with this well-known key, so the codec path is always exercised;
 * productionProblems() refuses it.
 */
const DEVELOPMENT_KEY: EncryptionKey = {
  id: 'dev-1',
  key: createHash('sha256').update('alerts-sync development key: not a secret').digest(),
};

function parseEncryptionKeys(raw: string | undefined, problems: string[]): EncryptionKey[] {
  if (raw === undefined || raw.trim() === '') return [DEVELOPMENT_KEY];
  return raw.split(',').map((entry) => {
    const [id, encoded] = entry.trim().split('=', 2);
    const key = Buffer.from(encoded ?? '', 'base64');
    if (!id || key.length !== 32) {
      problems.push(
        `PAYLOAD_ENCRYPTION_KEYS must be keyId=<32 bytes in base64>,... (AES-256), got an entry "${id ?? ''}" of ${key.length} bytes`,
      );
    }
    return { id: id ?? '', key };
  });
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

// Over 80 lines: one line per setting, read top to bottom in the order of the README's table; split, it would
// hide which setting a problem came from.
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const reasons = parsed.error.issues.map((issue) =>
      issue.code === z.ZodIssueCode.custom ? issue.message : `${issue.path.join('.')}: ${issue.message}`,
    );
    throw new ConfigError(`Invalid configuration: ${reasons.join('; ')}`);
  }
  const e = parsed.data;
  const problems: string[] = [];
  const keys = parseEncryptionKeys(e.PAYLOAD_ENCRYPTION_KEYS, problems);
  const keyId = e.PAYLOAD_ENCRYPTION_KEY_ID || keys[0]!.id;
  if (!keys.some((k) => k.id === keyId)) {
    problems.push(`PAYLOAD_ENCRYPTION_KEY_ID "${keyId}" is not one of the ids in PAYLOAD_ENCRYPTION_KEYS`);
  }
  const sasl = e.KAFKA_SASL_MECHANISM;
  if (sasl && (!e.KAFKA_SASL_USERNAME || !e.KAFKA_SASL_PASSWORD)) {
    problems.push('KAFKA_SASL_MECHANISM needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD');
  }
  if (Boolean(e.TEMPORAL_TLS_CERT) !== Boolean(e.TEMPORAL_TLS_KEY)) {
    problems.push('TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together (a client certificate for mTLS)');
  }
  if (problems.length > 0) throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  const uiUrl = `http://127.0.0.1:${e.TEMPORAL_UI_PORT}`;
  const temporalTls =
    e.TEMPORAL_TLS === 'on' ||
    (e.TEMPORAL_TLS !== 'off' && Boolean(e.TEMPORAL_TLS_CA || e.TEMPORAL_TLS_CERT || e.TEMPORAL_API_KEY));
  return {
    production: e.NODE_ENV === 'production',
    stackDir: e.STACK_DIR,
    logLevel: e.LOG_LEVEL,
    temporal: {
      port: e.TEMPORAL_PORT,
      uiPort: e.TEMPORAL_UI_PORT,
      address: e.TEMPORAL_ADDRESS || `127.0.0.1:${e.TEMPORAL_PORT}`,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      uiUrl,
      tls: {
        enabled: temporalTls,
        caPath: e.TEMPORAL_TLS_CA,
        certPath: e.TEMPORAL_TLS_CERT,
        keyPath: e.TEMPORAL_TLS_KEY,
        serverName: e.TEMPORAL_TLS_SERVER_NAME,
      },
      apiKey: e.TEMPORAL_API_KEY || undefined,
    },
    kafka: {
      port: e.KAFKA_PORT,
      controllerPort: e.KAFKA_CONTROLLER_PORT,
      brokers: (e.KAFKA_BROKERS || `127.0.0.1:${e.KAFKA_PORT}`).split(',').map((b) => b.trim()),
      consumerGroup: e.KAFKA_CONSUMER_GROUP,
      partitionsAtOnce: e.ROUTER_PARTITIONS_AT_ONCE,
      lanesPerPartition: e.ROUTER_LANES_PER_PARTITION,
      requestsPerSignal: e.ROUTER_REQUESTS_PER_SIGNAL,
      ssl: {
        enabled: e.KAFKA_SSL === 'on' || (e.KAFKA_SSL !== 'off' && Boolean(e.KAFKA_SSL_CA)),
        caPath: e.KAFKA_SSL_CA,
        certPath: e.KAFKA_SSL_CERT,
        keyPath: e.KAFKA_SSL_KEY,
      },
      sasl: sasl && { mechanism: sasl, username: e.KAFKA_SASL_USERNAME!, password: e.KAFKA_SASL_PASSWORD! },
      topics: {
        offenderEvents: e.KAFKA_TOPIC_OFFENDER_EVENTS,
        domainEvents: e.KAFKA_TOPIC_DOMAIN_EVENTS,
        dlq: e.KAFKA_TOPIC_DLQ,
      },
    },
    apis: {
      nomisUrl: e.NOMIS_API_URL || `http://127.0.0.1:${e.SIM_NOMIS_PORT}`,
      dpsUrl: e.DPS_API_URL || `http://127.0.0.1:${e.SIM_DPS_PORT}`,
      authUrl: e.HMPPS_AUTH_URL || `http://127.0.0.1:${e.SIM_AUTH_PORT}`,
      clientId: e.API_CLIENT_ID,
      clientSecret: e.API_CLIENT_SECRET,
      timeoutMs: e.API_TIMEOUT_MS,
    },
    switches: {
      defaults: {
        resyncSource: e.RESYNC_SOURCE === 'dps' ? 'DPS' : 'NOMIS',
        nomisToDps: e.SYNC_NOMIS_TO_DPS === 'on',
        dpsToNomis: e.SYNC_DPS_TO_NOMIS === 'on',
      },
      cacheMs: e.SYNC_SWITCHES_CACHE_MS,
    },
    simulators: { nomisPort: e.SIM_NOMIS_PORT, dpsPort: e.SIM_DPS_PORT, authPort: e.SIM_AUTH_PORT },
    postgres: {
      port: e.POSTGRES_PORT,
      url: e.DATABASE_URL || `postgres://postgres:postgres@127.0.0.1:${e.POSTGRES_PORT}/alerts_sync`,
      // An explicit DATABASE_URL means "use that server": the embedded one is not started.
      embedded: !e.DATABASE_URL,
    },
    bulkResync: { concurrency: e.BULK_RESYNC_CONCURRENCY, ratePerSecond: e.BULK_RESYNC_RATE },
    encryption: { keys, keyId, usingDevelopmentKey: keys.some((k) => k.key.equals(DEVELOPMENT_KEY.key)) },
    codecServer: {
      port: e.CODEC_SERVER_PORT,
      url: e.CODEC_SERVER_URL || `http://127.0.0.1:${e.CODEC_SERVER_PORT}`,
      token: e.CODEC_SERVER_TOKEN || undefined,
      corsOrigins: (e.CODEC_CORS_ORIGINS || uiUrl)
        .split(',')
        .map((origin) => origin.trim())
        .filter(Boolean),
    },
    health: {
      workerPort: e.HEALTH_PORT || e.WORKER_HEALTH_PORT,
      routerPort: e.HEALTH_PORT || e.ROUTER_HEALTH_PORT,
    },
    shutdownGrace: e.SHUTDOWN_GRACE,
    cachedWorkflows: e.WORKER_CACHED_WORKFLOWS,
    bulkReportsGrouped: e.BULK_REPORTS_GROUPED !== 'off',
    reconciliation: {
      interval: e.RECONCILIATION_INTERVAL,
      recheckDelay: e.RECONCILIATION_RECHECK_DELAY,
      autoResync: e.RECONCILIATION_AUTO_RESYNC === 'on',
      pageSize: e.RECONCILIATION_PAGE_SIZE,
    },
  };
}

/** What a process needs to be safe outside development; each process asks for what it uses. */
export type ProductionNeed = 'apis' | 'database' | 'encryption' | 'codecServer' | 'temporal' | 'kafka';

/**
 * Everything that would run with a well-known default credential, or none, in production. Empty outside
 * production: the dev and test stacks run on defaults by design.
 */
export function productionProblems(config: Config, needs: ProductionNeed[]): string[] {
  if (!config.production) return [];
  const problems: string[] = [];
  const need = (what: ProductionNeed, ok: boolean, problem: string) => {
    if (needs.includes(what) && !ok) problems.push(problem);
  };
  need(
    'apis',
    config.apis.clientSecret !== DEFAULT_API_CLIENT_SECRET,
    'API_CLIENT_SECRET is unset or the development default: set the HMPPS Auth client secret',
  );
  need('database', !config.postgres.embedded, 'DATABASE_URL is unset: set the PostgreSQL URL with its credentials');
  need(
    'encryption',
    !config.encryption.usingDevelopmentKey,
    'PAYLOAD_ENCRYPTION_KEYS is unset or holds the development key: set keyId=<base64 AES-256 key>',
  );
  need('codecServer', config.codecServer.token !== undefined, 'CODEC_SERVER_TOKEN is unset: set a bearer token');
  need(
    'temporal',
    config.temporal.tls.enabled,
    'Temporal connection is plaintext: set TEMPORAL_TLS=on (with TEMPORAL_TLS_CA / _CERT / _KEY) or TEMPORAL_API_KEY',
  );
  need(
    'kafka',
    config.kafka.ssl.enabled || config.kafka.sasl !== undefined,
    'Kafka connection is plaintext and unauthenticated: set KAFKA_SSL=on and/or KAFKA_SASL_MECHANISM with credentials',
  );
  return problems;
}

/** Stops a process at start-up, naming every missing setting at once, rather than run insecurely. */
export function assertReadyForProduction(config: Config, needs: ProductionNeed[]): void {
  const problems = productionProblems(config, needs);
  if (problems.length > 0) {
    throw new ConfigError(`Refusing to start with NODE_ENV=production: ${problems.join('; ')}`);
  }
}
