import os from 'node:os';
import { createDb, changeSyncSwitches, listSyncSwitchChanges, migrateLatest, readSyncSwitches } from '../adapters/db';
import { parseCommandLine, runCommand, UsageError } from '../common/cli-args';
import { loadConfig } from '../common/config';
import type { SyncSwitches } from '../common/sync-switches';
import { describeSwitches, isOneWayDpsToNomis, parseSwitchAssignments, SWITCH_NAMES } from '../common/sync-switches';

// Operator command: the sync's run-time switches (ADR002's directions, ADR004's resync source), for the deployment
// of this task queue. Every worker and router reads them live; a change is in force for every event consumed
// once this command returns, with no restart.
//   npm run switches                                   what is in force, and the last changes
//   npm run switches -- set resync-source=dps nomis-to-dps=off --reason "ADR002 end state" [--by jsmith]

const USAGE = `usage: npm run switches -- [show | set name=value ... --reason "why" [--by who]]
  names: ${Object.keys(SWITCH_NAMES).join(', ')}; values: nomis|dps for resync-source, on|off for the others
  --reason "why"  required with set: the change is recorded with who made it and why
  --by who        who made it (default: this machine's user)`;

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommandLine(argv, { reason: { type: 'string' }, by: { type: 'string' } }, true);
  const [command = 'show', ...assignments] = positionals;
  if (command !== 'show' && command !== 'set') throw new UsageError(`unknown command "${command}"`);
  if (command === 'show' && (assignments.length > 0 || values.reason !== undefined || values.by !== undefined)) {
    throw new UsageError('show takes no arguments: did you mean set?');
  }
  if (command === 'set' && !values.reason) {
    throw new UsageError('--reason is required: the change is recorded with who made it and why');
  }
  if (values.by === '') throw new UsageError('--by needs a value');
  const change = command === 'set' ? switchChange(assignments) : undefined;
  const config = loadConfig();
  const scope = config.temporal.taskQueue;
  const db = createDb(config.postgres.url, { min: 0, max: 1 });
  try {
    await migrateLatest(db);
    if (change) {
      const reason = values.reason ?? '';
      const by = values.by ?? os.userInfo().username;
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

/** Checked before the database is opened: a typo is a usage mistake, never a change. */
function switchChange(assignments: string[]): Partial<SyncSwitches> {
  try {
    return parseSwitchAssignments(assignments);
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

runCommand('switches', USAGE, () => main(process.argv.slice(2)));
