import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { prisonerSyncWorkflowId } from '../../common/ids';
import type { SeedAlert } from '../../simulators/nomis';
import type { Harness } from '../helpers/harness';
import {
  invariantViolations,
  prisonerSyncResult,
  readDeadLetters,
  removedPrisonerState,
  waitForPrisonerSync,
} from '../helpers/harness';
import { useHarness } from '../helpers/e2e';
import { randomPrisonNumber } from '../helpers/prisoners';
import { eventually } from '../helpers/stack';

// Prisoner-level resync end to end on the real stack, driven only through the simulators' public operations
// and Kafka: NOMIS changes -> domain event -> router -> Temporal -> worker -> DPS + mapping table.

let harness: Harness;
useHarness('resync', (started) => (harness = started));
afterEach(async () => {
  await harness.control.clearFaults();
});

const ALERTS: SeedAlert[] = [
  { alertCode: 'XA', date: '2024-01-10', comment: 'set fire to cell', authorisedBy: 'Gov Smith' },
  { alertCode: 'HA', date: '2024-02-01', comment: 'ACCT opened' },
];

async function prisonerWithAlerts(prisonNumber = randomPrisonNumber(), alerts = ALERTS) {
  await harness.control.createPrisoner({ offenderNo: prisonNumber, alerts });
  return prisonNumber;
}

/** Gives a prisoner DPS alerts and mappings, through a real resync, as a starting point. */
async function syncedPrisoner(alerts = ALERTS) {
  const prisonNumber = await prisonerWithAlerts(randomPrisonNumber(), alerts);
  const since = new Date();
  await harness.control.newBooking(prisonNumber);
  await waitForPrisonerSync(harness, prisonNumber, since);
  expect(await invariantViolations(harness, prisonNumber)).toEqual([]);
  return prisonNumber;
}

const resultOf = (prisonNumber: string) => prisonerSyncResult(harness, prisonNumber);

test('new admission: DPS gets the alerts of the new current booking', async () => {
  const prisonNumber = await prisonerWithAlerts();
  expect(await harness.apis.dps.getPrisonerAlerts(prisonNumber)).toEqual([]);

  const since = new Date();
  const { bookingId } = await harness.control.newBooking(prisonNumber);
  const run = await waitForPrisonerSync(harness, prisonNumber, since);

  expect(run.status.name).toBe('COMPLETED');
  expect(await invariantViolations(harness, prisonNumber)).toEqual([]);
  const dps = await harness.apis.dps.getPrisonerAlerts(prisonNumber);
  expect(dps.map((a) => a.alertCode.code).sort()).toEqual(['HA', 'XA']);
  const { mappings } = await removedPrisonerState(harness, prisonNumber);
  expect(mappings.map((m) => m.nomisBookingId)).toEqual([bookingId, bookingId]);
  expect(mappings.every((m) => m.mappingType === 'RESYNC')).toBe(true);
});

test('recall corrected by receiving onto a previous booking: DPS follows the reinstated booking', async () => {
  const prisonNumber = await syncedPrisoner();
  const before = await harness.apis.nomis.getAlertsToMigrate(prisonNumber);
  // A NOMIS user adds an alert on the new booking, which the correction then abandons.
  await harness.control.addNomisAlert(prisonNumber, { alertCode: 'XSA', date: '2024-03-01' });
  const previousBookingId = before.previousBookingsAlerts[0]?.bookingId;
  expect(previousBookingId).toBeDefined();

  const since = new Date();
  const { bookingId } = await harness.control.receiveOntoPreviousBooking(prisonNumber, previousBookingId);
  expect(bookingId).toBe(previousBookingId);
  await waitForPrisonerSync(harness, prisonNumber, since);

  expect(await invariantViolations(harness, prisonNumber)).toEqual([]);
  const { mappings } = await removedPrisonerState(harness, prisonNumber);
  expect(new Set(mappings.map((m) => m.nomisBookingId))).toEqual(new Set([previousBookingId]));
  const codes = (await harness.apis.dps.getPrisonerAlerts(prisonNumber)).map((a) => a.alertCode.code);
  expect(codes).not.toContain('XSA');
});

