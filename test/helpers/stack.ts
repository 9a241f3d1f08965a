import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { Kafka } from 'kafkajs';
import { createDb, migrateLatest } from '../../adapters/db';
import type { Db } from '../../adapters/db';
import { kafkaClient } from '../../adapters/kafka';
import { connectClient, connectWorker } from '../../adapters/temporal';
import { loadConfig } from '../../common/config';
import { applyTestStackEnv } from './env';

applyTestStackEnv();
export const config = loadConfig();

// Workers' INFO lines would bury the test report; warnings and errors still show.
try {
  Runtime.install({ logger: new DefaultLogger(process.env.TEST_LOG_LEVEL === 'debug' ? 'DEBUG' : 'WARN') });
} catch {
  // already installed by an earlier test file in this process
}

export function uniqueSuffix(): string {
  return randomUUID().slice(0, 8);
}

export function temporalClient(
  address = config.temporal.address,
): Promise<{ client: Client; close: () => Promise<void> }> {
  return connectClient(config, { address });
}

export function workerConnection(): Promise<NativeConnection> {
  return connectWorker(config);
}

/** The test stack's database, or the one at `url`, migrated to the latest schema. */
export async function migratedDb(url = config.postgres.url): Promise<Db> {
  const db = createDb(url);
  await migrateLatest(db);
  return db;
}

export function kafka(clientId: string): Kafka {
  return kafkaClient(config, clientId);
}

/** Polls until check() returns a value; for eventually-consistent reads such as Temporal visibility. */
export async function eventually<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`gave up waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
