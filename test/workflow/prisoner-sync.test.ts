import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import { DEFERRAL_DELAY, MAX_MAPPING_DEFERRALS } from '../../common/retry-policies';
import type { AlertAction, AlertSyncRequest, SyncRequest } from '../../workflows/messages';
import { syncsRequestedSignal } from '../../workflows/messages';
import type { PrisonerSyncResult } from '../../workflows/prisoner-sync';
import { prisonerSyncWorkflow } from '../../workflows/prisoner-sync';
import { startTestEnvironment, withWorker } from './env';
import { FakeSides, nomisAlert } from './fake-sides';

// The prisoner's queue as a workflow, on the time-skipping test server with mocked activities: deferrals that
// wait out their timers in no time, continue-as-new carrying the queue, and a failed child's recovery.

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startTestEnvironment();
});
afterAll(async () => {
  await env?.teardown();
});

const PRISON_NUMBER = 'A1234BC';
const BOOKING = 1001;
let runs = 0;

function nomisChange(action: AlertAction, alertSeq: number, extra: Partial<AlertSyncRequest> = {}): AlertSyncRequest {
  return {
    kind: 'alert',
    reason: `NOMIS alert ${BOOKING}/${alertSeq} ${action}`,
    change: { direction: 'NOMIS_TO_DPS', action, bookingId: BOOKING, alertSeq },
    ...extra,
  };
}

function start(taskQueue: string, requests: SyncRequest[]) {
  return env.client.workflow.start(prisonerSyncWorkflow, {
    taskQueue,
    workflowId: `prisoner-sync-${PRISON_NUMBER}-${++runs}`,
    args: [{ prisonNumber: PRISON_NUMBER, requests, searchAttributesSetAtStart: true }],
  });
}

const outcomes = (result: PrisonerSyncResult) => result.alertSyncs.map((s) => s.outcome);

/** The run's result, and the timers it started (ms each), from its history. */
async function resultAndTimers(handle: WorkflowHandle<typeof prisonerSyncWorkflow>) {
  const result = await handle.result();
  const { events } = await handle.fetchHistory();
  const timers = (events ?? []).flatMap((e) => {
    const timeout = e.timerStartedEventAttributes?.startToFireTimeout;
    return timeout ? [Number(timeout.seconds ?? 0) * 1000 + Math.round((timeout.nanos ?? 0) / 1e6)] : [];
  });
  return { ...result, timers };
}

test('an update whose mapping never comes is tried again DEFERRAL_DELAY apart, then fails visibly and a resync brings the prisoner back in step', async () => {
  const sides = new FakeSides(PRISON_NUMBER);
  sides.addNomisAlert(nomisAlert(BOOKING, 1));
  const result = await withWorker(env, sides.activities(), async (taskQueue) =>
    resultAndTimers(await start(taskQueue, [nomisChange('UPDATED', 1)])),
  );

  expect(outcomes(result)).toEqual([...Array<string>(MAX_MAPPING_DEFERRALS).fill('mapping-missing'), 'failed']);
  expect(result.alertSyncs.at(-1)?.failure?.type).toBe('MappingNotFound');
  // Alone in the queue, each retry waited for the create to land (timers the test server skips).
  expect(result.timers).toEqual(Array<number>(MAX_MAPPING_DEFERRALS).fill(msToNumber(DEFERRAL_DELAY)));
  expect(result.passes).toEqual([expect.objectContaining({ source: 'NOMIS', alertCount: 1 })]);
  expect(sides.calls.slice(-4)).toEqual([
    'resyncSourceInForce',
    `getCurrentBookingAlerts ${PRISON_NUMBER}`,
    `resyncDpsAlerts ${PRISON_NUMBER} 1`,
    `replaceMappings ${PRISON_NUMBER} 1`,
  ]);
  expect([...sides.mappings.keys()]).toEqual([`${BOOKING}/1`]);
});

test('an update that arrives before its create is put back behind it, without waiting, and then applied', async () => {
  const sides = new FakeSides(PRISON_NUMBER);
  sides.addNomisAlert(nomisAlert(BOOKING, 1));
  const result = await withWorker(env, sides.activities(), async (taskQueue) =>
    resultAndTimers(await start(taskQueue, [nomisChange('UPDATED', 1), nomisChange('CREATED', 1)])),
  );
  expect(outcomes(result)).toEqual(['mapping-missing', 'created', 'updated']);
  expect(result.timers).toEqual([]);
  expect(sides.calls.filter((c) => !c.startsWith('find') && !c.startsWith('get'))).toEqual([
    `createDpsAlertFromNomis ${BOOKING}/1`,
    `createAlertMapping ${BOOKING}/1`,
    `updateDpsAlertFromNomis ${BOOKING}/1`,
  ]);
});

