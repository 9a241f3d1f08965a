import type { Duration } from '@temporalio/common';
import { z } from 'zod';
import { SYNC_TASK_QUEUE } from './task-queues';

// Every setting comes from the environment with a default, so the same code runs the dev stack, the test
// stack (other ports) and a deployment pointed at real services. Errors name the variable.

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
  API_CLIENT_SECRET: text('alerts-sync-secret'),
  API_TIMEOUT_MS: z.coerce.number().int().positive().optional().default(10_000),
  SYNC_NOMIS_TO_DPS: z.enum(['on', 'off']).optional().default('on'),
  SYNC_DPS_TO_NOMIS: z.enum(['on', 'off']).optional().default('on'),
  BULK_RESYNC_CONCURRENCY: positiveInt('BULK_RESYNC_CONCURRENCY', 20),
  BULK_RESYNC_RATE: positiveNumber('BULK_RESYNC_RATE', 10),
  RECONCILIATION_INTERVAL: duration('RECONCILIATION_INTERVAL', '1h'),
  RECONCILIATION_RECHECK_DELAY: duration('RECONCILIATION_RECHECK_DELAY', '30s'),
  RECONCILIATION_AUTO_RESYNC: z.enum(['on', 'off']).optional().default('off'),
  RECONCILIATION_PAGE_SIZE: positiveInt('RECONCILIATION_PAGE_SIZE', 100),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).optional().default('info'),
});

export interface Config {
  stackDir: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  temporal: { port: number; uiPort: number; address: string; namespace: string; taskQueue: string; uiUrl: string };
  kafka: {
    port: number;
    controllerPort: number;
    brokers: string[];
    consumerGroup: string;
    topics: { offenderEvents: string; domainEvents: string; dlq: string };
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
  /** ADR002's end state switches alert-level directions off one at a time, without a code change. */
  directions: { nomisToDps: boolean; dpsToNomis: boolean };
  postgres: { port: number; url: string; embedded: boolean };
  /** Defaults of the bulk resync client: prisoners resyncing at once, and resyncs started per second. */
  bulkResync: { concurrency: number; ratePerSecond: number };
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

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const reasons = parsed.error.issues.map((issue) =>
      issue.code === z.ZodIssueCode.custom ? issue.message : `${issue.path.join('.')}: ${issue.message}`,
    );
    throw new ConfigError(`Invalid configuration: ${reasons.join('; ')}`);
  }
  const e = parsed.data;
  return {
    stackDir: e.STACK_DIR,
    logLevel: e.LOG_LEVEL,
    temporal: {
      port: e.TEMPORAL_PORT,
      uiPort: e.TEMPORAL_UI_PORT,
      address: e.TEMPORAL_ADDRESS || `127.0.0.1:${e.TEMPORAL_PORT}`,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      uiUrl: `http://127.0.0.1:${e.TEMPORAL_UI_PORT}`,
    },
    kafka: {
      port: e.KAFKA_PORT,
      controllerPort: e.KAFKA_CONTROLLER_PORT,
      brokers: (e.KAFKA_BROKERS || `127.0.0.1:${e.KAFKA_PORT}`).split(',').map((b) => b.trim()),
      consumerGroup: e.KAFKA_CONSUMER_GROUP,
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
    directions: { nomisToDps: e.SYNC_NOMIS_TO_DPS === 'on', dpsToNomis: e.SYNC_DPS_TO_NOMIS === 'on' },
    simulators: { nomisPort: e.SIM_NOMIS_PORT, dpsPort: e.SIM_DPS_PORT, authPort: e.SIM_AUTH_PORT },
    postgres: {
      port: e.POSTGRES_PORT,
      url: e.DATABASE_URL || `postgres://postgres:postgres@127.0.0.1:${e.POSTGRES_PORT}/alerts_sync`,
      // An explicit DATABASE_URL means "use that server": the embedded one is not started.
      embedded: !e.DATABASE_URL,
    },
    bulkResync: { concurrency: e.BULK_RESYNC_CONCURRENCY, ratePerSecond: e.BULK_RESYNC_RATE },
    reconciliation: {
      interval: e.RECONCILIATION_INTERVAL,
      recheckDelay: e.RECONCILIATION_RECHECK_DELAY,
      autoResync: e.RECONCILIATION_AUTO_RESYNC === 'on',
      pageSize: e.RECONCILIATION_PAGE_SIZE,
    },
  };
}
