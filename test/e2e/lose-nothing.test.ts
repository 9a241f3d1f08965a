import { randomUUID } from 'node:crypto';
import { temporal } from '@temporalio/proto';
import { listPrisonerMappings } from '../../adapters/db';
import { requestResync } from '../../adapters/temporal';
import { prisonerSyncWorkflowId } from '../../common/ids';
import type { FaultRule } from '../../simulators/faults';
import type { Harness } from '../helpers/harness';
import {
  invariantViolations,
  prisonerSyncResult,
  readDeadLetters,
  waitForPrisonerSync,
  whenFaultFired,
} from '../helpers/harness';
import { useHarness } from '../helpers/e2e';
import { randomPrisonNumber } from '../helpers/prisoners';
import { config, eventually } from '../helpers/stack';

// "Lose nothing": races, redeliveries and legal-but-awkward upstream behaviour, on the real stack. Each test
// ends with contract §6 holding for every prisoner it touched, and no user's change accepted as "skipped".

let harness: Harness;
let dlq: Awaited<ReturnType<typeof readDeadLetters>>;

// Declared first: after-all hooks run in declaration order, and the reader stops before the harness closes.
afterAll(async () => {
  await dlq?.stop();
});
useHarness('lose-nothing', (started) => (harness = started));
beforeAll(async () => {
  dlq = await readDeadLetters(harness);
});
afterEach(async () => {
  await harness.control.clearFaults();
  await harness.control.setAwkward({ reuseAlertSequences: false, omitAuditModuleName: false, redeliveryRate: 0 });
});

