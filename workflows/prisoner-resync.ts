import {
  ActivityFailure,
  ApplicationFailure,
  CancelledFailure,
  TemporalFailure,
  ChildWorkflowFailure,
  executeChild,
  log,
  patched,
  proxyLocalActivities,
  setCurrentDetails,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { SyncActivities } from '../activities';
import type { UnsyncedDpsAlert } from '../activities/dps';
import { IN_PLACE_RESYNC_STEP } from '../common/retry-policies';
import { alertSyncWorkflowId } from '../common/ids';
import { SyncKind } from '../common/sync-kinds';
import type { ResyncSource } from '../common/sync-switches';
import { dpsAlertToNomisWorkflow } from './alert-sync';
import type { ResyncTarget } from '../common/resync-once';
import { resyncOnce } from '../common/resync-once';
import type { ResyncWaiter } from './messages';
import { asActivities, asLocalActivities } from './resync-steps';
import { isResetRun, syncThroughQueue } from './through-queue';
import { makeFindable } from './findable';

const local = proxyLocalActivities<SyncActivities>(IN_PLACE_RESYNC_STEP);

export interface PrisonerResyncInput extends ResyncTarget {
  /** The events that asked for this resync (several coalesce into one). */
  reasons: string[];
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
  /** Run inside the prisoner's workflow (its steps are local activities there), not as a run of its own. */
  inPlace?: boolean;
  /** The side it copied from, as the prisoner's workflow records it (absent in results of older runs). */
  source?: ResyncSource;
}

/**
 * ADR004's universal resync of one prisoner: NOMIS is authoritative after any prisoner-level change.
 * Run as a child of the prisoner's prisonerSyncWorkflow, which guarantees one at a time per prisoner.
 */
export async function prisonerResyncWorkflow(input: PrisonerResyncInput): Promise<ResyncPassSummary> {
  const { prisonNumber, reasons, removedPrisonNumbers } = input;
  const merge = removedPrisonNumbers.length > 0;
  makeFindable(prisonNumber, merge ? SyncKind.merge : SyncKind.resync);
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
      const alertCount = await resyncOnce(input, {
        steps: asActivities,
        knownUnsynced: pushed,
        // A prisoner whose bookings went elsewhere has no NOMIS booking to copy DPS users' alerts to.
        guarded: !input.bookingsMovedAway && patched(DPS_USERS_ALERTS_FIRST),
        // Runs started before merges were resynced in the removed prisoner's own queue wipe it from here.
        emptiesRemovedHere: () => !patched(REMOVED_SIDE_IN_OWN_QUEUE),
      });
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

/**
 * How a resync runs in place: all three steps in one local activity, which also tells the waiters when it is done
 * (requests marked `inPlace: 'one-activity'`), or each step a local activity of its own (those marked `true`,
 * queued before: their histories replay as they were recorded).
 */
export type InPlaceRun = { as: 'one-activity'; waiters: ResyncWaiter[] } | { as: 'steps' };

/**
 * A plain resync from NOMIS run inside the calling prisoner's workflow, as local activities: a handful of history
 * events instead of a child run's dozens. The happy path only: undefined when anything failed (NOMIS unknown or
 * down, a DPS user's alert not yet in NOMIS, a booking moved under it), and the caller then runs the resync as
 * its own run, which has the full retry budget, the guards' read-again loop and a visible failure.
 * Nothing is lost by the first try: each step is idempotent, and the run redoes them all.
 */
export async function resyncInPlace(
  input: PrisonerResyncInput,
  how: InPlaceRun,
): Promise<ResyncPassSummary | undefined> {
  const { prisonNumber, reasons } = input;
  if (input.removedPrisonNumbers.length > 0) return undefined;
  try {
    const alertCount =
      how.as === 'steps'
        ? await resyncOnce(input, { steps: asLocalActivities, guarded: !input.bookingsMovedAway })
        : await resyncAsOneLocalActivity(input, how.waiters);
    log.info('prisoner resynced in place', { prisonNumber, alertCount, reasons });
    return { reasons, alertCount, removedPrisonNumbers: [], inPlace: true };
  } catch (err) {
    // A local activity's last failure reaches the workflow as it is, not always wrapped in an ActivityFailure.
    // Cancellation is not a failure of the steps: it stops the prisoner's workflow.
    if (!(err instanceof TemporalFailure) || err instanceof CancelledFailure) throw err;
    const cause = err instanceof ActivityFailure ? err.cause : err;
    log.info('resync in place did not finish: running it as its own run', {
      prisonNumber,
      failure: cause instanceof ApplicationFailure ? `${cause.type ?? 'Error'}: ${cause.message}` : String(cause),
    });
    return undefined;
  }
}

/** The three steps and the report to the waiters in one local activity (activities/in-place-resync.ts). */
async function resyncAsOneLocalActivity(input: PrisonerResyncInput, waiters: ResyncWaiter[]): Promise<number> {
  const { prisonNumber, reasons } = input;
  const { alertCount } = await local.resyncPrisonerInPlace.executeWithOptions(
    { ...IN_PLACE_RESYNC_STEP, summary: `resync alerts of ${prisonNumber} in place: ${reasons.join('; ')}` },
    [{ prisonNumber, reasons, ...(input.bookingsMovedAway ? { bookingsMovedAway: true } : {}), waiters }],
  );
  return alertCount;
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
