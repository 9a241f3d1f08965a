import type { CreatePrisonerRequest, SeedAlert } from './nomis';
import { ALERT_CODES } from './reference-data';
import { createRng, intBetween, pick } from './random';
import type { Rng } from './random';
import { addDays } from './time';

// Demo data for the dev stack: a few named prisoners set up for each prisoner-level scenario, then a bulk of
// ordinary ones. The named ones are created first on a fresh simulator, so their bookingIds never change.

export interface PrisonerSeeder {
  createPrisoner(request: CreatePrisonerRequest): unknown;
}

/** The named demo prisoners and what to do with them (the CLI help prints this). */
export const DEMO_SCENARIOS = {
  merge: { retained: 'M0001RT', removed: 'M0002RM' },
  moveBooking: { from: 'B0001MV', to: 'B0002MV', bookingId: 1_200_004 },
  receivePrevious: { offenderNo: 'R0001RP', bookingId: 1_200_005 },
  newBooking: { offenderNo: 'A0001AA' },
} as const;

const alert = (alertCode: string, date: string, extra: Partial<SeedAlert> = {}): SeedAlert => ({
  alertCode,
  date,
  comment: `Demo ${alertCode} alert`,
  authorisedBy: 'Demo Governor',
  createUsername: 'DEMO_USER',
  ...extra,
});

const NAMED_PRISONERS: CreatePrisonerRequest[] = [
  // Merge: both hold an active XA (kept once); the removed one's RSS is copied over, its inactive VI is not.
  {
    offenderNo: DEMO_SCENARIOS.merge.retained,
    alerts: [alert('XA', '2024-01-10'), alert('HA', '2024-02-01')],
  },
  {
    offenderNo: DEMO_SCENARIOS.merge.removed,
    alerts: [
      alert('XA', '2024-03-05'),
      alert('RSS', '2024-03-06'),
      alert('VI', '2023-05-01', { expiryDate: '2023-09-01', isActive: false }),
    ],
  },
  // Move: B0002MV is created first, so B0001MV's current booking 1200004 is the newer one and becomes B0002MV's.
  { offenderNo: DEMO_SCENARIOS.moveBooking.to, alerts: [alert('PEEP', '2024-04-01')] },
  {
    offenderNo: DEMO_SCENARIOS.moveBooking.from,
    previousBookings: [{ alerts: [alert('XEL', '2022-06-01')] }],
    alerts: [alert('HS', '2024-05-01'), alert('XEL', '2024-05-02')],
  },
  // Receive onto previous booking: 1200005 holds different alerts from the current 1200006.
  {
    offenderNo: DEMO_SCENARIOS.receivePrevious.offenderNo,
    previousBookings: [{ alerts: [alert('XSA', '2023-01-15'), alert('HA', '2023-02-01')] }],
    alerts: [alert('VI', '2024-06-01')],
  },
];

function demoPrisonNumber(index: number): string {
  return `A${String(index).padStart(4, '0')}AA`;
}

function randomAlerts(rng: Rng, count: number): SeedAlert[] {
  const codes = [...ALERT_CODES];
  const alerts: SeedAlert[] = [];
  for (let i = 0; i < count && codes.length > 0; i++) {
    // Distinct codes per booking, so no two active alerts clash.
    const code = codes.splice(Math.floor(rng() * codes.length), 1)[0];
    if (!code) break;
    const date = addDays('2023-01-01', intBetween(rng, 0, 600));
    const inactive = rng() < 0.25;
    alerts.push(
      alert(
        code.code,
        date,
        inactive ? { expiryDate: addDays(date, intBetween(rng, 30, 200)), isActive: false } : { isActive: true },
      ),
    );
  }
  return alerts;
}

/**
 * Creates the named scenario prisoners, then `count` prisoners A0001AA… with 1-2 bookings and 0-4 alerts each.
 * Deterministic for a given rng seed. Returns the prison numbers created.
 */
export async function seedDemoPrisoners(
  seeder: PrisonerSeeder,
  count: number,
  rng: Rng = createRng(1),
): Promise<string[]> {
  const created: string[] = [];
  for (const request of NAMED_PRISONERS) {
    await seeder.createPrisoner(request);
    created.push(request.offenderNo);
  }
  for (let i = 1; i <= count; i++) {
    const offenderNo = demoPrisonNumber(i);
    const previousBookings = rng() < 0.4 ? [{ alerts: randomAlerts(rng, intBetween(rng, 0, 2)) }] : [];
    await seeder.createPrisoner({
      offenderNo,
      prisonId: pick(rng, ['MDI', 'LEI', 'BXI', 'WWI']),
      previousBookings,
      alerts: randomAlerts(rng, intBetween(rng, 0, 4)),
    });
    created.push(offenderNo);
  }
  return created;
}