test('booking moved: both prisoners are resynced and each matches NOMIS', async () => {
  // `to` first, so the booking moved from `from` is newer than any of `to`'s and becomes its current booking.
  const to = await syncedPrisoner([{ alertCode: 'HS', date: '2023-05-05', comment: 'self harm history' }]);
  const from = await syncedPrisoner(); // two bookings: the first and the one the new admission made
  const fromAlerts = await harness.apis.nomis.getAlertsToMigrate(from);
  const movedBookingId = fromAlerts.latestBookingAlerts[0]!.bookingId;

  const since = new Date();
  await harness.control.moveBooking({ bookingId: movedBookingId, from, to });
  await Promise.all([waitForPrisonerSync(harness, from, since), waitForPrisonerSync(harness, to, since)]);

  expect(await invariantViolations(harness, from)).toEqual([]);
  expect(await invariantViolations(harness, to)).toEqual([]);
  const toMappings = (await removedPrisonerState(harness, to)).mappings;
  expect(toMappings.some((m) => m.nomisBookingId === movedBookingId)).toBe(true);
  const fromMappings = (await removedPrisonerState(harness, from)).mappings;
  expect(fromMappings.some((m) => m.nomisBookingId === movedBookingId)).toBe(false);
});

test('merge: the retained prisoner gets the combined set, the removed one ends with no alerts and no mappings', async () => {
  const retained = await syncedPrisoner([{ alertCode: 'XA', date: '2024-01-10' }]);
  const removed = await syncedPrisoner([{ alertCode: 'HA', date: '2024-02-02', comment: 'from the removed record' }]);
  expect((await removedPrisonerState(harness, removed)).dpsAlerts).toHaveLength(1);

  const since = new Date();
  await harness.control.merge({ retained, removed });
  const run = await waitForPrisonerSync(harness, retained, since);

  expect(run.status.name).toBe('COMPLETED');
  expect(await invariantViolations(harness, retained)).toEqual([]);
  const codes = (await harness.apis.dps.getPrisonerAlerts(retained)).map((a) => a.alertCode.code).sort();
  expect(codes).toEqual(['HA', 'XA']);
  expect(await removedPrisonerState(harness, removed)).toEqual({ dpsAlerts: [], mappings: [] });
  const result = await resultOf(retained);
  expect(result.passes.flatMap((p) => p.removedPrisonNumbers)).toEqual([removed]);
});

test('30% of DPS calls failing with 503 still converges', async () => {
  const prisonNumbers = await Promise.all(Array.from({ length: 8 }, () => prisonerWithAlerts()));
  await harness.control.setFaults([{ api: 'dps', errorRate: 0.3, status: 503 }], 42);
  const since = new Date();
  for (const prisonNumber of prisonNumbers) await harness.control.newBooking(prisonNumber);
  const runs = await Promise.all(prisonNumbers.map((p) => waitForPrisonerSync(harness, p, since, 180_000)));
  const stats = await harness.control.faults();
  await harness.control.clearFaults();

  // The faults really happened, and every prisoner still ended in sync.
  expect(stats.rules[0]?.fired).toBeGreaterThan(0);
  expect(runs.map((r) => r.status.name)).toEqual(prisonNumbers.map(() => 'COMPLETED'));
  for (const prisonNumber of prisonNumbers) expect(await invariantViolations(harness, prisonNumber)).toEqual([]);
  // Each resync makes two DPS calls (the look before the replace, and the replace), each failing 30% of the time,
  // and retries back off exponentially: the slowest of eight can take minutes, which the waits above allow.
}, 240_000);

test('a 400 from DPS fails the workflow at once with a typed, non-retryable error', async () => {
  const prisonNumber = await prisonerWithAlerts();
  await harness.control.setFaults([{ api: 'dps', path: '^/resync/', status: 400 }]);
  const since = new Date();
  await harness.control.newBooking(prisonNumber);
  const run = await waitForPrisonerSync(harness, prisonNumber, since);

  // The prisoner's workflow goes on; the resync itself failed, visibly, as its own run.
  expect(run.status.name).toBe('COMPLETED');
  const { failedResyncs } = await resultOf(prisonNumber);
  expect(failedResyncs).toHaveLength(1);
  const resync = harness.client.workflow.getHandle(failedResyncs[0]!.workflowId);
  expect((await resync.describe()).status.name).toBe('FAILED');
  const failure = await resync.result().then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(failure).toBeInstanceOf(WorkflowFailedError);
  const activityFailure = (failure as WorkflowFailedError).cause;
  expect(activityFailure).toBeInstanceOf(ActivityFailure);
  const cause = (activityFailure as ActivityFailure).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  expect(cause).toMatchObject({ type: 'DpsBadRequest', nonRetryable: true });
  // Exactly one attempt: the history holds a single ActivityTaskStarted for the resync call.
  const history = await resync.fetchHistory();
  const started = history.events?.filter((e) => e.activityTaskStartedEventAttributes) ?? [];
  expect(started.map((e) => e.activityTaskStartedEventAttributes?.attempt)).toEqual([1, 1]); // NOMIS read, DPS resync
});

