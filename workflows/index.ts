// The worker registers every function this module exports as a workflow type: only workflows, by name, so a
// helper (resyncInPlace, failureType) never becomes a workflow type someone could start. Types pass through.
export { prisonerSyncWorkflow } from './prisoner-sync';
export { prisonerResyncWorkflow } from './prisoner-resync';
export { nomisAlertToDpsWorkflow, dpsAlertToNomisWorkflow } from './alert-sync';
export { bulkResyncWorkflow } from './bulk-resync';
export { reconciliationWorkflow } from './reconciliation';
export { resyncFromDpsWorkflow } from './resync-from-dps';
export type * from './prisoner-sync';
export type * from './prisoner-resync';
export type * from './alert-sync';
export type * from './bulk-resync';
export type * from './reconciliation';
export type * from './resync-from-dps';
