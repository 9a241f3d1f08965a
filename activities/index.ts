import type { Client } from '@temporalio/client';
import type { Db } from '../adapters/db';
import type { DpsAlertsApiClient } from '../adapters/dps';
import type { NomisApiClient } from '../adapters/nomis';
import { createBulkResyncActivities } from './bulk-resync';
import { createDpsActivities } from './dps';
import { createInPlaceResyncActivities } from './in-place-resync';
import { createMappingActivities } from './mappings';
import { createNomisActivities } from './nomis';
import { createReconciliationActivities } from './reconciliation';
import { createSwitchActivities } from './switches';
import type { SyncSwitches } from '../common/sync-switches';

export interface ActivityDeps {
  db: Db;
  nomis: NomisApiClient;
  dps: DpsAlertsApiClient;
  /**
   * For activities that ask prisoners' workflows for resyncs: on the worker's own connection
   * (adapters/temporal.ts clientOfWorker), so a batch can start them eagerly.
   */
  temporal: Client;
  /** The run-time switches in force (adapters/live-switches.ts); all on, resync from NOMIS, when absent. */
  switches?: () => Promise<SyncSwitches>;
  /** Batches that ask for their reports grouped get them so (BULK_REPORTS_GROUPED); on when absent. */
  reportsGrouped?: boolean;
}

/** Every activity the sync worker registers, built from injected dependencies. */
export function createActivities(deps: ActivityDeps) {
  const steps = {
    ...createNomisActivities(deps),
    ...createDpsActivities(deps),
    ...createMappingActivities(deps),
    ...createBulkResyncActivities(deps),
  };
  return {
    ...steps,
    ...createInPlaceResyncActivities(steps),
    ...createReconciliationActivities(deps),
    ...createSwitchActivities(deps),
  };
}

export type SyncActivities = ReturnType<typeof createActivities>;
