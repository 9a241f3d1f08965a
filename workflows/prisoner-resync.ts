import {
  ActivityFailure,
  ApplicationFailure,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { SyncActivities } from '../activities';
import { toResyncAlert } from '../common/alerts';
import { DPS_RESYNC_ACTIVITY, MAPPING_WRITE_ACTIVITY, NOMIS_READ_ACTIVITY } from '../common/retry-policies';
import { PRISON_NUMBER, SYNC_KIND } from '../common/search-attributes';
import { SyncKind } from '../common/sync-kinds';

const nomis = proxyActivities<SyncActivities>(NOMIS_READ_ACTIVITY);
const dps = proxyActivities<SyncActivities>(DPS_RESYNC_ACTIVITY);
const mappings = proxyActivities<SyncActivities>(MAPPING_WRITE_ACTIVITY);

export interface PrisonerResyncInput {
  prisonNumber: string;
  /** The events that asked for this resync (several coalesce into one). */
  reasons: string[];
  /** Prisoners merged into this one: their mapping rows go in this resync's transaction (contract §5). */
  removedPrisonNumbers: string[];
  /** The event says this prisoner's bookings went elsewhere: NOMIS's 404 then means "no alerts" (contract §3). */
  bookingsMovedAway?: boolean;
}

/** A resync that read NOMIS before a booking moved away reads again, this many times at most. */
const MAX_STALE_READS = 3;

export interface ResyncPassSummary {
  reasons: string[];
  alertCount: number;
  removedPrisonNumbers: string[];
}

/**
 * ADR004's universal resync of one prisoner: NOMIS is authoritative after any prisoner-level change.
 * Run as a child of the prisoner's prisonerSyncWorkflow, which guarantees one at a time per prisoner.
 */
export async function prisonerResyncWorkflow(input: PrisonerResyncInput): Promise<ResyncPassSummary> {
  const { prisonNumber, reasons, removedPrisonNumbers } = input;
  const merge = removedPrisonNumbers.length > 0;
  upsertSearchAttributes([
    { key: PRISON_NUMBER, value: prisonNumber },
    { key: SYNC_KIND, value: merge ? SyncKind.merge : SyncKind.resync },
  ]);
  setCurrentDetails(
    merge
      ? `merging ${removedPrisonNumbers.join(', ')} into ${prisonNumber}`
      : `resyncing ${prisonNumber} (${reasons.join('; ')})`,
  );

  for (let read = 1; ; read++) {
    try {
      const alertCount = await resyncOnce(input);
      log.info('prisoner resynced', { prisonNumber, alertCount, reasons, removedPrisonNumbers });
      setCurrentDetails(`done: ${alertCount} alerts`);
      return { reasons, alertCount, removedPrisonNumbers };
    } catch (err) {
      // A booking moved away after step 1: NOMIS has changed under this resync, so read it again.
      if (read >= MAX_STALE_READS || failureType(err) !== 'StaleResyncRead') throw err;
      log.warn('resync read NOMIS before a booking moved; reading again', { prisonNumber, read });
    }
  }
}

async function resyncOnce(input: PrisonerResyncInput): Promise<number> {
  const { prisonNumber, removedPrisonNumbers } = input;
  // 1. Every alert on the prisoner's current NOMIS booking (a 404 fails the run — never resync "nothing" —
  //    unless the event said this prisoner's bookings went elsewhere).
  const nomisAlerts = await nomis.getCurrentBookingAlerts.executeWithOptions(
    { ...NOMIS_READ_ACTIVITY, summary: `read NOMIS alerts of ${prisonNumber}` },
    [{ prisonNumber, ...(input.bookingsMovedAway ? { bookingsMovedAway: true } : {}) }],
  );
  // 2. Replace the prisoner's DPS alerts with them.
  const created = await dps.resyncDpsAlerts.executeWithOptions(
    { ...DPS_RESYNC_ACTIVITY, summary: `resync ${nomisAlerts.length} alerts to DPS for ${prisonNumber}` },
    [{ prisonNumber, alerts: nomisAlerts.map(toResyncAlert) }],
  );
  // Runs started before merges were resynced in the removed prisoner's own queue wipe it from here.
  if (!patched(REMOVED_SIDE_IN_OWN_QUEUE)) {
    for (const removed of removedPrisonNumbers) {
      await dps.resyncDpsAlerts.executeWithOptions(
        { ...DPS_RESYNC_ACTIVITY, summary: `remove all DPS alerts of merged-away ${removed}` },
        [{ prisonNumber: removed, alerts: [] }],
      );
    }
  }
  // 3 + 4. Delete the old mappings and create the new ones, in one transaction (contract §5).
  await mappings.replaceMappings.executeWithOptions(
    { ...MAPPING_WRITE_ACTIVITY, summary: `replace ${created.length} mappings of ${prisonNumber}` },
    [
      {
        prisonNumber,
        mappingType: 'RESYNC',
        removedPrisonNumbers,
        mappings: created.map((c) => ({
          dpsAlertId: c.alertUuid,
          nomisBookingId: c.offenderBookId,
          nomisAlertSequence: c.alertSeq,
        })),
      },
    ],
  );
  return created.length;
}

/** The removed side of a merge is emptied by a resync in its own queue (router), not by the retained's. */
const REMOVED_SIDE_IN_OWN_QUEUE = 'merge-removed-side-in-own-queue';

function failureType(err: unknown): string | undefined {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure
    ? (err.cause.type ?? undefined)
    : undefined;
}
