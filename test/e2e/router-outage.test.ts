import { WorkflowNotFoundError } from '@temporalio/client';
import { prisonerSyncWorkflowId } from '../../common/ids';
import type { Harness } from '../helpers/harness';
import { invariantViolations, waitForPrisonerSync } from '../helpers/harness';
import { useHarness } from '../helpers/e2e';
import type { PrisonerSyncResult } from '../../workflows/prisoner-sync';
import { randomPrisonNumber } from '../helpers/prisoners';
import { config, eventually } from '../helpers/stack';
import { TcpProxy } from '../helpers/tcp-proxy';

// A Temporal outage pauses the router: the good event is neither dead-lettered nor dropped (its offset is not
// committed), and it is processed once Temporal is reachable again.

const [temporalHost = '127.0.0.1', temporalPort = '7233'] = config.temporal.address.split(':');
const proxy = new TcpProxy(temporalHost, Number(temporalPort));
let harness: Harness;

beforeAll(async () => {
  await proxy.up();
});
useHarness(
  'outage',
  (started) => (harness = started),
  () => ({ routerTemporalAddress: `127.0.0.1:${proxy.port}` }),
);
afterAll(async () => {
  await proxy.down();
});

test('events that arrive while Temporal is down wait, then run when it is back', async () => {
  const prisonNumber = randomPrisonNumber();
  await harness.control.createPrisoner({ offenderNo: prisonNumber, alerts: [{ alertCode: 'XA', date: '2024-01-10' }] });

  await proxy.down();
  const since = new Date();
  await harness.control.newBooking(prisonNumber); // publishes prisoner.received NEW_ADMISSION
  await eventually(
    async () => ((harness.router.snapshot()['temporal-unavailable-retries'] ?? 0) >= 2 ? true : undefined),
    'the router to retry against the unreachable Temporal',
  );
  expect(harness.router.snapshot()['dead-lettered']).toBeUndefined();
  await expect(
    harness.client.workflow.getHandle(prisonerSyncWorkflowId(prisonNumber)).describe(),
  ).rejects.toBeInstanceOf(WorkflowNotFoundError);

  await proxy.up();
  const run = await waitForPrisonerSync(harness, prisonNumber, since, 90_000);
  expect(run.status.name).toBe('COMPLETED');
  expect(harness.router.snapshot()['resync-requested']).toBe(1);
  expect(await invariantViolations(harness, prisonNumber)).toEqual([]);
});

test("a backlog of one prisoner's events reaches their workflow in one signal, and every change in order", async () => {
  const prisonNumber = randomPrisonNumber();
  await harness.control.createPrisoner({ offenderNo: prisonNumber, alerts: [] });
  const retries = () => harness.router.snapshot()['temporal-unavailable-retries'] ?? 0;

  await proxy.down();
  const since = new Date();
  const retriesBefore = retries();
  const fire = await harness.control.addNomisAlert(prisonNumber, { alertCode: 'XA', date: '2024-04-01' });
  // The router holds the first event; the rest wait behind it in Kafka and come in the next batch together.
  await eventually(async () => (retries() > retriesBefore ? true : undefined), 'the router to hold the first event');
  await harness.control.updateNomisAlert(fire.bookingId, fire.alertSequence, { comment: 'lit a fire' });
  const escape = await harness.control.addNomisAlert(prisonNumber, { alertCode: 'XEL', date: '2024-04-02' });
  await harness.control.updateNomisAlert(fire.bookingId, fire.alertSequence, { comment: 'lit two fires' });
  await harness.control.deleteNomisAlert(escape.bookingId, escape.alertSequence);
  await harness.control.addNomisAlert(prisonNumber, { alertCode: 'HA', date: '2024-04-03', comment: 'ACCT' });

  await proxy.up();
  const runs = await runsSince(prisonNumber, since, 6);
  // The first event alone, the five behind it in one signal (or fewer, had the router taken the first batch late).
  const signals = runs.flatMap((r) => r.signals);
  expect(signals).toContain('syncsRequested');
  expect(signals.length).toBeLessThan(6);
  const at = (alert: { bookingId: number; alertSequence: number }) => `${alert.bookingId}/${alert.alertSequence}`;
  expect(runs.flatMap((r) => r.alertSyncs)).toEqual([
    `NOMIS alert ${at(fire)} created`,
    `NOMIS alert ${at(fire)} updated`,
    `NOMIS alert ${at(escape)} created`,
    `NOMIS alert ${at(fire)} updated`,
    `NOMIS alert ${at(escape)} deleted`,
    expect.stringMatching(/^NOMIS alert \d+\/\d+ created$/),
  ]);
  const dps = await harness.apis.dps.getPrisonerAlerts(prisonNumber);
  expect(dps.map((a) => [a.alertCode.code, a.description]).sort()).toEqual([
    ['HA', 'ACCT'],
    ['XA', 'lit two fires'],
  ]);
  expect(await invariantViolations(harness, prisonNumber)).toEqual([]);
});

