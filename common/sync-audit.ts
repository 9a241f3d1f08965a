// Kept apart from contract.ts (which pulls in zod) because workflows need it too, and their bundle should not.

/** NOMIS audit module of writes made by this sync (loop prevention, contract §1.1). */
export const SYNC_AUDIT_MODULE = 'DPS_SYNCHRONISATION';
