import { findUnmappedDpsAlertIds, replacePrisonerMappings } from '../../adapters/db';
import { toResyncAlert } from '../../common/alert-fields';
import { mapConcurrently } from '../../common/concurrency';
import { incompleteProblems, INVARIANT_SAMPLE, invariantProblems } from './checks';
import type { Bench, PhaseOutcome } from './context';
import { ALERT_CODES, PhaseRefused, progress, seedPrisoners } from './context';

// Phase 1: the same resync work without Temporal, a promise pool on the same clients: the baseline the bulk
// resync's figure is a ratio of.

export async function baselinePhase(bench: Bench): Promise<PhaseOutcome> {
  const prisoners = bench.prisonNumbers(0, bench.options.baselinePrisoners);
  progress(`baseline: seeding ${prisoners.length} prisoners x ${ALERT_CODES.length} alerts`);
  seedPrisoners(bench, prisoners);
  progress(`baseline: resyncing ${prisoners.length} prisoners without Temporal, ${bench.options.concurrency} at once`);
  const failures: string[] = [];
  const started = Date.now();
  await mapConcurrently(prisoners, bench.options.concurrency, async (prisonNumber) => {
    try {
      await resyncWithoutTemporal(bench, prisonNumber);
    } catch (err) {
      failures.push(`${prisonNumber}: ${String(err)}`);
    }
  });
  const wallMs = Date.now() - started;
  const value = (prisoners.length / wallMs) * 1000;
  const details = { prisoners: prisoners.length, wallMs, failed: failures.length };
  progress(`baseline: done in ${(wallMs / 1000).toFixed(1)} s, checking the outcome`);
  const problems: string[] = [];
  if (failures.length > 0) problems.push(`${failures.length} resync(s) failed, first: ${failures[0]}`);
  problems.push(...incompleteProblems(bench, prisoners));
  problems.push(...(await invariantProblems(bench, prisoners)));
  if (problems.length > 0) throw new PhaseRefused(problems, details);
  return { value, details: { ...details, invariantSample: Math.min(INVARIANT_SAMPLE, prisoners.length) } };
}

/** What common/resync-once.ts's resyncOnce asks its activities to do, with the clients and transaction they use. */
async function resyncWithoutTemporal(bench: Bench, prisonNumber: string): Promise<void> {
  const { nomis, dps } = bench.apis;
  const { latestBookingAlerts } = await nomis.getAlertsToMigrate(prisonNumber);
  const alerts = latestBookingAlerts.map(toResyncAlert);
  // The guarded resync reads DPS and the mappings before replacing DPS (activities/dps.ts, unsyncedDpsAlerts);
  // its reads are part of a resync's cost, so they are made here too. Nothing else writes these prisoners.
  const inDps = await dps.getPrisonerAlerts(prisonNumber);
  await findUnmappedDpsAlertIds(
    bench.db,
    inDps.map((a) => a.alertUuid),
  );
  const created = await dps.resyncPrisonerAlerts(prisonNumber, alerts);
  if (created.length !== alerts.length) throw new Error(`DPS answered ${created.length} alerts for ${alerts.length}`);
  await replacePrisonerMappings(bench.db, {
    offenderNo: prisonNumber,
    mappingType: 'RESYNC',
    mappings: created.map((c) => ({
      dpsAlertId: c.alertUuid,
      nomisBookingId: c.offenderBookId,
      nomisAlertSequence: c.alertSeq,
    })),
  });
}
