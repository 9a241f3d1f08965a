import { connectClient } from '../adapters/temporal';
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

const USAGE = 'usage: clients/reconcile.ts schedule | run | report';

async function main(command: string | undefined): Promise<void> {
  if (command !== 'schedule' && command !== 'run' && command !== 'report') throw new Error(USAGE);
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

main(process.argv[2]).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