test('resyncs waiting together run once and absorb the NOMIS changes queued before them', async () => {
  const sides = new FakeSides(PRISON_NUMBER);
  sides.addNomisAlert(nomisAlert(BOOKING, 1));
  const result = await withWorker(env, sides.activities(), async (taskQueue) =>
    (
      await start(taskQueue, [
        nomisChange('CREATED', 1),
        { kind: 'resync', reason: 'received (NEW_ADMISSION)' },
        nomisChange('UPDATED', 1),
        { kind: 'resync', reason: 'booking moved' },
      ])
    ).result(),
  );
  expect(result.absorbed).toBe(2);
  expect(result.alertSyncs).toEqual([]);
  expect(result.passes).toEqual([
    expect.objectContaining({ reasons: ['received (NEW_ADMISSION)', 'booking moved'], source: 'NOMIS' }),
  ]);
});

test('a failed alert sync records its typed cause, and the recovery resync copies from the source switched on', async () => {
  const sides = new FakeSides(PRISON_NUMBER);
  sides.addNomisAlert(nomisAlert(BOOKING, 1));
  sides.resyncSource = 'NOMIS';
  const activities = sides.activities({
    createDpsAlertFromNomis: async () => {
      throw ApplicationFailure.nonRetryable('DPS refused the alert code XA', 'DpsClientError');
    },
  });
  const result = await withWorker(env, activities, async (taskQueue) =>
    (await start(taskQueue, [nomisChange('CREATED', 1)])).result(),
  );
  expect(result.alertSyncs).toEqual([
    expect.objectContaining({
      outcome: 'failed',
      failure: { type: 'DpsClientError', message: 'DPS refused the alert code XA' },
    }),
  ]);
  expect(result.failedResyncs).toEqual([]);
  expect(result.passes).toEqual([
    expect.objectContaining({ reasons: [expect.stringMatching(/^bring back in step after failed alert-sync-/)] }),
  ]);
  expect([...sides.mappings.keys()]).toEqual([`${BOOKING}/1`]);
});

test('continue-as-new carries the queue and the handled event ids to the next run', async () => {
  const sides = new FakeSides(PRISON_NUMBER);
  for (const seq of [1, 2, 3]) sides.addNomisAlert(nomisAlert(BOOKING, seq));
  let releaseFirst!: () => void;
  const firstHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
  let releaseLast!: () => void;
  const lastHeld = new Promise<void>((resolve) => (releaseLast = resolve));
  const defaults = sides.activities();
  const activities = sides.activities({
    findMappingByNomisAlert: async (input) => {
      sides.calls.push(`held ${input.alertSeq}`);
      if (input.alertSeq === 1) await firstHeld;
      if (input.alertSeq === 3) await lastHeld;
      return defaults.findMappingByNomisAlert!(input);
    },
  });
  const [e1, e2, e3] = [nomisChange('CREATED', 1), nomisChange('CREATED', 2), nomisChange('CREATED', 3)].map(
    (r, i) => ({ ...r, eventId: `event-${i + 1}` }),
  ) as [AlertSyncRequest, AlertSyncRequest, AlertSyncRequest];

  const { firstRun, result } = await withWorker(env, activities, async (taskQueue) => {
    const handle = await start(taskQueue, [e1]);
    await eventuallyCalled(sides, 'held 1');
    await handle.signal(syncsRequestedSignal, [e2, e3]);
    // Redeliveries of the first event, 1 MB each: ignored as duplicates, but they grow the history past the
    // test server's 4 MiB, where it suggests continue-as-new.
    for (let i = 0; i < 5; i++) await handle.signal(syncsRequestedSignal, [{ ...e1, reason: 'x'.repeat(1_000_000) }]);
    releaseFirst();
    await eventuallyCalled(sides, 'held 3');
    // In the next run: a redelivery of the first event, handled by the first run (and not among those carried).
    await handle.signal(syncsRequestedSignal, [e1]);
    releaseLast();
    const finished = await env.client.workflow.getHandle<typeof prisonerSyncWorkflow>(handle.workflowId).result();
    const firstRun = await env.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId).describe();
    return { firstRun, result: finished };
  });

  expect(firstRun.status.name).toBe('CONTINUED_AS_NEW');
  // The next run did what the first left queued, once each, and knew the first event was handled.
  expect(result.alertSyncs.map((s) => s.reason)).toEqual([e2.reason, e3.reason]);
  expect(result.duplicatesIgnored).toBe(1);
  expect(sides.calls.filter((c) => c.startsWith('createDpsAlertFromNomis'))).toEqual(
    [1, 2, 3].map((seq) => `createDpsAlertFromNomis ${BOOKING}/${seq}`),
  );
});

async function eventuallyCalled(sides: FakeSides, call: string): Promise<void> {
  for (let i = 0; i < 200 && !sides.calls.includes(call); i++) await new Promise((r) => setTimeout(r, 50));
  if (!sides.calls.includes(call)) throw new Error(`${call} was never called; calls: ${sides.calls.join(', ')}`);
}
