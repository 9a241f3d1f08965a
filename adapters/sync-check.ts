import type { Db } from './db';
import { listPrisonerMappings } from './db';
import type { DpsAlertsApiClient } from './dps';
import { ApiError } from './http';
import type { NomisApiClient } from './nomis';
import { findInvariantViolations } from '../common/invariant';

/**
 * Contract §6 for one prisoner, read from NOMIS, DPS and the mapping table. A prisoner NOMIS no longer knows
 * (merged away, or unknown) is in sync when DPS and the mappings are empty.
 */
export async function readInvariantViolations(
  deps: { nomis: NomisApiClient; dps: DpsAlertsApiClient; db: Db },
  prisonNumber: string,
): Promise<{ violations: string[]; dpsAlerts: number; mappings: number }> {
  const [nomis, dps, mappings] = await Promise.all([
    deps.nomis
      .getAlertsToMigrate(prisonNumber)
      .then((alerts) => alerts.latestBookingAlerts)
      .catch((err: unknown) => {
        if (err instanceof ApiError && err.status === 404) return [];
        throw err;
      }),
    deps.dps.getPrisonerAlerts(prisonNumber),
    listPrisonerMappings(deps.db, prisonNumber),
  ]);
  return {
    violations: findInvariantViolations(prisonNumber, nomis, dps, mappings),
    dpsAlerts: dps.length,
    mappings: mappings.length,
  };
}