/**
 * The prisoner's workflow runs started since `since`, oldest first, once `alertSyncs` alert syncs ended in them
 * and none runs: the signals each received and its alert syncs' reasons (the alert code left out).
 */
async function runsSince(prisonNumber: string, since: Date, alertSyncs: number) {
  return eventually(
    async () => {
      const query = `WorkflowId = "${prisonerSyncWorkflowId(prisonNumber)}" AND StartTime >= "${since.toISOString()}"`;
      const runs = [];
      for await (const run of harness.client.workflow.list({ query })) runs.push(run);
      if (runs.some((r) => r.status.name !== 'COMPLETED')) return undefined;
      const described = await Promise.all(
        runs
          .sort((a, b) => a.startTime.getTime() - b.startTime.getTime())
          .map(async ({ workflowId, runId }) => {
            const handle = harness.client.workflow.getHandle(workflowId, runId);
            const { events } = await handle.fetchHistory();
            const result = (await handle.result()) as PrisonerSyncResult;
            return {
              signals: (events ?? []).flatMap((e) => e.workflowExecutionSignaledEventAttributes?.signalName ?? []),
              alertSyncs: result.alertSyncs.map((s) => s.reason.replace(/ [A-Z]+ (created|updated|deleted)$/, ' $1')),
            };
          }),
      );
      return described.flatMap((r) => r.alertSyncs).length >= alertSyncs ? described : undefined;
    },
    `${alertSyncs} alert syncs of ${prisonNumber}`,
    90_000,
  );
}

test('a direction switched off while Temporal is unreachable applies to every event not yet accepted', async () => {
  const prisonNumber = randomPrisonNumber();
  // Seeded alerts publish no events: a NOMIS batch job's three events are published together below.
  const { bookings } = await harness.control.createPrisoner({
    offenderNo: prisonNumber,
    alerts: [
      { alertCode: 'XA', date: '2024-06-01' },
      { alertCode: 'XEL', date: '2024-06-02' },
      { alertCode: 'HA', date: '2024-06-03' },
    ],
  });
  const { bookingId, alerts } = bookings[0]!;
  const counter = (name: string) => harness.router.snapshot()[name] ?? 0;
  const before = {
    retries: counter('temporal-unavailable-retries'),
    skipped: counter('skipped:direction-switched-off'),
    requested: counter('alert-sync-requested'),
  };

  await proxy.down();
  try {
    await harness.producer.send({
      topic: harness.topics.offenderEvents,
      messages: alerts.map((alert) => ({
        key: prisonNumber,
        value: JSON.stringify({
          eventType: 'ALERT-UPDATED',
          eventDatetime: '2024-06-20T10:15:30',
          offenderIdDisplay: prisonNumber,
          bookingId,
          alertSeq: alert.alertSequence,
          alertType: alert.type.code,
          alertCode: alert.alertCode.code,
          auditModuleName: 'OIDALERT',
        }),
      })),
    });
    await eventually(
      async () => (counter('temporal-unavailable-retries') > before.retries ? true : undefined),
      'the router to hold the events',
    );
    // `npm run switches -- nomis-to-dps=off` says "in force for every event consumed from now on": these were
    // fetched before, but none was accepted yet. Temporal stays unreachable until they are decided again, so no
    // attempt that began before the change (and cannot be recalled) is still on its way when it comes back.
    await harness.setSwitches({ nomisToDps: false });
    await eventually(
      async () => (counter('skipped:direction-switched-off') - before.skipped === 3 ? true : undefined),
      'the three events to be skipped',
      60_000,
    );
  } finally {
    await proxy.up();
  }
  try {
    expect(counter('alert-sync-requested')).toBe(before.requested);
    await expect(
      harness.client.workflow.getHandle(prisonerSyncWorkflowId(prisonNumber)).describe(),
    ).rejects.toBeInstanceOf(WorkflowNotFoundError);
  } finally {
    await harness.setSwitches({ nomisToDps: true });
  }
});
