import type { Db } from '../adapters/db';
import type { DpsAlertsApiClient } from '../adapters/dps';
import type { NomisApiClient } from '../adapters/nomis';
import { createDpsActivities } from './dps';
import { createMappingActivities } from './mappings';
import { createNomisActivities } from './nomis';
import { createStackCheckActivities } from './stack-check';

export interface ActivityDeps {
  db: Db;
  nomis: NomisApiClient;
  dps: DpsAlertsApiClient;
}

/** Every activity the sync worker registers, built from injected dependencies. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createStackCheckActivities(deps),
    ...createNomisActivities(deps),
    ...createDpsActivities(deps),
    ...createMappingActivities(deps),
  };
}

export type SyncActivities = ReturnType<typeof createActivities>;
