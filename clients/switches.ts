import os from 'node:os';
import { createDb, changeSyncSwitches, listSyncSwitchChanges, migrateLatest, readSyncSwitches } from '../adapters/db';
import { loadConfig } from '../common/config';
import { describeSwitches, isOneWayDpsToNomis, parseSwitchAssignments, SWITCH_NAMES } from '../common/sync-switches';

// Operator command: the sync's run-time switches (ADR002's directions, ADR004's resync source), for the deployment
// of this task queue. Every worker and router reads them live; a change is in force for every event consumed
// once this command returns, with no restart.
//   npm run switches                                   what is in force, and the last changes
//   npm run switches -- set resync-source=dps nomis-to-dps=off --reason "ADR002 end state" [--by jsmith]

const USAGE = `usage: npm run switches -- [show | set name=value ... --reason "why" [--by who]]
  names: ${Object.keys(SWITCH_NAMES).join(', ')}; values: nomis|dps for resync-source, on|off for the others`;

function option(argv: string[], name: string): string | undefined {
  const at = argv.indexOf(name);
  if (at < 0) return undefined;
  const value = argv[at + 1];
  if (!value || value.startsWith('--')) throw new Error(`${name} needs a value\n${USAGE}`);
  return value;
}

async function main(argv: string[]): Promise<void> {
  const [command = 'show', ...rest] = argv;
  if (command !== 'show' && command !== 'set') throw new Error(`unknown command "${command}"\n${USAGE}`);
  const config = loadConfig();
  const scope = config.temporal.taskQueue;
  const db = createDb(config.postgres.url, { min: 0, max: 1 });
  try {
    await migrateLatest(db);
    if (command === 'set') {
      const reason = option(rest, '--reason');
      if (!reason) throw new Error(`--reason is required: the change is recorded with who made it and why\n${USAGE}`);
      const by = option(rest, '--by') ?? os.userInfo().username;
      const assignments = rest.filter(
        (a, i) => !a.startsWith('--') && !['--reason', '--by'].includes(rest[i - 1] ?? ''),
      );
      const change = parseSwitchAssignments(assignments);
      const { before, after } = await changeSyncSwitches(
        db,
        scope,
        change,
        { changedBy: by, reason },
        config.switches.defaults,
      );
      console.log(`before: ${describeSwitches(before)}`);
      console.log(`after:  ${describeSwitches(after)} (by ${after.changedBy} at ${after.changedAt}: ${after.reason})`);
      // Every worker and router keeps what it read for at most this long.
      console.log(`waiting ${config.switches.cacheMs} ms for every worker and router to read it ...`);
      await new Promise((resolve) => setTimeout(resolve, config.switches.cacheMs));
      console.log('in force for every event consumed from now on');
      if (isOneWayDpsToNomis(after)) {
        console.log(
          "ADR002's end state: NOMIS users' changes are no longer copied; every resync makes NOMIS match DPS",
        );
      }
      return;
    }
    const current = await readSyncSwitches(db, scope, config.switches.defaults);
    console.log(`task queue ${scope}: ${describeSwitches(current)}`);
    console.log(`  last set by ${current.changedBy} at ${current.changedAt}: ${current.reason}`);
    const changes = await listSyncSwitchChanges(db, scope, 10);
    if (changes.length > 0) console.log('changes, newest first:');
    for (const c of changes) console.log(`  ${c.changedAt} ${c.changedBy}: ${c.before} -> ${c.after} (${c.reason})`);
  } finally {
    await db.destroy();
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
