// Workflow ids carry the business key, so an operator can find a run by typing what they know.

export function stackCheckWorkflowId(checkId: string): string {
  return `stack-check-${checkId}`;
}
