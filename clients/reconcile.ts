import { connectClient } from '../adapters/temporal';
import { parseCommandLine, runCommand, UsageError } from '../common/cli-args';
import { loadConfig } from '../common/config';
import {
  formatReconciliationReport,
  latestReconciliation,
  runReconciliationNow,
  scheduleSettingsFromConfig,
  upsertReconciliationSchedule,
} from './reconciliation';

// Operator command for the reconciliation schedule (contract §6 for every prisoner in prison).
//   node --import tsx clients/reconcile.ts schedule   create or update the schedule from RECONCILIATION_* config
//   node --import tsx clients/reconcile.ts run        run it now, wait, print the report
//   node --import tsx clients/reconcile.ts report     print the latest run's report

const USAGE = `usage: npm run reconcile -- schedule | run | report
  schedule  create or update the schedule from the RECONCILIATION_* settings
  run       apply the settings, run it now, wait, print the report
  report    print the latest run's report`;

async function main(argv: string[]): Promise<void> {
  const { positionals } = parseCommandLine(argv, {}, true);
  const [command, ...extra] = positionals;
  if (command !== 'schedule' && command !== 'run' && command !== 'report') {
    throw new UsageError(command === undefined ? 'give a command' : `unknown command "${command}"`);
  }
  if (extra.length > 0) throw new UsageError(`${command} takes no arguments, got ${extra.join(' ')}`);
  const config = loadConfig();
  const settings = scheduleSettingsFromConfig(config);
  const { client, close } = await connectClient(config);
  try {
    if (command === 'schedule' || command === 'run') {
      const outcome = await upsertReconciliationSchedule(client, settings);
      console.log(
        `schedule ${settings.scheduleId} ${outcome}: every ${settings.interval}, ` +
          `auto-resync ${settings.input.autoResync ? 'on' : 'off'}, recheck after ${String(settings.input.recheckDelay)}`,
      );
      if (command === 'schedule') return;
    }
    const handle =
      command === 'run'
        ? await runReconciliationNow(client, settings.scheduleId)
        : await latestReconciliation(client, settings.scheduleId);
    if (!handle) {
      console.log(`schedule ${settings.scheduleId} has not run yet`);
      return;
    }
    console.log(
      `${command === 'run' ? 'running' : 'latest run'}: ${config.temporal.uiUrl}/namespaces/${config.temporal.namespace}/workflows/${handle.workflowId}`,
    );
    const report = await handle.result();
    console.log(formatReconciliationReport(handle.workflowId, report));
    if (report.mismatched > 0 && !report.resync) process.exitCode = 1;
  } finally {
    await close();
  }
}

runCommand('reconcile', USAGE, () => main(process.argv.slice(2)));
