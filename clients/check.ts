import { createApiClients } from '../adapters/clients';
import { createDb } from '../adapters/db';
import { readInvariantViolations } from '../adapters/sync-check';
import { parseCommandLine, runCommand, UsageError } from '../common/cli-args';
import { loadConfig } from '../common/config';

// Operator command: is a prisoner in sync (contract §6)? Reads NOMIS, DPS and the mapping table, prints what
// differs, exits 1 if anything does.
//   node --import tsx clients/check.ts A1234BC [B2345CD ...]

const USAGE = `usage: npm run check -- <prisonNumber> [...]
  prints what differs between NOMIS, DPS and the mapping table for each prisoner; exits 1 if anything does`;

async function main(argv: string[]): Promise<void> {
  const { positionals: prisonNumbers } = parseCommandLine(argv, {}, true);
  if (prisonNumbers.length === 0) throw new UsageError('give at least one prison number');
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

runCommand('check', USAGE, () => main(process.argv.slice(2)));
