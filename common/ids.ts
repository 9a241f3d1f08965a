// Workflow ids carry the business key, so an operator can find a run by typing what they know.

/** One id per prisoner: its syncs (resyncs and alert-level) run one at a time; later requests join it. */
export function prisonerSyncWorkflowId(prisonNumber: string): string {
  return `prisoner-sync-${prisonNumber}`;
}

/** A short alert-level sync, child of the prisoner's workflow; the suffix makes repeats of one alert distinct. */
export function alertSyncWorkflowId(prisonNumber: string, alertKey: string, suffix: string): string {
  return `alert-sync-${prisonNumber}-${alertKey}-${suffix}`;
}

/** A bulk resync batch: the same batch id is the same workflow, so a client can re-attach to it by name. */
export function bulkResyncWorkflowId(batchId: string): string {
  return `bulk-resync-${batchId}`;
}

/** Batch ids become part of workflow ids and database keys: short, and nothing an operator cannot type. */
export const BATCH_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/;

/** The one reconciliation schedule; each run it starts is `reconciliation-<time>` (the schedule appends it). */
export const RECONCILIATION_SCHEDULE_ID = 'alerts-reconciliation';
export const RECONCILIATION_WORKFLOW_ID = 'reconciliation';

/**
 * The event id of a bulk batch run's resync request for one prisoner: the prisoner's workflow ignores it twice,
 * and reports it back, so that the batch counts only the answer to its own request.
 */
export function batchResyncEventId(runKey: string, prisonNumber: string): string {
  return `${runKey}:${prisonNumber}`;
}
