import {
  ActivityFailure,
  ApplicationFailure,
  ChildWorkflowFailure,
  executeChild,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { SyncActivities } from '../activities';
import type { UnsyncedDpsAlert } from '../activities/dps';
import { toResyncAlert } from '../common/alerts';
import { alertSyncWorkflowId } from '../common/ids';
import { DPS_RESYNC_ACTIVITY, MAPPING_WRITE_ACTIVITY, NOMIS_READ_ACTIVITY } from '../common/retry-policies';
import { PRISON_NUMBER, SYNC_KIND } from '../common/search-attributes';
import { SyncKind } from '../common/sync-kinds';
import { dpsAlertToNomisWorkflow } from './alert-sync';
import { isResetRun, syncThroughQueue } from './through-queue';

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

/**
 * A resync reads NOMIS again when NOMIS or DPS changed under it (a booking moved away after its read, a DPS
 * user's new alert appeared before its write), this many times at most.
 */
const MAX_READS = 5;
const READ_AGAIN = new Set(['StaleResyncRead', 'DpsChangedDuringResync']);

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

  if (isResetRun()) {
    // Retried from the Web UI: the prisoner's queue runs it, after whatever is syncing the prisoner now.
    setCurrentDetails(`retried: queued on prisoner-sync-${prisonNumber}, waiting for it to report`);
    const retry = `retry of ${workflowInfo().workflowId} (reset)`;
    const report = await syncThroughQueue(prisonNumber, [
      { kind: 'resync', reason: retry, ...(input.bookingsMovedAway ? { bookingsMovedAway: true } : {}) },
      ...removedPrisonNumbers.map((removed) => ({
        kind: 'resync' as const,
        reason: retry,
        removedPrisonNumber: removed,
      })),
    ]);
    setCurrentDetails(`done through the queue: ${report.alertCount ?? 0} alerts`);
    return { reasons, alertCount: report.alertCount ?? 0, removedPrisonNumbers };
  }

  // DPS users' new alerts already copied to NOMIS by this resync (or tried: a refusal fails visibly on its own).
  const pushed = new Set<string>();
  for (let read = 1; ; read++) {
    try {
      const alertCount = await resyncOnce(input, pushed);
      log.info('prisoner resynced', { prisonNumber, alertCount, reasons, removedPrisonNumbers });
      setCurrentDetails(`done: ${alertCount} alerts`);
      return { reasons, alertCount, removedPrisonNumbers };
    } catch (err) {
      const type = failureType(err);
      if (read >= MAX_READS || !type || !READ_AGAIN.has(type)) throw err;
      log.warn('NOMIS or DPS changed under the resync; reading again', { prisonNumber, read, type });
      // DPS users' new alerts the replace would have deleted: copy each to NOMIS (its own visible alert sync),
      // so that the next read of NOMIS has them and the replace keeps them.
      for (const alert of unsyncedDpsAlertsIn(err)) {
        if (pushed.has(alert.dpsAlertId)) continue;
        pushed.add(alert.dpsAlertId);
        await copyDpsAlertToNomis(prisonNumber, alert.dpsAlertId, alert.alertCode);
      }
    }
  }
}

async function resyncOnce(input: PrisonerResyncInput, pushed: Set<string>): Promise<number> {
  const { prisonNumber, removedPrisonNumbers } = input;
  // A prisoner whose bookings went elsewhere has no NOMIS booking to copy DPS users' alerts to.
  const guarded = !input.bookingsMovedAway && patched(DPS_USERS_ALERTS_FIRST);
  // 1. Every alert on the prisoner's current NOMIS booking (a 404 fails the run — never resync "nothing" —
  //    unless the event said this prisoner's bookings went elsewhere).
  const nomisAlerts = await nomis.getCurrentBookingAlerts.executeWithOptions(
    { ...NOMIS_READ_ACTIVITY, summary: `read NOMIS alerts of ${prisonNumber}` },
    [{ prisonNumber, ...(input.bookingsMovedAway ? { bookingsMovedAway: true } : {}) }],
  );
  const alerts = nomisAlerts.map(toResyncAlert);
  // 2. Replace the prisoner's DPS alerts with NOMIS's — unless DPS holds a DPS user's alert whose copy to NOMIS
  //    has not run yet, which the replace would delete: then DpsChangedDuringResync names them, to copy first.
  const created = await dps.resyncDpsAlerts.executeWithOptions(
    { ...DPS_RESYNC_ACTIVITY, summary: `resync ${nomisAlerts.length} alerts to DPS for ${prisonNumber}` },
    [{ prisonNumber, alerts, ...(guarded ? { guard: { knownUnsynced: [...pushed] } } : {}) }],
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
  // 3. Delete the old mappings and create the new ones, in one transaction (contract §5).
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

/** A DPS user's new alert, copied to NOMIS as its event would: a child run of its own, failing visibly. */
async function copyDpsAlertToNomis(prisonNumber: string, dpsAlertId: string, alertCode: string): Promise<void> {
  try {
    await executeChild(dpsAlertToNomisWorkflow, {
      workflowId: alertSyncWorkflowId(prisonNumber, `dps-${dpsAlertId.slice(0, 8)}-created`, uuid4().slice(0, 8)),
      args: [
        {
          prisonNumber,
          change: { direction: 'DPS_TO_NOMIS', action: 'CREATED', dpsAlertId, alertCode },
          finalAttempt: false,
        },
      ],
      staticSummary: `DPS alert ${dpsAlertId} ${alertCode} created, copied before the resync (${prisonNumber})`,
    });
  } catch (err) {
    // Its own failed run shows why (e.g. NOMIS refused the code); NOMIS stays authoritative for the resync.
    if (!(err instanceof ChildWorkflowFailure)) throw err;
    log.warn('could not copy a DPS user alert to NOMIS before the resync', { prisonNumber, dpsAlertId });
  }
}

/** Resyncs copy DPS users' not-yet-synced alerts to NOMIS before replacing DPS (older runs did not). */
const DPS_USERS_ALERTS_FIRST = 'resync-copies-dps-users-alerts-first';

/** The removed side of a merge is emptied by a resync in its own queue (router), not by the retained's. */
const REMOVED_SIDE_IN_OWN_QUEUE = 'merge-removed-side-in-own-queue';

/** The DPS alerts a DpsChangedDuringResync failure names (its details). */
function unsyncedDpsAlertsIn(err: unknown): UnsyncedDpsAlert[] {
  if (!(err instanceof ActivityFailure && err.cause instanceof ApplicationFailure)) return [];
  const [listed] = err.cause.details ?? [];
  return Array.isArray(listed) ? listed.filter(isUnsyncedDpsAlert) : [];
}

function isUnsyncedDpsAlert(value: unknown): value is UnsyncedDpsAlert {
  const alert = value as Partial<UnsyncedDpsAlert> | null;
  return typeof alert?.dpsAlertId === 'string' && typeof alert.alertCode === 'string';
}

/** The type of an activity's ApplicationFailure, e.g. StaleResyncRead. */
export function failureType(err: unknown): string | undefined {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure
    ? (err.cause.type ?? undefined)
    : undefined;
}
