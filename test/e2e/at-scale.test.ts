import { startOrAttachBatch, watchBatch } from '../../clients/bulk-batch';
import { prisonerSyncWorkflowId } from '../../common/ids';
import { resyncFinishedSignal } from '../../workflows/messages';
import { reconciliationWorkflow } from '../../workflows/reconciliation';
import type { Harness } from '../helpers/harness';
import { prisonersOutOfSync, seedPrisoners, whenFaultFired } from '../helpers/harness';
import { useHarness } from '../helpers/e2e';
import { eventually, uniqueSuffix } from '../helpers/stack';

// Bulk batches and reconciliation as they must behave at estate scale: only their own reports count, a prisoner
// whose workflow dies does not hold the window for ever, their lists stay bounded, one prisoner's bad data is
// reported rather than fatal, and long reconciliations continue as new.

let harness: Harness;
useHarness('at-scale', (started) => (harness = started));
afterEach(async () => {
  await harness.control.clearFaults();
});

const prison = () => `S${uniqueSuffix().slice(0, 3).toUpperCase()}`;

test('10: a report meant for an earlier run of the batch does not count for this run', async () => {
  const [held, other] = await seedPrisoners(harness, 2, prison());
  await harness.control.setFaults([
    { api: 'dps', method: 'POST', path: `^/resync/${held}/`, latencyMs: 3000, status: 200, times: 1 },
  ]);
  const { handle } = await startOrAttachBatch(harness.client, harness.taskQueue, {
    prisonNumbers: [held!, other!],
    concurrency: 2,
    ratePerSecond: 10,
  });
  await whenFaultFired(harness, 'the slow resync to reach DPS');
  // What an earlier run's request, still in the prisoner's queue, reports when it ends.
  await handle.signal(resyncFinishedSignal, {
    prisonNumber: held!,
    ok: false,
    failure: 'report for an earlier run',
    eventIds: [`bulk:${handle.workflowId}:an-earlier-run:${held}`],
  });
  const report = await watchBatch(handle, () => undefined, 500);
  expect(report).toMatchObject({ done: 2, failed: 0 });
  expect(await prisonersOutOfSync(harness, [held!, other!])).toEqual([]);
});

test('10: a prisoner whose workflow is terminated mid-batch fails with the reason instead of holding the window', async () => {
  const [killed, other] = await seedPrisoners(harness, 2, prison());
  await harness.control.setFaults([
    { api: 'dps', method: 'POST', path: `^/resync/${killed}/`, latencyMs: 20_000, status: 200, times: 1 },
  ]);
  const { handle } = await startOrAttachBatch(harness.client, harness.taskQueue, {
    prisonNumbers: [killed!, other!],
    concurrency: 2,
    ratePerSecond: 10,
    livenessCheckEvery: '2 seconds',
  });
  await whenFaultFired(harness, 'the slow resync to reach DPS');
  await harness.client.workflow.getHandle(prisonerSyncWorkflowId(killed!)).terminate('operator mistake');
  const report = await watchBatch(handle, () => undefined, 500);
  expect(report).toMatchObject({ done: 1, failed: 1 });
  expect(report.failures).toMatchObject([
    { prisonNumber: killed, reason: expect.stringMatching(/PrisonerSyncClosed.*TERMINATED/) },
  ]);
}, 90_000);

test('10: a batch with more failures than it keeps counts them all, shows the first, and records every one', async () => {
  const prisoners = await seedPrisoners(harness, 4, prison());
  await harness.control.setFaults([
    { api: 'dps', method: 'POST', path: `^/resync/(${prisoners.join('|')})/`, status: 400 },
  ]);
  const { handle, batchId } = await startOrAttachBatch(harness.client, harness.taskQueue, {
    prisonNumbers: prisoners,
    concurrency: 4,
    ratePerSecond: 10,
    failuresKept: 2,
  });
  const report = await watchBatch(handle, () => undefined, 500);
  expect(report).toMatchObject({ total: 4, done: 0, failed: 4 });
  expect(report.failures).toHaveLength(2);
  const rows = await harness.db('bulk_resync_items').where({ batch_id: batchId, status: 'FAILED' });
  expect(rows.map((r: { prison_number: string }) => r.prison_number).sort()).toEqual([...prisoners].sort());
});

test('10: a prisoner whose NOMIS data breaks the contract is reported, the reconciliation goes on, continues as new and stays bounded', async () => {
  const prisonId = prison();
  const prisoners = await seedPrisoners(harness, 5, prisonId);
  const { handle: batch } = await startOrAttachBatch(harness.client, harness.taskQueue, {
    prisonNumbers: prisoners,
    concurrency: 5,
    ratePerSecond: 20,
  });
  expect(await watchBatch(batch, () => undefined, 500)).toMatchObject({ done: 5 });
  const [unreadable, drifted] = prisoners;
  await harness.control.setFaults([
    {
      api: 'nomis',
      method: 'GET',
      path: `^/prisoners/${unreadable}/alerts/to-migrate`,
      body: { latestBookingAlerts: 'not a list' },
    },
  ]);
  await harness.control.driftDpsAlert(drifted!);

  const workflowId = `reconciliation-at-scale-${uniqueSuffix()}`;
  const report = await harness.client.workflow.execute(reconciliationWorkflow, {
    workflowId,
    taskQueue: harness.taskQueue,
    args: [
      {
        autoResync: false,
        pageSize: 2,
        recheckDelay: '1 second',
        prisonId,
        resync: { concurrency: 2, ratePerSecond: 10 },
        pagesPerRun: 1,
        detailsKept: 1,
      },
    ],
  });
  expect(report.checked).toBe(5);
  expect([...report.driftedPrisonNumbers].sort()).toEqual([unreadable, drifted].sort());
  // Details for the first only (NOMIS lists by booking, so in the order they were seeded); the other is named.
  expect(report.drifted).toMatchObject([
    { prisonNumber: unreadable, problems: [expect.stringContaining('could not be checked')] },
  ]);
  // Three pages, one a run: two continues-as-new.
  await eventually(async () => {
    const runs: string[] = [];
    for await (const run of harness.client.workflow.list({ query: `WorkflowId = "${workflowId}"` })) {
      runs.push(run.status.name);
    }
    return runs.filter((status) => status === 'CONTINUED_AS_NEW').length === 2 || undefined;
  }, 'two continues-as-new in the run chain');
});
