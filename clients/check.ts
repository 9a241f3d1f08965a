import { createApiClients } from '../adapters/clients';
import { createDb } from '../adapters/db';
import { readInvariantViolations } from '../adapters/sync-check';
import { loadConfig } from '../common/config';

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
      const {
        violations: problems,
        dpsAlerts,
        mappings,
      } = await readInvariantViolations({ ...apis, db }, prisonNumber);
      if (problems.length) outOfSync++;
      console.log(
        problems.length
          ? `${prisonNumber}: OUT OF SYNC\n  ${problems.join('\n  ')}`
          : `${prisonNumber}: in sync (${dpsAlerts} alerts, ${mappings} mappings)`,
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
