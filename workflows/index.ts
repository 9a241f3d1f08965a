export * from './prisoner-sync';
export * from './prisoner-resync';
export * from './alert-sync';
export * from './bulk-resync';
export * from './reconciliation';
export * from './resync-from-dps';
