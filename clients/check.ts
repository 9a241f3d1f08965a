import { createApiClients } from '../adapters/clients';
import { createDb, listPrisonerMappings } from '../adapters/db';
import { ApiError } from '../adapters/http';
import { loadConfig } from '../common/config';
import { findInvariantViolations } from '../common/invariant';

// Operator command: is a prisoner in sync (contract §6)? Reads NOMIS, DPS and the mapping table, prints what
// differs, exits 1 if anything does.
//   node --import tsx clients/check.ts A1234BC [B2345CD ...]

async function main(prisonNumbers: string[]): Promise<void> {
  if (prisonNumbers.length === 0) throw new Error('usage: clients/check.ts <prisonNumber> [...]');
  const config = loadConfig();
  const apis = createApiClients(config.apis);
  const db = createDb(config.postgres.url);
  let outOfSync = 0;
  try {
    for (const prisonNumber of prisonNumbers) {
      const [nomis, dps, mappings] = await Promise.all([
        // Not in NOMIS (merged away, or unknown): in sync means no DPS alerts and no mappings.
        apis.nomis
          .getAlertsToMigrate(prisonNumber)
          .then((alerts) => alerts.latestBookingAlerts)
          .catch((err: unknown) => {
            if (err instanceof ApiError && err.status === 404) return [];
            throw err;
          }),
        apis.dps.getPrisonerAlerts(prisonNumber),
        listPrisonerMappings(db, prisonNumber),
      ]);
      const problems = findInvariantViolations(prisonNumber, nomis, dps, mappings);
      if (problems.length) outOfSync++;
      console.log(
        problems.length
          ? `${prisonNumber}: OUT OF SYNC\n  ${problems.join('\n  ')}`
          : `${prisonNumber}: in sync (${dps.length} alerts, ${mappings.length} mappings)`,
      );
    }
  } finally {
    await apis.close();
    await db.destroy();
  }
  if (outOfSync) process.exitCode = 1;
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
