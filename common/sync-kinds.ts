/** Values of the SyncKind search attribute, for filtering in the Web UI. */
export const SyncKind = {
  stackCheck: 'STACK_CHECK',
  resync: 'RESYNC',
  merge: 'MERGE',
} as const;
export type SyncKind = (typeof SyncKind)[keyof typeof SyncKind];
