import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import type { Db } from '../../adapters/db';
import type { NomisApiClient } from '../../adapters/nomis';
import { createBulkResyncActivities } from '../../activities/bulk-resync';
import type { BulkResyncOutcomeRow } from '../../workflows/messages';
import { bulkResyncWorkflow } from '../../workflows/bulk-resync';
import { prisonerSyncWorkflowId } from '../../common/ids';
import { clientOfWorker } from '../../adapters/temporal';
import { startTestEnvironment, withWorker } from './env';
import { FakeSides, nomisAlert } from './fake-sides';

// A bulk resync as workflows, on the time-skipping test server: the batch, the real prisoner workflows it queues
// resyncs on (in place, steps mocked), their reports back, and a failure's way from a prisoner's child run to the
// batch's report. (A prisoner closed without reporting: BulkWindow's unit test and the e2e bulk-resync test.)

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startTestEnvironment();
});
afterAll(async () => {
  await env?.teardown();
});

/** Dependencies these tests never reach: a call fails loudly instead of touching a real system. */
function unused<T extends object>(name: string): T {
  return new Proxy({} as T, {
    get: (_target, property) => {
      throw new Error(`${name}.${String(property)} is not part of a workflow test`);
    },
  });
}

/**
 * The batch's own activities, real: as the worker's have it, a client on the worker's connection, which can start
 * eagerly. The database and NOMIS they would also use are each test's mocks.
 */
function batchActivities(options: { reportsGrouped?: boolean } = {}) {
  return createBulkResyncActivities({
    db: unused<Db>('db'),
    nomis: unused<NomisApiClient>('nomis'),
    temporal: clientOfWorker(env.nativeConnection, env.namespace ?? 'default', {}),
    ...options,
  });
}

test('a batch resyncs every prisoner through their own workflow, window by window, and reports the one that failed with its reason', async () => {
  const prisoners = ['W0001WF', 'W0002WF', 'W0003WF', 'W0004WF', 'W0005WF', 'W0006WF'];
  const failing = 'W0003WF';
  const sides = new FakeSides('W0001WF');
  sides.addNomisAlert(nomisAlert(2001, 1));
  const defaults = sides.activities();
  const real = batchActivities();
  const windows: string[][] = [];
  const recorded: BulkResyncOutcomeRow[] = [];
  const activities = sides.activities({
    findDoneInEarlierRuns: async () => [],
    requestBatchResyncs: async (input) => {
      windows.push(input.prisonNumbers);
      return real.requestBatchResyncs(input);
    },
    reportResyncFinished: real.reportResyncFinished,
    findClosedPrisonerSyncs: real.findClosedPrisonerSyncs,
    recordBatchOutcomes: async ({ outcomes }) => void recorded.push(...outcomes),
    getCurrentBookingAlerts: async (input) => {
      if (input.prisonNumber === failing)
        throw ApplicationFailure.nonRetryable(`${failing} not found`, 'NomisNotFound');
      return defaults.getCurrentBookingAlerts!(input);
    },
  });

  const report = await withWorker(env, activities, async (taskQueue) => {
    const batch = await env.client.workflow.start(bulkResyncWorkflow, {
      taskQueue,
      workflowId: 'bulk-resync-workflow-test',
      args: [{ batchId: 'workflow-test', prisonNumbers: prisoners, concurrency: 2, ratePerSecond: 100 }],
    });
    return batch.result();
  });

  expect(report).toMatchObject({ total: 6, skipped: 0, done: 5, failed: 1 });
  expect(report.failures).toEqual([{ prisonNumber: failing, reason: expect.stringMatching(/^NomisNotFound: /) }]);
  expect(recorded.map((r) => `${r.prisonNumber} ${r.status}`).sort()).toEqual(
    prisoners.map((p) => `${p} ${p === failing ? 'FAILED' : 'DONE'}`),
  );
  // Never more than the window (2) asked for at once, every prisoner asked for once.
  expect(windows.every((w) => w.length <= 2)).toBe(true);
  expect(windows.flat().sort()).toEqual(prisoners);
  // A prisoner resynced in place did it, and told the batch, in one local activity: one marker, no child run.
  const { events } = await env.client.workflow.getHandle(prisonerSyncWorkflowId('W0001WF')).fetchHistory();
  expect((events ?? []).filter((e) => e.markerRecordedEventAttributes).length).toBe(1);
  expect((events ?? []).filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes).length).toBe(0);
  // Every report reached the batch grouped (resyncsFinished), the failed prisoner's from its child run too, in as
  // many signals as the linger made groups.
  const signals = await signalsTo('bulk-resync-workflow-test');
  expect(signals.map((s) => s.signalName)).toEqual(signals.map(() => 'resyncsFinished'));
  const reported = signals.flatMap((s) => reportsIn(s.input).map((r) => r.prisonNumber));
  // A retried report may come twice (the batch counts it once): every prisoner, whatever the repeats.
  expect([...new Set(reported)].sort()).toEqual(prisoners);
});

test('with grouped reports switched off (BULK_REPORTS_GROUPED=off, for an upgrade) each report is a signal of its own', async () => {
  const prisoners = ['W0011WF', 'W0012WF', 'W0013WF'];
  const sides = new FakeSides('W0011WF');
  const real = batchActivities({ reportsGrouped: false });
  const activities = sides.activities({
    findDoneInEarlierRuns: async () => [],
    requestBatchResyncs: real.requestBatchResyncs,
    reportResyncFinished: real.reportResyncFinished,
    findClosedPrisonerSyncs: real.findClosedPrisonerSyncs,
    recordBatchOutcomes: async () => undefined,
  });

  const workflowId = 'bulk-resync-workflow-test-ungrouped';
  const report = await withWorker(env, activities, async (taskQueue) =>
    env.client.workflow.execute(bulkResyncWorkflow, {
      taskQueue,
      workflowId,
      args: [{ batchId: 'workflow-test-ungrouped', prisonNumbers: prisoners, concurrency: 3, ratePerSecond: 100 }],
    }),
  );

  expect(report).toMatchObject({ total: 3, done: 3, failed: 0 });
  const signals = await signalsTo(workflowId);
  expect(signals.map((s) => s.signalName)).toEqual(prisoners.map(() => 'resyncFinished'));
});

/** The signals a workflow received, in history order. */
async function signalsTo(workflowId: string) {
  const { events } = await env.client.workflow.getHandle(workflowId).fetchHistory();
  return (events ?? []).flatMap((e) =>
    e.workflowExecutionSignaledEventAttributes ? [e.workflowExecutionSignaledEventAttributes] : [],
  );
}

/** The reports a resyncsFinished signal carried (the test server keeps payloads as plain JSON). */
function reportsIn(input: { payloads?: Array<{ data?: Uint8Array | null }> | null } | null | undefined) {
  return JSON.parse(Buffer.from(input?.payloads?.[0]?.data ?? []).toString()) as Array<{ prisonNumber: string }>;
}
