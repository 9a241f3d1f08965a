// The DPS simulator: state.ts (the alerts and their events) and api-routes.ts (the contract API).

export { DpsState } from './state';
export type { AlertSource } from './state';
export { dpsApiRoutes } from './api-routes';
