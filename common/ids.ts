// Workflow ids carry the business key, so an operator can find a run by typing what they know.

export function stackCheckWorkflowId(checkId: string): string {
  return `stack-check-${checkId}`;
}

/** One id per prisoner: at most one resync of a prisoner runs at a time, later requests join it. */
export function prisonerResyncWorkflowId(prisonNumber: string): string {
  return `resync-${prisonNumber}`;
}
