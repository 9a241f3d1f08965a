import { setTimeout as sleep } from 'node:timers/promises';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { ScheduleNotFoundError, ScheduleOverlapPolicy } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import type { Config } from '../common/config';
import { RECONCILIATION_SCHEDULE_ID, RECONCILIATION_WORKFLOW_ID } from '../common/ids';
import { SYNC_KIND } from '../common/search-attributes';
import { SyncKind } from '../common/sync-kinds';
import type { ReconciliationInput, ReconciliationReport } from '../workflows/reconciliation';
import { reconciliationWorkflow } from '../workflows/reconciliation';

// The reconciliation Temporal Schedule: create or update it from config, run it now, read its latest report.

export interface ScheduleSettings {
  scheduleId: string;
  /** The schedule appends the time of each action to this. */
  workflowId: string;
  taskQueue: string;
  interval: Duration;
  input: ReconciliationInput;
  paused?: boolean;
}

export function scheduleSettingsFromConfig(config: Config): ScheduleSettings {
  return {
    scheduleId: RECONCILIATION_SCHEDULE_ID,
    workflowId: RECONCILIATION_WORKFLOW_ID,
    taskQueue: config.temporal.taskQueue,
    interval: config.reconciliation.interval,
    input: {
      autoResync: config.reconciliation.autoResync,
      pageSize: config.reconciliation.pageSize,
      recheckDelay: config.reconciliation.recheckDelay,
      resync: config.bulkResync,
    },
  };
}

/** Idempotent: creates the schedule, or brings an existing one in line with the settings (interval, input). */
export async function upsertReconciliationSchedule(
  client: Client,
  settings: ScheduleSettings,
): Promise<'created' | 'updated'> {
  const spec = { intervals: [{ every: settings.interval }] };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: reconciliationWorkflow,
    workflowId: settings.workflowId,
    taskQueue: settings.taskQueue,
    args: [settings.input] as [ReconciliationInput],
    typedSearchAttributes: [{ key: SYNC_KIND, value: SyncKind.reconciliation }],
    staticSummary:
      `reconciliation: NOMIS vs DPS vs mappings for every prisoner in prison` +
      (settings.input.autoResync ? ', resyncing those out of step' : ', report only'),
  };
  const handle = client.schedule.getHandle(settings.scheduleId);
  try {
    await handle.describe();
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
    await client.schedule.create({
      scheduleId: settings.scheduleId,
      spec,
      action,
      // A run that outlasts the interval is not doubled up; the next one starts when it is due after it.
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
      state: { paused: settings.paused ?? false, note: 'created by the alerts sync' },
    });
    return 'created';
  }
  await handle.update((previous) => ({
    ...previous,
    spec,
    action,
    state: { ...previous.state, paused: settings.paused ?? previous.state.paused },
  }));
  return 'updated';
}

type ReconciliationHandle = WorkflowHandle<typeof reconciliationWorkflow>;

/** Triggers the schedule now and returns the run it started. */
export async function runReconciliationNow(client: Client, scheduleId: string): Promise<ReconciliationHandle> {
  const handle = client.schedule.getHandle(scheduleId);
  const before = new Set((await handle.describe()).info.recentActions.map((a) => a.action.workflow.workflowId));
  await handle.trigger(ScheduleOverlapPolicy.ALLOW_ALL);
  for (let attempt = 0; attempt < 150; attempt++) {
    const started = (await handle.describe()).info.recentActions.find((a) => !before.has(a.action.workflow.workflowId));
    if (started) return client.workflow.getHandle(started.action.workflow.workflowId);
    await sleep(200);
  }
  throw new Error(`schedule ${scheduleId} was triggered but no run appeared within 30 s`);
}

/** The most recent run the schedule started, if any. */
export async function latestReconciliation(
  client: Client,
  scheduleId: string,
): Promise<ReconciliationHandle | undefined> {
  const latest = (await client.schedule.getHandle(scheduleId).describe()).info.recentActions.at(-1);
  return latest && client.workflow.getHandle(latest.action.workflow.workflowId);
}

export function formatReconciliationReport(workflowId: string, report: ReconciliationReport): string {
  const lines = [
    `${workflowId}: checked ${report.checked} prisoners, ${report.mismatched} out of step` +
      (report.settledOnRecheck
        ? ` (${report.settledOnRecheck} more differed at first but had settled on recheck)`
        : ''),
  ];
  for (const drifted of report.drifted) {
    lines.push(`  ${drifted.prisonNumber}`);
    for (const problem of drifted.problems) lines.push(`    ${problem}`);
  }
  // Runs older than driftedPrisonNumbers reported every prisoner in full.
  const unshown = (report.driftedPrisonNumbers ?? []).slice(report.drifted.length);
  if (unshown.length > 0) lines.push(`  and ${unshown.length} more: ${unshown.join(' ')}`);
  if (report.resync) {
    lines.push(
      `auto-resync batch ${report.resync.batchId}: ${report.resync.done} resynced, ${report.resync.failed} failed`,
    );
    for (const failure of report.resync.failures) lines.push(`  ${failure.prisonNumber}  ${failure.reason}`);
  }
  return lines.join('\n');
}
