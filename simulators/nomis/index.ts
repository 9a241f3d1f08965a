// The NOMIS simulator: schemas.ts (control API bodies), records.ts and store.ts (the data and its bookkeeping),
// state.ts (alert reads and writes), prisoner-operations.ts (staff's whole-prisoner changes), api-routes.ts (the
// contract API the sync calls) and staff-routes.ts (the control API tests and the CLI drive).

export * from './schemas';
export { NomisState } from './state';
export { nomisApiRoutes } from './api-routes';
export { nomisControlRoutes } from './staff-routes';
