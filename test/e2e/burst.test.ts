import { listPrisonerMappings } from '../../adapters/db';
import { ALL_AWKWARD, WELL_BEHAVED } from '../../simulators/awkward';
import type { Rng } from '../../simulators/random';
import { createRng, pick } from '../../simulators/random';
import type { Harness } from '../helpers/harness';
import { invariantViolations } from '../helpers/harness';
import { useHarness } from '../helpers/e2e';
import { randomPrisonNumber } from '../helpers/prisoners';
import { eventually } from '../helpers/stack';

// For one prisoner, a seeded random burst of alert changes in both directions, interleaved with a merge into
// them and a move of their booking; nothing waits in between. After everything settles, contract §6 holds.
// Even seeds run against awkward upstream systems: NOMIS reusing alert sequences and leaving auditModuleName
// out of its events, and a fifth of all events delivered twice. BURST_SEEDS=N runs seeds 1..N (default 20).

const seeds = Array.from({ length: Number(process.env.BURST_SEEDS ?? 20) }, (_, i) => i + 1);
// NOMIS users and DPS users pick from different codes, so the two directions never race to create the same
// active code on both sides (which both systems reject with 409, in real life too).
const NOMIS_CODES = ['XA', 'XSA', 'XEL', 'HA'];
const DPS_CODES = ['HS', 'VI', 'PEEP', 'RSS', 'RCP'];
const OPS = 14;

let harness: Harness;
useHarness('burst', (started) => (harness = started));
afterEach(async () => {
  await harness.control.setAwkward(WELL_BEHAVED);
});

const received = (prisonNumber: string) => ({
  key: prisonNumber,
  value: JSON.stringify({
    eventType: 'prisoner-offender-search.prisoner.received',
    version: 1,
    occurredAt: new Date().toISOString(),
    additionalInformation: { nomsNumber: prisonNumber, reason: 'READMISSION', prisonId: 'MDI' },
    personReference: { identifiers: [{ type: 'NOMS', value: prisonNumber }] },
  }),
});

/** Settled: every event the simulators published was consumed, and no workflow of these prisoners runs. */
async function settle(prisonNumbers: string[]): Promise<void> {
  const query = `(${prisonNumbers.map((p) => `PrisonNumber = "${p}"`).join(' OR ')}) AND ExecutionStatus = "Running"`;
  let quietChecks = 0;
  await eventually(
    async () => {
      const { eventsPublished } = await harness.control.state();
      const consumed = harness.router.snapshot().messages ?? 0;
      const running = await harness.client.workflow.count(query);
      quietChecks = consumed >= eventsPublished + producedByTest && running.count === 0 ? quietChecks + 1 : 0;
      return quietChecks >= 3 ? true : undefined;
    },
    'the burst to settle',
    120_000,
  );
}
let producedByTest = 0;

async function nomisUserOp(rng: Rng, prisonNumber: string): Promise<void> {
  const current = (await harness.apis.nomis.getAlertsToMigrate(prisonNumber)).latestBookingAlerts;
  const activeCodes = new Set(current.filter((a) => a.isActive).map((a) => a.alertCode.code));
  const free = NOMIS_CODES.filter((c) => !activeCodes.has(c));
  const op = pick(rng, current.length ? ['add', 'update', 'delete'] : ['add']);
  if (op === 'add' && free.length) {
    await harness.control.addNomisAlert(prisonNumber, {
      alertCode: pick(rng, free),
      date: '2024-07-01',
      comment: `n${rng()}`,
    });
  } else if (op === 'update' || (op === 'add' && current.length)) {
    const alert = pick(rng, current);
    await harness.control.updateNomisAlert(alert.bookingId, alert.alertSequence, {
      comment: `changed in NOMIS ${rng()}`,
    });
  } else if (current.length) {
    const alert = pick(rng, current);
    await harness.control.deleteNomisAlert(alert.bookingId, alert.alertSequence);
  }
}