/** Waits for every prisoner's queue to drain (a run started after `since` has closed) and §6 to hold. */
async function settled(prisonNumbers: string[], since: Date): Promise<void> {
  for (const prisonNumber of prisonNumbers) {
    await waitForPrisonerSync(harness, prisonNumber, since, 90_000);
    let violations: string[] = [];
    await eventually(
      async () => {
        violations = await invariantViolations(harness, prisonNumber);
        const running = await harness.client.workflow.getHandle(prisonerSyncWorkflowId(prisonNumber)).describe();
        return violations.length === 0 && running.status.name !== 'RUNNING' ? true : undefined;
      },
      `${prisonNumber} to be in sync`,
      60_000,
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${violations.join('\n')}`);
    });
  }
}

/** Starts a resync of the prisoner and waits until `rule` holds it (a slow NOMIS read or DPS write). */
async function resyncHeldBy(prisonNumber: string, rule: FaultRule, reason: string): Promise<Date> {
  await harness.control.setFaults([rule]);
  const since = new Date();
  await requestResync(harness.client, harness.taskQueue, prisonNumber, reason);
  await whenFaultFired(harness, `the resync of ${prisonNumber} to be held (${reason})`);
  return since;
}

const slowDpsWrite = (prisonNumber: string): FaultRule => ({
  api: 'dps',
  method: 'POST',
  path: `^/resync/${prisonNumber}/`,
  latencyMs: 3000,
  status: 200,
  times: 1,
});

/** A prisoner with one booking whose alerts are already in DPS, through a real resync. */
async function syncedPrisoner(
  alerts = [{ alertCode: 'XA', date: '2024-01-10', comment: 'set fire to cell' }],
  previousBookings?: Array<{ alerts: Array<{ alertCode: string; date: string }> }>,
): Promise<{ prisonNumber: string; bookingId: number }> {
  const prisonNumber = randomPrisonNumber();
  const view = await harness.control.createPrisoner({ offenderNo: prisonNumber, alerts, previousBookings });
  const since = new Date();
  await requestResync(harness.client, harness.taskQueue, prisonNumber, 'test set-up');
  await settled([prisonNumber], since);
  return { prisonNumber, bookingId: view.currentBookingId! };
}

async function produce(topic: string, key: string, value: unknown): Promise<void> {
  await harness.producer.send({ topic, messages: [{ key, value: JSON.stringify(value) }] });
}

function failedSyncs(result: Awaited<ReturnType<typeof prisonerSyncResult>>) {
  return [...result.failedResyncs, ...result.alertSyncs.filter((s) => s.outcome === 'failed')];
}

// ---- 1. a booking moved off a prisoner's only booking ----

test('1: a booking moved off the only booking leaves that prisoner with no DPS alerts and no mappings', async () => {
  const { prisonNumber: from, bookingId } = await syncedPrisoner();
  const to = randomPrisonNumber();
  const since = new Date();
  await harness.control.moveBooking({ bookingId, from, to });
  await settled([from, to], since);

  expect(await harness.apis.dps.getPrisonerAlerts(from)).toEqual([]);
  expect(await listPrisonerMappings(harness.db, from)).toEqual([]);
  expect((await harness.apis.dps.getPrisonerAlerts(to)).map((a) => a.alertCode.code)).toEqual(['XA']);
  expect(failedSyncs(await prisonerSyncResult(harness, from))).toEqual([]);
});

// ---- 2. a DPS user's change racing a resync ----

test('2: a DPS user alert created while a resync reads NOMIS reaches NOMIS and survives the resync', async () => {
  const { prisonNumber } = await syncedPrisoner();
  const slowNomisRead: FaultRule = {
    api: 'nomis',
    method: 'GET',
    path: `^/prisoners/${prisonNumber}/alerts/to-migrate`,
    latencyMs: 3000,
    status: 200,
    times: 1,
  };
  const since = await resyncHeldBy(prisonNumber, slowNomisRead, 'slow NOMIS read');
  const added = await harness.control.createDpsAlert(prisonNumber, {
    alertCode: 'HA',
    description: 'added mid-resync',
  });
  await settled([prisonNumber], since);
  expect((await harness.apis.dps.getPrisonerAlerts(prisonNumber)).map((a) => a.alertCode.code).sort()).toEqual([
    'HA',
    'XA',
  ]);
  const nomis = (await harness.apis.nomis.getAlertsToMigrate(prisonNumber)).latestBookingAlerts;
  expect(nomis.find((a) => a.alertCode.code === 'HA')?.comment).toBe('added mid-resync');
  expect((await listPrisonerMappings(harness.db, prisonNumber)).some((m) => m.dpsAlertId === added.alertUuid)).toBe(
    true,
  );
  expect(failedSyncs(await prisonerSyncResult(harness, prisonNumber))).toEqual([]);
});

test('2: a DPS user alert created during the resync’s own DPS write, which deletes it, fails visibly with its type', async () => {
  const { prisonNumber } = await syncedPrisoner();
  const since = await resyncHeldBy(prisonNumber, slowDpsWrite(prisonNumber), 'slow DPS write');
  await harness.control.createDpsAlert(prisonNumber, { alertCode: 'HA', description: 'lost to the resync' });
  await settled([prisonNumber], since);
  // DPS's replace cannot be made conditional: the user's alert is gone from DPS, and the run says so.
  const result = await prisonerSyncResult(harness, prisonNumber);
  expect(result.alertSyncs.find((s) => s.outcome === 'failed')).toMatchObject({ failure: { type: 'DpsAlertGone' } });
  const failed = result.alertSyncs.find((s) => s.outcome === 'failed')!;
  expect((await harness.client.workflow.getHandle(failed.workflowId).describe()).status.name).toBe('FAILED');
  expect(result.alertSyncs.some((s) => s.outcome === 'skipped')).toBe(false);
}, 120_000);

test('2: a DPS user edit overwritten by a resync running at the same time fails visibly with its type', async () => {
  const { prisonNumber } = await syncedPrisoner();
  const [alert] = await harness.apis.dps.getPrisonerAlerts(prisonNumber);
  const since = await resyncHeldBy(prisonNumber, slowDpsWrite(prisonNumber), 'slow DPS write');
  await harness.control.updateDpsAlert(alert!.alertUuid, { description: 'edited during the resync' });
  await settled([prisonNumber], since);
  const result = await prisonerSyncResult(harness, prisonNumber);
  expect(result.alertSyncs).toMatchObject([{ outcome: 'failed', failure: { type: 'DpsEditOverwritten' } }]);
});

test('2: a DPS user alert created and deleted before its copy ran is superseded by the delete, not failed', async () => {
  const { prisonNumber } = await syncedPrisoner();
  const since = new Date();
  const alert = await harness.control.createDpsAlert(prisonNumber, { alertCode: 'HA', description: 'short-lived' });
  await harness.control.deleteDpsAlert(alert.alertUuid);
  await settled([prisonNumber], since);
  expect(failedSyncs(await prisonerSyncResult(harness, prisonNumber))).toEqual([]);
  expect((await harness.apis.nomis.getAlertsToMigrate(prisonNumber)).latestBookingAlerts).toHaveLength(1);
});

// ---- 3. NOMIS events without auditModuleName ----

test('3: without auditModuleName the sync recognises its own NOMIS writes: a DPS user edit is not undone by an echo', async () => {
  const { prisonNumber } = await syncedPrisoner([]);
  await harness.control.setAwkward({ omitAuditModuleName: true });
  let since = new Date();
  const alert = await harness.control.createDpsAlert(prisonNumber, { alertCode: 'HA', description: 'first' });
  await settled([prisonNumber], since);

  since = new Date();
  await harness.control.updateDpsAlert(alert.alertUuid, { description: 'edit one' });
  // The second edit lands while the echo of the first is on its way back from NOMIS.
  await eventually(async () => {
    const [nomis] = (await harness.apis.nomis.getAlertsToMigrate(prisonNumber)).latestBookingAlerts;
    return nomis?.comment === 'edit one' || undefined;
  }, 'the first edit to reach NOMIS');
  await harness.control.updateDpsAlert(alert.alertUuid, { description: 'edit two' });
  await settled([prisonNumber], since);
  expect((await harness.apis.dps.getAlert(alert.alertUuid)).description).toBe('edit two');

  since = new Date();
  await harness.control.deleteDpsAlert(alert.alertUuid);
  await settled([prisonNumber], since);
  expect((await harness.apis.nomis.getAlertsToMigrate(prisonNumber)).latestBookingAlerts).toEqual([]);
  expect(failedSyncs(await prisonerSyncResult(harness, prisonNumber))).toEqual([]);
}, 180_000);

test('3: without auditModuleName a NOMIS user change is still copied to DPS', async () => {
  const { prisonNumber } = await syncedPrisoner([]);
  await harness.control.setAwkward({ omitAuditModuleName: true });
  const since = new Date();
  const created = await harness.control.addNomisAlert(prisonNumber, { alertCode: 'VI', comment: 'by a NOMIS user' });
  await harness.control.updateNomisAlert(created.bookingId, created.alertSequence, { comment: 'edited in NOMIS' });
  await settled([prisonNumber], since);
  expect((await harness.apis.dps.getPrisonerAlerts(prisonNumber)).map((a) => a.description)).toEqual([
    'edited in NOMIS',
  ]);
});

// ---- 4. an ALERT-DELETED for an alert NOMIS still holds ----

test('4: a replayed delete after NOMIS reused the alert sequence leaves the new alert in DPS', async () => {
  const { prisonNumber } = await syncedPrisoner([]);
  await harness.control.setAwkward({ reuseAlertSequences: true });
  let since = new Date();
  const first = await harness.control.addNomisAlert(prisonNumber, { alertCode: 'XA', comment: 'old' });
  await settled([prisonNumber], since);
  since = new Date();
  await harness.control.deleteNomisAlert(first.bookingId, first.alertSequence);
  await settled([prisonNumber], since);
  since = new Date();
  const second = await harness.control.addNomisAlert(prisonNumber, { alertCode: 'HA', comment: 'new' });
  expect(second.alertSequence).toBe(first.alertSequence);
  await settled([prisonNumber], since);

  // The old delete, delivered again (a replay of the topic or a redelivery after a crash).
  const events = await harness.control.events({ topic: 'offenderEvents', key: prisonNumber, limit: 100 });
  const oldDelete = events.find((e) => e.value.eventType === 'ALERT-DELETED');
  expect(oldDelete).toBeDefined();
  since = new Date();
  await produce(harness.topics.offenderEvents, prisonNumber, oldDelete!.value);
  await settled([prisonNumber], since);
  expect((await harness.apis.dps.getPrisonerAlerts(prisonNumber)).map((a) => a.description)).toEqual(['new']);
  expect(await listPrisonerMappings(harness.db, prisonNumber)).toHaveLength(1);
});

test('4: a delete delivered for an alert NOMIS still holds deletes nothing', async () => {
  const { prisonNumber, bookingId } = await syncedPrisoner();
  const since = new Date();
  await produce(harness.topics.offenderEvents, prisonNumber, {
    eventType: 'ALERT-DELETED',
    eventDatetime: '2024-06-20T10:15:30',
    offenderIdDisplay: prisonNumber,
    bookingId,
    alertSeq: 1,
    alertCode: 'XA',
    auditModuleName: 'OIDALERT',
  });
  await settled([prisonNumber], since);
  expect((await harness.apis.dps.getPrisonerAlerts(prisonNumber)).map((a) => a.alertCode.code)).toEqual(['XA']);
  expect(await listPrisonerMappings(harness.db, prisonNumber)).toHaveLength(1);
});

// ---- 6. a stale resync must not delete a newer owner's mappings ----

test('6: a resync that read NOMIS before a booking moved does not delete the new owner’s mappings', async () => {
  const { prisonNumber: from, bookingId } = await syncedPrisoner(
    [{ alertCode: 'XA', date: '2024-01-10', comment: 'moves with the booking' }],
    [{ alerts: [{ alertCode: 'RSS', date: '2020-01-01' }] }],
  );
  const to = randomPrisonNumber();
  // Hold the first resync of `from` between its NOMIS read and its DPS write.
  const since = await resyncHeldBy(from, slowDpsWrite(from), 'slow DPS write');
  await harness.control.moveBooking({ bookingId, from, to });
  await settled([from, to], since);
  expect((await listPrisonerMappings(harness.db, to)).map((m) => m.nomisBookingId)).toEqual([bookingId]);
});

// ---- 7. NOMIS's active flag ----

test('7: an alert made inactive in NOMIS without an expiry date becomes inactive in DPS, and active again', async () => {
  const { prisonNumber } = await syncedPrisoner([]);
  let since = new Date();
  const created = await harness.control.addNomisAlert(prisonNumber, { alertCode: 'XSA', isActive: false });
  await settled([prisonNumber], since);
  const dpsActive = async () => (await harness.apis.dps.getPrisonerAlerts(prisonNumber)).map((a) => a.isActive);
  expect(await dpsActive()).toEqual([false]);

  since = new Date();
  await harness.control.updateNomisAlert(created.bookingId, created.alertSequence, { isActive: true });
  await settled([prisonNumber], since);
  expect(await dpsActive()).toEqual([true]);

  since = new Date();
  await harness.control.updateNomisAlert(created.bookingId, created.alertSequence, { isActive: false });
  await settled([prisonNumber], since);
  expect(await dpsActive()).toEqual([false]);
});

// ---- 8. the router ----

function dpsAlertEvent(prisonNumber: string, alertUuid: string) {
  return {
    eventType: 'person.alert.created',
    version: 1,
    occurredAt: new Date().toISOString(),
    additionalInformation: { alertUuid, alertCode: 'XA', source: 'DPS' },
    personReference: { identifiers: [{ type: 'NOMS', value: prisonNumber }] },
  };
}

test('8: a DPS alert event whose prison number is malformed is dead-lettered, naming the field', async () => {
  const uuid = '0b3f5bde-5a43-4c8c-a6b1-5f2a3e1c9d01';
  const lower = dpsAlertEvent('a1234bc', uuid);
  const long = dpsAlertEvent(`A1234BC${'X'.repeat(2000)}`, uuid);
  await produce(harness.topics.domainEvents, 'a1234bc', lower);
  await produce(harness.topics.domainEvents, 'long', long);
  for (const value of [lower, long]) {
    const letter = await eventually(
      async () => dlq.letters.find((d) => d.value === JSON.stringify(value)),
      'the dead letter',
    );
    expect(letter.headers['dlq-reason']).toContain('personReference');
  }
  // The router kept going: a good event after them is synced.
  const { prisonNumber } = await syncedPrisoner([]);
  expect(await invariantViolations(harness, prisonNumber)).toEqual([]);
});

test('8: a merge of a prisoner into itself is dead-lettered and wipes nothing', async () => {
  const { prisonNumber } = await syncedPrisoner();
  const merge = {
    eventType: 'prison-offender-events.prisoner.merged',
    version: 1,
    occurredAt: new Date().toISOString(),
    additionalInformation: { nomsNumber: prisonNumber, removedNomsNumber: prisonNumber, reason: 'MERGE' },
    personReference: { identifiers: [{ type: 'NOMS', value: prisonNumber }] },
  };
  await produce(harness.topics.domainEvents, prisonNumber, merge);
  const letter = await eventually(
    async () => dlq.letters.find((d) => d.value === JSON.stringify(merge)),
    'the dead letter',
  );
  expect(letter.headers['dlq-reason']).toContain('removedNomsNumber');
  expect(await harness.apis.dps.getPrisonerAlerts(prisonNumber)).toHaveLength(1);
});

test('8: the removed side of a merge is resynced in its own queue, after its own pending syncs', async () => {
  const { prisonNumber: retained } = await syncedPrisoner();
  const { prisonNumber: removed } = await syncedPrisoner([{ alertCode: 'HA', date: '2024-02-02', comment: 'x' }]);
  const since = new Date();
  await harness.control.merge({ retained, removed });
  await settled([retained, removed], since);
  const removedRun = await prisonerSyncResult(harness, removed);
  expect(removedRun.passes).toHaveLength(1);
  expect(failedSyncs(removedRun)).toEqual([]);
  expect(await harness.apis.dps.getPrisonerAlerts(removed)).toEqual([]);
  expect(await listPrisonerMappings(harness.db, removed)).toEqual([]);
  expect((await harness.apis.dps.getPrisonerAlerts(retained)).map((a) => a.alertCode.code).sort()).toEqual([
    'HA',
    'XA',
  ]);
});

// ---- 9. two genuine changes with identical event bytes ----

test('9: two updates of one alert in the same second are both synced', async () => {
  // The chain between the two updates (router, workflow, NOMIS read, DPS write) takes a few hundred ms; on a busy
  // machine it can cross a second boundary, and then the bytes differ and nothing is tested: try again.
  for (let attempt = 1; ; attempt++) {
    const { prisonNumber, bookingId } = await syncedPrisoner();
    // Hold the sync of the first update in its DPS write, after it has read NOMIS.
    await harness.control.setFaults([
      { api: 'dps', method: 'PUT', path: '^/alerts/', latencyMs: 1500, status: 200, times: 1 },
    ]);
    // Start on a second boundary, so both updates (a few hundred ms apart) share a second-precision timestamp.
    while (Date.now() % 1000 > 50) await new Promise((resolve) => setTimeout(resolve, 5));
    const since = new Date();
    await harness.control.updateNomisAlert(bookingId, 1, { comment: 'first update' });
    await whenFaultFired(harness, 'the first update to reach DPS');
    await harness.control.updateNomisAlert(bookingId, 1, { comment: 'second update' });
    const updates = (await harness.control.events({ topic: 'offenderEvents', key: prisonNumber })).filter(
      (e) => e.value.eventType === 'ALERT-UPDATED',
    );
    const identical = JSON.stringify(updates.at(-1)?.value) === JSON.stringify(updates.at(-2)?.value);
    await settled([prisonNumber], since);
    if (!identical && attempt < 5) {
      await harness.control.clearFaults();
      continue;
    }
    expect(JSON.stringify(updates.at(-1)?.value)).toBe(JSON.stringify(updates.at(-2)?.value));
    const descriptions = (await harness.apis.dps.getPrisonerAlerts(prisonNumber)).map((a) => a.description);
    expect(descriptions).toEqual(['second update']);
    return;
  }
}, 120_000);

// ---- 11. a retry from the Web UI goes through the prisoner's queue ----

test('11: a failed resync retried with the Web UI’s Reset runs again through the prisoner’s queue', async () => {
  const { prisonNumber } = await syncedPrisoner();
  // Twice: the resync's first try, in place, gets one 400; the run it then becomes gets the other and fails.
  await harness.control.setFaults([
    { api: 'dps', method: 'POST', path: `^/resync/${prisonNumber}/`, status: 400, times: 2 },
  ]);
  let since = new Date();
  await requestResync(harness.client, harness.taskQueue, prisonNumber, 'fails once');
  await waitForPrisonerSync(harness, prisonNumber, since);
  const [failed] = (await prisonerSyncResult(harness, prisonNumber)).failedResyncs;
  expect(failed).toMatchObject({ type: 'DpsBadRequest' });

  // What the Web UI's Reset (to the first workflow task) sends.
  const handle = harness.client.workflow.getHandle(failed!.workflowId);
  const { events } = await handle.fetchHistory();
  const firstTask = events?.find(
    (e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
  );
  since = new Date();
  await harness.client.workflowService.resetWorkflowExecution({
    namespace: config.temporal.namespace,
    workflowExecution: { workflowId: failed!.workflowId },
    reason: 'operator retry',
    workflowTaskFinishEventId: firstTask!.eventId,
    requestId: randomUUID(),
  });
  await settled([prisonNumber], since);
  const retried = await prisonerSyncResult(harness, prisonNumber);
  expect(retried.passes).toMatchObject([{ reasons: [expect.stringContaining(`retry of ${failed!.workflowId}`)] }]);
  expect((await handle.describe()).status.name).toBe('COMPLETED');
});

// ---- every event delivered twice ----

test('with every event delivered twice, alert changes in both directions converge with no failed run', async () => {
  const { prisonNumber } = await syncedPrisoner([]);
  await harness.control.setAwkward({ redeliveryRate: 1 });
  let since = new Date();
  const nomis = await harness.control.addNomisAlert(prisonNumber, { alertCode: 'XA', comment: 'from NOMIS' });
  const dps = await harness.control.createDpsAlert(prisonNumber, { alertCode: 'HA', description: 'from DPS' });
  await settled([prisonNumber], since);
  since = new Date();
  await harness.control.updateNomisAlert(nomis.bookingId, nomis.alertSequence, { comment: 'NOMIS edit' });
  await harness.control.updateDpsAlert(dps.alertUuid, { description: 'DPS edit' });
  await settled([prisonNumber], since);
  expect((await harness.apis.dps.getPrisonerAlerts(prisonNumber)).map((a) => a.description).sort()).toEqual([
    'DPS edit',
    'NOMIS edit',
  ]);
  since = new Date();
  await harness.control.deleteNomisAlert(nomis.bookingId, nomis.alertSequence);
  await harness.control.deleteDpsAlert(dps.alertUuid);
  await settled([prisonNumber], since);
  expect(await harness.apis.dps.getPrisonerAlerts(prisonNumber)).toEqual([]);
  expect(failedSyncs(await prisonerSyncResult(harness, prisonNumber))).toEqual([]);
}, 180_000);
