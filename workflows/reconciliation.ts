import {
  continueAsNew,
  executeChild,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SyncActivities } from '../activities';
import type { DriftedPrisoner } from '../activities/reconciliation';
import { bulkResyncWorkflowId } from '../common/ids';
import { RECONCILIATION_CHECK_ACTIVITY } from '../common/retry-policies';
import { SYNC_KIND } from '../common/search-attributes';
import { SyncKind } from '../common/sync-kinds';
import { bulkResyncWorkflow } from './bulk-resync';
import { legacyReconciliation } from './reconciliation-legacy';
import type { ReconciliationInput, ReconciliationReport, ReconciliationState } from './reconciliation-types';

export type { ReconciliationInput, ReconciliationReport } from './reconciliation-types';

const checks = proxyActivities<SyncActivities>(RECONCILIATION_CHECK_ACTIVITY);

/** Prisoners whose differences are kept line by line; the rest are named only (the estate is 87,500 people). */
const DETAILS_KEPT = 100;
/** Pages one run checks before it continues as new, keeping its history short. */
const PAGES_PER_RUN = 200;
/** Runs started before reconciliations continued as new and bounded their lists did neither. */
const BOUNDED_RECONCILIATION = 'reconciliation-continues-as-new-bounded';

/**
 * Contract §6 for every prisoner in prison, run by a Temporal Schedule: NOMIS's current-booking alerts against
 * DPS's alerts and the mapping table. Reports who differs; with autoResync, resyncs them as a bulk batch.
 */
export async function reconciliationWorkflow(input: ReconciliationInput): Promise<ReconciliationReport> {
  upsertSearchAttributes([{ key: SYNC_KIND, value: SyncKind.reconciliation }]);
  if (!patched(BOUNDED_RECONCILIATION)) return legacyReconciliation(input);
  const state: ReconciliationState = input.state ?? { nextPage: 0, pages: 1, checked: 0, firstLook: [] };
  const detailsKept = input.detailsKept ?? DETAILS_KEPT;

  // 1. Every page of prisoners NOMIS has in prison, each compared with DPS and the mappings.
  for (let pagesThisRun = 0; state.nextPage < state.pages; pagesThisRun++) {
    if (pagesThisRun >= (input.pagesPerRun ?? PAGES_PER_RUN) || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof reconciliationWorkflow>({ ...input, state });
    }
    const result = await checks.checkPrisonerPage.executeWithOptions(
      {
        ...RECONCILIATION_CHECK_ACTIVITY,
        summary: `compare page ${state.nextPage + 1} of prisoners (${input.pageSize} a page)`,
      },
      [{ page: state.nextPage, pageSize: input.pageSize, prisonId: input.prisonId }],
    );
    state.pages = result.totalPages;
    state.checked += result.checked;
    state.firstLook.push(...result.drifted.map((d) => d.prisonNumber));
    state.nextPage++;
    setCurrentDetails(
      `checked ${state.checked} prisoners (page ${state.nextPage} of ${state.pages}), ${state.firstLook.length} differ`,
    );
  }

  // 2. Look again at those that differed, once their in-flight syncs have had time to land.
  let recheck = { drifted: [] as string[], details: [] as DriftedPrisoner[] };
  if (state.firstLook.length > 0) {
    await sleep(input.recheckDelay);
    recheck = await checks.recheckPrisoners.executeWithOptions(
      { ...RECONCILIATION_CHECK_ACTIVITY, summary: `recheck ${state.firstLook.length} prisoners that differed` },
      [{ prisonNumbers: state.firstLook, detailsKept }],
    );
  }
  const report: ReconciliationReport = {
    checked: state.checked,
    mismatched: recheck.drifted.length,
    drifted: recheck.details,
    driftedPrisonNumbers: recheck.drifted,
    settledOnRecheck: state.firstLook.length - recheck.drifted.length,
  };
  log.info('reconciliation checked prisoners', {
    checked: state.checked,
    mismatched: recheck.drifted.length,
    prisonNumbers: recheck.drifted.slice(0, detailsKept),
  });

  // 3. Optionally put them right: NOMIS is authoritative, so a resync of each.
  if (input.autoResync && recheck.drifted.length > 0) {
    const batchId = `reconciliation-${new Date(Date.now()).toISOString().replace(/[-:]/g, '').slice(0, 15)}`;
    setCurrentDetails(
      `${recheck.drifted.length} of ${state.checked} prisoners differ; resyncing them (batch ${batchId})`,
    );
    report.resync = await executeChild(bulkResyncWorkflow, {
      workflowId: bulkResyncWorkflowId(batchId),
      args: [
        {
          batchId,
          prisonNumbers: recheck.drifted,
          ...input.resync,
          redo: true,
          reason: 'reconciliation found drift',
        },
      ],
      staticSummary: `resync ${recheck.drifted.length} prisoners reconciliation found out of step`,
    });
  }
  setCurrentDetails(
    `${state.checked} prisoners checked, ${recheck.drifted.length} out of step` +
      (report.resync ? `, resynced: ${report.resync.done} done, ${report.resync.failed} failed` : ''),
  );
  return report;
}
