import { executeChild, log, proxyActivities, setCurrentDetails, sleep } from '@temporalio/workflow';

import type { SyncActivities } from '../activities';
import type { DriftedPrisoner } from '../activities/reconciliation';
import { bulkResyncWorkflowId } from '../common/ids';
import { RECONCILIATION_CHECK_ACTIVITY } from '../common/retry-policies';
import { bulkResyncWorkflow } from './bulk-resync';
import type { ReconciliationInput, ReconciliationReport } from './reconciliation-types';

const checks = proxyActivities<SyncActivities>(RECONCILIATION_CHECK_ACTIVITY);

/**
 * The reconciliation as runs started before it continued as new and kept its lists bounded ran it: kept only so
 * that those runs replay. Delete it (and its patch) once no such run is open.
 */
export async function legacyReconciliation(input: ReconciliationInput): Promise<ReconciliationReport> {
  // 1. Every page of prisoners NOMIS has in prison, each compared with DPS and the mappings.
  let checked = 0;
  const firstLook: DriftedPrisoner[] = [];
  for (let page = 0, pages = 1; page < pages; page++) {
    const result = await checks.checkPrisonerPage.executeWithOptions(
      { ...RECONCILIATION_CHECK_ACTIVITY, summary: `compare page ${page + 1} of prisoners (${input.pageSize} a page)` },
      [{ page, pageSize: input.pageSize, prisonId: input.prisonId }],
    );
    pages = result.totalPages;
    checked += result.checked;
    firstLook.push(...result.drifted);
    setCurrentDetails(`checked ${checked} prisoners (page ${page + 1} of ${pages}), ${firstLook.length} differ`);
  }

  // 2. Look again at those that differed, once their in-flight syncs have had time to land.
  let drifted: DriftedPrisoner[] = [];
  if (firstLook.length > 0) {
    await sleep(input.recheckDelay);
    drifted = await checks.checkPrisoners.executeWithOptions(
      { ...RECONCILIATION_CHECK_ACTIVITY, summary: `recheck ${firstLook.length} prisoners that differed` },
      [{ prisonNumbers: firstLook.map((d) => d.prisonNumber) }],
    );
  }
  const report: ReconciliationReport = {
    checked,
    mismatched: drifted.length,
    drifted,
    driftedPrisonNumbers: drifted.map((d) => d.prisonNumber),
    settledOnRecheck: firstLook.length - drifted.length,
  };
  log.info('reconciliation checked prisoners', {
    checked,
    mismatched: drifted.length,
    prisonNumbers: drifted.map((d) => d.prisonNumber),
  });

  // 3. Optionally put them right: NOMIS is authoritative, so a resync of each.
  if (input.autoResync && drifted.length > 0) {
    const batchId = `reconciliation-${new Date(Date.now()).toISOString().replace(/[-:]/g, '').slice(0, 15)}`;
    setCurrentDetails(`${drifted.length} of ${checked} prisoners differ; resyncing them (batch ${batchId})`);
    report.resync = await executeChild(bulkResyncWorkflow, {
      workflowId: bulkResyncWorkflowId(batchId),
      args: [
        {
          batchId,
          prisonNumbers: drifted.map((d) => d.prisonNumber),
          ...input.resync,
          redo: true,
          reason: 'reconciliation found drift',
        },
      ],
      staticSummary: `resync ${drifted.length} prisoners reconciliation found out of step`,
    });
  }
  setCurrentDetails(
    `${checked} prisoners checked, ${drifted.length} out of step` +
      (report.resync ? `, resynced: ${report.resync.done} done, ${report.resync.failed} failed` : ''),
  );
  return report;
}