test('an unknown prisoner in NOMIS fails the resync visibly and leaves DPS untouched', async () => {
  const prisonNumber = randomPrisonNumber();
  const existing = await harness.control.createDpsAlert(prisonNumber, { alertCode: 'XA', activeFrom: '2024-01-01' });
  const since = new Date();
  await harness.producer.send({
    topic: harness.topics.domainEvents,
    messages: [{ key: prisonNumber, value: JSON.stringify(receivedEvent(prisonNumber)) }],
  });
  const run = await waitForPrisonerSync(harness, prisonNumber, since);

  expect(run.status.name).toBe('COMPLETED');
  const { failedResyncs } = await resultOf(prisonNumber);
  // The DPS user's alert cannot reach NOMIS either, and that failed alert sync queues a resync of its own: it
  // joins the event's resync or runs after it, depending on timing. Every one fails, and for that reason.
  expect(failedResyncs.length).toBeGreaterThanOrEqual(1);
  expect(failedResyncs.map((f) => f.type)).toEqual(failedResyncs.map(() => 'NomisNotFound'));
  await expect(harness.client.workflow.getHandle(failedResyncs[0]!.workflowId).result()).rejects.toMatchObject({
    cause: { cause: { type: 'NomisNotFound', nonRetryable: true } },
  });
  expect((await harness.apis.dps.getPrisonerAlerts(prisonNumber)).map((a) => a.alertUuid)).toEqual([
    existing.alertUuid,
  ]);
});

test('a duplicate delivery joins the running resync instead of starting a second one', async () => {
  const prisonNumber = await prisonerWithAlerts();
  // Slow NOMIS down so the duplicate arrives while the first resync is still reading.
  await harness.control.setFaults([{ api: 'nomis', path: 'to-migrate', latencyMs: 3000, errorRate: 1, status: 200 }]);
  const event = JSON.stringify(receivedEvent(prisonNumber));
  const since = new Date();
  await harness.producer.send({ topic: harness.topics.domainEvents, messages: [{ key: prisonNumber, value: event }] });
  await eventually(
    async () =>
      (await harness.client.workflow.getHandle(prisonerSyncWorkflowId(prisonNumber)).describe()).status.name ===
        'RUNNING' || undefined,
    'the first resync to start',
  );
  await harness.producer.send({ topic: harness.topics.domainEvents, messages: [{ key: prisonNumber, value: event }] });
  await waitForPrisonerSync(harness, prisonNumber, since);

  const result = await resultOf(prisonNumber);
  expect(result.passes).toHaveLength(1);
  expect(result.duplicatesIgnored).toBe(1);
  const runs = [];
  for await (const execution of harness.client.workflow.list({
    query: `WorkflowId = "${prisonerSyncWorkflowId(prisonNumber)}"`,
  })) {
    runs.push(execution.runId);
  }
  expect(runs).toHaveLength(1);
  expect(await invariantViolations(harness, prisonNumber)).toEqual([]);
});

test('a malformed message goes to the DLQ with its reason, and the next good message is still processed', async () => {
  const dlq = await readDeadLetters(harness);
  const deadLetters = dlq.letters;
  try {
    const prisonNumber = await prisonerWithAlerts();
    const bad = JSON.stringify({ ...receivedEvent(prisonNumber), additionalInformation: { reason: 'NEW_ADMISSION' } });
    const since = new Date();
    await harness.producer.send({
      topic: harness.topics.domainEvents,
      messages: [
        { key: prisonNumber, value: bad },
        { key: prisonNumber, value: JSON.stringify(receivedEvent(prisonNumber)) },
      ],
    });
    const run = await waitForPrisonerSync(harness, prisonNumber, since);
    expect(run.status.name).toBe('COMPLETED');
    expect(await invariantViolations(harness, prisonNumber)).toEqual([]);

    const letter = await eventually(async () => deadLetters.find((d) => d.value === bad), 'the dead letter');
    expect(letter.headers['dlq-reason']).toContain('additionalInformation.nomsNumber: Required');
    expect(letter.headers['dlq-source-topic']).toBe(harness.topics.domainEvents);
    expect(letter.headers['dlq-source-offset']).toMatch(/^\d+$/);
    expect(letter.headers['dlq-at']).toBeTruthy();
    expect(harness.router.snapshot()['dead-lettered']).toBeGreaterThanOrEqual(1);
  } finally {
    await dlq.stop();
  }
});

function receivedEvent(prisonNumber: string) {
  return {
    eventType: 'prisoner-offender-search.prisoner.received',
    version: 1,
    occurredAt: new Date().toISOString(),
    description: 'A prisoner has been received into prison',
    additionalInformation: { nomsNumber: prisonNumber, reason: 'NEW_ADMISSION', prisonId: 'MDI' },
    personReference: { identifiers: [{ type: 'NOMS', value: prisonNumber }] },
  };
}