async function dpsUserOp(rng: Rng, prisonNumber: string): Promise<void> {
  const dps = await harness.apis.dps.getPrisonerAlerts(prisonNumber);
  const nomis = (await harness.apis.nomis.getAlertsToMigrate(prisonNumber)).latestBookingAlerts;
  const taken = new Set(
    [...dps, ...nomis.map((a) => ({ alertCode: a.alertCode, isActive: a.isActive }))]
      .filter((a) => a.isActive)
      .map((a) => a.alertCode.code),
  );
  const free = DPS_CODES.filter((c) => !taken.has(c));
  const op = pick(rng, dps.length ? ['add', 'update', 'delete'] : ['add']);
  // A DPS user can lose a race with the sync (the alert was just replaced by a resync): that is their 404/409.
  const ignoreRace = (err: unknown) => {
    if (!/\b(404|409)\b/.test(String(err))) throw err;
  };
  if (op === 'add' && free.length) {
    await harness.control
      .createDpsAlert(prisonNumber, { alertCode: pick(rng, free), activeFrom: '2024-08-01', description: `d${rng()}` })
      .catch(ignoreRace);
  } else if (dps.length && (op === 'update' || op === 'add')) {
    await harness.control
      .updateDpsAlert(pick(rng, dps).alertUuid, { description: `changed in DPS ${rng()}` })
      .catch(ignoreRace);
  } else if (dps.length) {
    await harness.control.deleteDpsAlert(pick(rng, dps).alertUuid).catch(ignoreRace);
  }
}

test.each(seeds)(
  'seed %i: alert changes both ways, a merge and a booking move converge',
  async (seed) => {
    const rng = createRng(seed);
    await harness.control.setAwkward(seed % 2 === 0 ? ALL_AWKWARD : WELL_BEHAVED);
    const [prisoner, mergedAway, moveTarget] = [randomPrisonNumber(), randomPrisonNumber(), randomPrisonNumber()];
    // The move target first: its booking is older, so the booking moved to it becomes its current one.
    await harness.control.createPrisoner({
      offenderNo: moveTarget,
      alerts: [{ alertCode: 'RSS', date: '2023-01-01' }],
    });
    await harness.control.createPrisoner({
      offenderNo: prisoner,
      previousBookings: [{ alerts: [{ alertCode: 'XA', date: '2022-01-01' }] }],
      alerts: [{ alertCode: 'HA', date: '2024-01-01', comment: 'current' }],
    });
    await harness.control.createPrisoner({
      offenderNo: mergedAway,
      alerts: [{ alertCode: 'XEL', date: '2024-03-03' }],
    });
    await harness.producer.send({
      topic: harness.topics.domainEvents,
      messages: [prisoner, mergedAway, moveTarget].map(received),
    });
    producedByTest += 3;
    await settle([prisoner, mergedAway, moveTarget]);

    const mergeAt = Math.floor(rng() * OPS);
    const moveAt = Math.floor(rng() * OPS);
    for (let i = 0; i < OPS; i++) {
      if (i === mergeAt) await harness.control.merge({ retained: prisoner, removed: mergedAway });
      if (i === moveAt) {
        const { latestBookingAlerts, previousBookingsAlerts } = await harness.apis.nomis.getAlertsToMigrate(prisoner);
        const bookingId = (latestBookingAlerts[0] ?? previousBookingsAlerts[0])?.bookingId;
        const view = await harness.control.getPrisoner(prisoner);
        // Move the current booking away when there is another to fall back to, so the prisoner keeps one.
        if (view.bookings.length > 1 && view.currentBookingId) {
          await harness.control.moveBooking({ bookingId: view.currentBookingId, from: prisoner, to: moveTarget });
        } else if (bookingId === undefined) {
          throw new Error('unexpected: prisoner without alerts or bookings');
        }
      }
      await (rng() < 0.5 ? nomisUserOp(rng, prisoner) : dpsUserOp(rng, prisoner));
    }
    await settle([prisoner, mergedAway, moveTarget]);

    if (process.env.BURST_DEBUG) {
      for (const p of [prisoner, mergedAway, moveTarget]) {
        console.log(p, JSON.stringify(await harness.control.state(p)).slice(0, 4000));
        console.log(p, JSON.stringify(await listPrisonerMappings(harness.db, p)));
      }
    }
    expect(await invariantViolations(harness, prisoner)).toEqual([]);
    expect(await invariantViolations(harness, moveTarget)).toEqual([]);
    expect(await harness.apis.dps.getPrisonerAlerts(mergedAway)).toEqual([]);
    expect(await listPrisonerMappings(harness.db, mergedAway)).toEqual([]);
  },
  180_000,
);
