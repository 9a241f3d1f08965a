/** Values of the SyncKind search attribute, for filtering in the Web UI. */
export const SyncKind = {
  resync: 'RESYNC',
  merge: 'MERGE',
  /** ADR004's future: NOMIS made to match DPS after a prisoner-level change (resync source DPS). */
  resyncFromDps: 'RESYNC_FROM_DPS',
  mergeFromDps: 'MERGE_FROM_DPS',
  /** The per-prisoner workflow that runs all of a prisoner's syncs in order. */
  prisoner: 'PRISONER',
  nomisToDps: 'NOMIS_TO_DPS',
  dpsToNomis: 'DPS_TO_NOMIS',
  /** A batch of resyncs started by an operator (or by reconciliation). */
  bulkResync: 'BULK_RESYNC',
  reconciliation: 'RECONCILIATION',
} as const;
export type SyncKind = (typeof SyncKind)[keyof typeof SyncKind];
