import { setTimeout as sleep } from 'node:timers/promises';
import { requestResync } from '../../adapters/temporal';
import { startOrAttachBatch, watchBatch } from '../../clients/bulk-batch';
import { startInfra, stopInfra } from '../../infra/stack';
import { temporalServerSettings } from '../../infra/temporal-server';
import type { Harness } from '../helpers/harness';
import { prisonersOutOfSync, prisonerSyncResult, seedPrisoners, waitForPrisonerSync } from '../helpers/harness';
import { useHarness } from '../helpers/e2e';
import { config, uniqueSuffix } from '../helpers/stack';

// Our own PostgreSQL down for longer than the database activities' old retry budget (20 attempts, about 7.5
// minutes): resyncs that already replaced DPS wait to write their mappings, a bulk batch waits to read and record
// its outcomes, and all of them finish once the database is back. PG_OUTAGE_MS shortens it for a quick local run.

const OUTAGE_MS = Number(process.env.PG_OUTAGE_MS ?? 8.5 * 60_000);

// A full Temporal server whose databases live on the same PostgreSQL would go down with it: that is an outage of
// Temporal too, which nothing here claims to survive. Run it with the dev server, or TEMPORAL_DATABASE_URL set.
const temporalSharesThePostgres =
  temporalServerSettings(config).kind === 'server' && !process.env.TEMPORAL_DATABASE_URL;
const outageTest = temporalSharesThePostgres ? test.skip : test;

let harness: Harness;
useHarness('db-outage', (started) => (harness = started));

outageTest(
  'resyncs and a bulk batch that meet a long database outage wait it out and finish in sync',
  async () => {
    const prisonId = `D${uniqueSuffix().slice(0, 3).toUpperCase()}`;
    const prisoners = await seedPrisoners(harness, 6, prisonId);
    const single = prisoners.slice(0, 3);
    const batched = prisoners.slice(3);

    const since = new Date();
    await stopInfra(config, ['postgres']);
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
      await startInfra(config, ['postgres']);
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
