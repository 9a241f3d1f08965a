// Workflow ids carry the business key, so an operator can find a run by typing what they know.

export function stackCheckWorkflowId(checkId: string): string {
  return `stack-check-${checkId}`;
}

/** One id per prisoner: its syncs (resyncs and alert-level) run one at a time; later requests join it. */
export function prisonerSyncWorkflowId(prisonNumber: string): string {
  return `prisoner-sync-${prisonNumber}`;
}

/** A short alert-level sync, child of the prisoner's workflow; the suffix makes repeats of one alert distinct. */
export function alertSyncWorkflowId(prisonNumber: string, alertKey: string, suffix: string): string {
  return `alert-sync-${prisonNumber}-${alertKey}-${suffix}`;
}
