import type { SyncSwitches } from '../common/sync-switches';
import type { ResyncSource } from '../common/sync-switches';

export function createSwitchActivities(deps: { switches?: () => Promise<SyncSwitches> }) {
  return {
    /** Read-only: the resync source switched on now (NOMIS when no switches are wired), for resyncs a workflow asks for itself. */
    async resyncSourceInForce(): Promise<ResyncSource> {
      return (await deps.switches?.())?.resyncSource ?? 'NOMIS';
    },
  };
}
