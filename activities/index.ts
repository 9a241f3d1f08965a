import type { Db } from '../adapters/db';
import { createStackCheckActivities } from './stack-check';

export interface ActivityDeps {
  db: Db;
}

/** Every activity the sync worker registers, built from injected dependencies. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createStackCheckActivities(deps),
  };
}

export type SyncActivities = ReturnType<typeof createActivities>;
