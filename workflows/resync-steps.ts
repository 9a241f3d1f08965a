import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { SyncActivities } from '../activities';
import type { ResyncSteps } from '../common/resync-once';
import {
  DPS_RESYNC_ACTIVITY,
  IN_PLACE_RESYNC_STEP,
  MAPPING_WRITE_ACTIVITY,
  NOMIS_READ_ACTIVITY,
} from '../common/retry-policies';

const nomis = proxyActivities<SyncActivities>(NOMIS_READ_ACTIVITY);
const dps = proxyActivities<SyncActivities>(DPS_RESYNC_ACTIVITY);
const mappings = proxyActivities<SyncActivities>(MAPPING_WRITE_ACTIVITY);

/** In the resync's own run: each step an activity with the day-long retry budget of its class. */
export const asActivities: ResyncSteps = {
  readNomis: (input, summary) =>
    nomis.getCurrentBookingAlerts.executeWithOptions({ ...NOMIS_READ_ACTIVITY, summary }, [input]),
  replaceDps: (input, summary) => dps.resyncDpsAlerts.executeWithOptions({ ...DPS_RESYNC_ACTIVITY, summary }, [input]),
  replaceMappings: (input, summary) =>
    mappings.replaceMappings.executeWithOptions({ ...MAPPING_WRITE_ACTIVITY, summary }, [input]),
};

const local = proxyLocalActivities<SyncActivities>(IN_PLACE_RESYNC_STEP);

/**
 * Inside the prisoner's own workflow: each step a local activity (a marker in its history, no task round trip)
 * with a budget of seconds. A failure here is not the resync's last word: the caller runs it again as its own
 * run with asActivities (prisoner-sync.ts), where it has the full budget and, failing, fails visibly.
 * Requests marked `inPlace: 'one-activity'` run all three steps in one local activity instead; this is how
 * requests marked `inPlace: true` (queued before that) still run, so their histories replay.
 */
export const asLocalActivities: ResyncSteps = {
  readNomis: (input, summary) =>
    local.getCurrentBookingAlerts.executeWithOptions({ ...IN_PLACE_RESYNC_STEP, summary }, [input]),
  replaceDps: (input, summary) =>
    local.resyncDpsAlerts.executeWithOptions({ ...IN_PLACE_RESYNC_STEP, summary }, [input]),
  replaceMappings: (input, summary) =>
    local.replaceMappings.executeWithOptions({ ...IN_PLACE_RESYNC_STEP, summary }, [input]),
};
