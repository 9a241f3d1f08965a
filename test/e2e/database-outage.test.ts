/**
 * @jest-environment node
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { requestResync } from '../../adapters/temporal';
import { startOrAttachBatch, watchBatch } from '../../clients/bulk-batch';
import type { Config } from '../../common/config';
import { startInfra, stopInfra } from '../../infra/stack';
import type { Harness } from '../helpers/harness';
import { prisonersOutOfSync, prisonerSyncResult, seedPrisoners, waitForPrisonerSync } from '../helpers/harness';
import { useHarness } from '../helpers/e2e';
import { outagePostgresConfig } from '../helpers/env';
import { uniqueSuffix } from '../helpers/stack';

// Our own PostgreSQL down for longer than the database activities' old retry budget (20 attempts, about 7.5
// minutes): resyncs that already replaced DPS wait to write their mappings, a bulk batch waits to read and record
// its outcomes, and all of them finish once the database is back. PG_OUTAGE_MS shortens it for a quick local run.
//
// The database that goes down is a PostgreSQL of this file's own, holding its worker's mappings: the stack's
// (shared with the other files, and with a full Temporal server's own databases) stays up. So this file runs
// beside the others (the docblock above; test/jest-one-at-a-time.cjs), and its eight and a half minutes of
// waiting overlap the rest of the suite instead of adding to it.

const OUTAGE_MS = Number(process.env.PG_OUTAGE_MS ?? 8.5 * 60_000);

let postgres: Config;
let harness: Harness;
beforeAll(async () => {
  postgres = outagePostgresConfig();
  await startInfra(postgres, ['postgres']);
}, 120_000);
useHarness(
  'db-outage',
  (started) => (harness = started),
  () => ({ databaseUrl: postgres.postgres.url }),
);
// Declared after the harness, so it runs after the harness has closed its connections.
afterAll(() => stopInfra(postgres, ['postgres']));

test(
  'resyncs and a bulk batch that meet a long database outage wait it out and finish in sync',
  async () => {
    const prisonId = `D${uniqueSuffix().slice(0, 3).toUpperCase()}`;
    const prisoners = await seedPrisoners(harness, 6, prisonId);
    const single = prisoners.slice(0, 3);
    const batched = prisoners.slice(3);

    const since = new Date();
    await stopInfra(postgres, ['postgres']);
    let batch: Awaited<ReturnType<typeof startOrAttachBatch>>;
    try {
      // Each of these reads NOMIS and replaces DPS, then meets the outage when it writes the mappings.
      for (const prisonNumber of single) {
        await requestResync(harness.client, harness.taskQueue, prisonNumber, 'during a database outage');
      }
      // The batch meets it at once: it asks the database which prisoners an earlier run already did.
      batch = await startOrAttachBatch(harness.client, harness.taskQueue, {
        prisonNumbers: batched,
        concurrency: 2,
        ratePerSecond: 10,
      });
      await sleep(OUTAGE_MS);
    } finally {
      await startInfra(postgres, ['postgres']);
    }

    const report = await watchBatch(batch.handle, () => undefined, 1000);
    expect(report).toMatchObject({ total: 3, done: 3, failed: 0 });
    for (const prisonNumber of single) {
      await waitForPrisonerSync(harness, prisonNumber, since, 5 * 60_000);
      expect((await prisonerSyncResult(harness, prisonNumber)).failedResyncs).toEqual([]);
    }
    expect(await prisonersOutOfSync(harness, prisoners)).toEqual([]);
  },
  OUTAGE_MS + 10 * 60_000,
);
