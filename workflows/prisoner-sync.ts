import {
  allHandlersFinished,
  ChildWorkflowFailure,
  condition,
  continueAsNew,
  executeChild,
  getExternalWorkflowHandle,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { SyncActivities } from '../activities';
import { alertSyncWorkflowId } from '../common/ids';
import {
  DATABASE_ACTIVITY,
  DEFERRAL_DELAY,
  LOCAL_TEMPORAL_REQUEST,
  MAX_MAPPING_DEFERRALS,
} from '../common/retry-policies';
import { PRISON_NUMBER, SYNC_KIND } from '../common/search-attributes';
import { SyncKind } from '../common/sync-kinds';
import type { ResyncSource } from '../common/sync-switches';
import type { AlertSyncOutcome } from './alert-sync';
import { dpsAlertToNomisWorkflow, nomisAlertToDpsWorkflow } from './alert-sync';
import type {
  AlertSyncRequest,
  PrisonerSyncInput,
  PrisonerSyncProgress,
  ResyncFinished,
  ResyncRequest,
  SyncRequest,
} from './messages';
import { prisonerSyncProgressQuery, resyncFinishedSignal, syncRequestedSignal, syncsRequestedSignal } from './messages';
import type { PrisonerResyncInput, ResyncPassSummary } from './prisoner-resync';
import { prisonerResyncWorkflow, resyncInPlace } from './prisoner-resync';
import { resyncFromDpsWorkflow } from './resync-from-dps';

const switches = proxyActivities<SyncActivities>(DATABASE_ACTIVITY);
const report = proxyLocalActivities<SyncActivities>(LOCAL_TEMPORAL_REQUEST);

export interface AlertSyncRecord {
  reason: string;
  workflowId: string;
  /** superseded: a DPS user's change to an alert the same user's later delete (queued behind it) removes. */
  outcome: AlertSyncOutcome['outcome'] | 'failed' | 'superseded';
  failure?: { type?: string; message: string };
}

export interface PrisonerSyncResult {
  prisonNumber: string;
  passes: ResyncPassSummary[];
  failedResyncs: Array<{ workflowId: string; type?: string; message: string }>;
  alertSyncs: AlertSyncRecord[];
  /** NOMIS -> DPS alert changes made redundant by a resync queued after them. */
  absorbed: number;
  duplicatesIgnored: number;
}

/** Keeps the duplicate filter's memory bounded across a long chain of runs. */
const MAX_REMEMBERED_EVENT_IDS = 200;

/**
 * All syncs of one prisoner, one at a time, in arrival order (workflow id `prisoner-sync-{prisonNumber}`,
 * fed by signal-with-start). Alert-level syncs and resyncs run as child workflows, so each is a short,
 * separately visible run, and they never interleave for one prisoner; different prisoners run in parallel.
 *
 * Coalescing: every resync request waiting in the queue becomes ONE resync (one per source, if the resync
 * source switch flipped between them), which reads its source afresh. The alert changes queued before it on its
 * source's side are covered by it and dropped (absorbed); those from the other side run first — otherwise the
 * resync would delete a user's new alert that its source does not have yet.
 */
export async function prisonerSyncWorkflow(input: PrisonerSyncInput): Promise<PrisonerSyncResult> {
  const { prisonNumber } = input;
  const queue: SyncRequest[] = [...(input.requests ?? [])];
  const handled = new Set(input.handledEventIds ?? []);
  const result: PrisonerSyncResult = {
    prisonNumber,
    passes: [],
    failedResyncs: [],
    alertSyncs: [],
    absorbed: 0,
    duplicatesIgnored: 0,
  };
  let current: string | undefined;
  let resyncRunning = false;
  /**
   * An in-place resync holds the workflow task until its last step, so what users sent meanwhile is delivered
   * only in the next task: the history length where the last in-place resync ended, and that of the first task
   * after it, whose requests arrived while it ran (or just after, which the edit's check tells apart).
   */
  let inPlaceEndedAt: number | undefined;
  let firstTaskAfterInPlace: number | undefined;
  const sentDuringInPlaceResync = (): boolean => {
    const { historyLength } = workflowInfo();
    if (inPlaceEndedAt === undefined || historyLength <= inPlaceEndedAt) return false;
    firstTaskAfterInPlace ??= historyLength;
    return historyLength === firstTaskAfterInPlace;
  };

  const requested = (request: SyncRequest) => {
    if (request.eventId && handled.has(request.eventId)) {
      result.duplicatesIgnored++;
      log.info('duplicate sync request ignored', { prisonNumber, eventId: request.eventId, reason: request.reason });
      return;
    }
    if (request.eventId) handled.add(request.eventId);
    queue.push(isDpsEdit(request) && (resyncRunning || sentDuringInPlaceResync()) ? duringResync(request) : request);
  };
  setHandler(syncRequestedSignal, requested);
  setHandler(syncsRequestedSignal, (requests) => requests.forEach(requested));
  setHandler(
    prisonerSyncProgressQuery,
    (): PrisonerSyncProgress => ({
      prisonNumber,
      resyncPasses: result.passes.length,
      alertSyncs: result.alertSyncs.length,
      pendingRequests: queue.length,
      duplicatesIgnored: result.duplicatesIgnored,
      current,
    }),
  );
  for (const request of queue) if (request.eventId) handled.add(request.eventId);
  // Upserting what the start already set would cost an event and a visibility write per prisoner.
  if (!input.searchAttributesSetAtStart) {
    upsertSearchAttributes([
      { key: PRISON_NUMBER, value: prisonNumber },
      { key: SYNC_KIND, value: SyncKind.prisoner },
    ]);
  }

  // Requests arrive as the signal of signal-with-start, delivered as soon as the handler is set.
  await condition(() => queue.length > 0, '1 minute');

  while (queue.length > 0) {
    const lastResync = queue.map((r) => r.kind).lastIndexOf('resync');
    if (lastResync >= 0) {
      const batch = queue.splice(0, lastResync + 1);
      const resyncs = batch.filter((r): r is ResyncRequest => r.kind === 'resync');
      const sources = sourcesInOrder(resyncs);
      // A change made on the side the resync copies from is covered by it; one made on the other side would be
      // overwritten, so it runs first. With both sources queued (the switch flipped), every change runs first.
      const covered = sources.length === 1 ? (sources[0] === 'DPS' ? 'DPS_TO_NOMIS' : 'NOMIS_TO_DPS') : undefined;
      for (const request of batch) {
        if (request.kind !== 'alert') continue;
        if (request.change.direction === covered) result.absorbed++;
        else await runAlertSync(request);
      }
      // The switch flipped between the requests: one resync per source, the latest request's source last.
      for (const source of sources) {
        const group = resyncs.filter((r) => (r.source ?? 'NOMIS') === source);
        await notifyWaiters(group, await runResync(group, source));
      }
    } else {
      const request = queue.shift() as AlertSyncRequest;
      await runAlertSync(request);
    }

    if (workflowInfo().continueAsNewSuggested && queue.length > 0) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof prisonerSyncWorkflow>({
        prisonNumber,
        requests: queue,
        handledEventIds: [...handled].slice(-MAX_REMEMBERED_EVENT_IDS),
        // Continue-as-new keeps the run's search attributes.
        searchAttributesSetAtStart: true,
      });
    }
  }
  current = undefined;
  setCurrentDetails(
    `done: ${result.passes.length} resync(s), ${result.alertSyncs.length} alert sync(s), ${result.absorbed} absorbed`,
  );
  await condition(allHandlersFinished);
  return result;

  async function runResync(requests: ResyncRequest[], source: ResyncSource): Promise<ResyncFinished> {
    const reasons = requests.map((r) => r.reason);
    const removedPrisonNumbers = [
      ...new Set(requests.flatMap((r) => (r.removedPrisonNumber ? [r.removedPrisonNumber] : []))),
    ];
    const workflowId = `resync-${prisonNumber}-${uuid4().slice(0, 8)}`;
    current = `resync: ${reasons.join('; ')}`;
    setCurrentDetails(current);
    // A failed resync (e.g. NomisNotFound) stays visible as its own failed run; the queue goes on.
    // Only a resync from NOMIS can put NOMIS's text back over a DPS user's edit that arrives meanwhile.
    resyncRunning = source === 'NOMIS';
    if (resyncRunning) {
      // Edits queued behind it were made before it writes DPS, so it may overwrite them too. (A workflow task
      // whose completion met a new signal is replayed with that signal already queued here, in place or not.)
      for (let i = 0; i < queue.length; i++)
        if (isDpsEdit(queue[i])) queue[i] = duringResync(queue[i] as AlertSyncRequest);
    }
    const args: [PrisonerResyncInput] = [
      {
        prisonNumber,
        reasons,
        removedPrisonNumbers,
        ...(requests.some((r) => r.bookingsMovedAway) ? { bookingsMovedAway: true } : {}),
      },
    ];
    try {
      // A plain resync from NOMIS first runs in place, in this workflow: a bulk resync or a burst of prisoner
      // events costs a few history events each instead of a child run. Only if that fails does the child run.
      const inPlace = source === 'NOMIS' && requests.every((r) => r.inPlace) ? await resyncInPlace(args[0]) : undefined;
      if (inPlace) {
        inPlaceEndedAt = workflowInfo().historyLength;
        firstTaskAfterInPlace = undefined;
      } else {
        current = `${workflowId}: ${reasons.join('; ')}`;
        setCurrentDetails(current);
      }
      const pass =
        inPlace ??
        (source === 'DPS'
          ? await executeChild(resyncFromDpsWorkflow, {
              workflowId,
              args,
              staticSummary: `resync alerts of ${prisonNumber} from DPS to NOMIS: ${reasons.join('; ')}`,
            })
          : await executeChild(prisonerResyncWorkflow, {
              workflowId,
              args,
              staticSummary: `resync alerts of ${prisonNumber}: ${reasons.join('; ')}`,
            }));
      resyncRunning = false;
      result.passes.push({ ...pass, source });
      return { prisonNumber, ok: true, alertCount: pass.alertCount };
    } catch (err) {
      resyncRunning = false;
      if (!(err instanceof ChildWorkflowFailure)) throw err;
      const failure = describeFailure(err);
      result.failedResyncs.push({ workflowId, ...failure });
      log.warn('resync failed', { prisonNumber, workflowId, ...failure });
      return {
        prisonNumber,
        ok: false,
        failure: failure.type ? `${failure.type}: ${failure.message}` : failure.message,
        ...(failure.type ? { failureType: failure.type } : {}),
      };
    }
  }

  /** Tells each waiting batch how its resync ended; a batch that has gone away no longer needs to know. */
  async function notifyWaiters(requests: ResyncRequest[], finished: ResyncFinished): Promise<void> {
    const waiters = new Set(requests.flatMap((r) => (r.notify ? [r.notify.workflowId] : [])));
    // Requests marked inPlace are from since the waiter is told by a local activity (see reportResyncFinished).
    const byLocalActivity = requests.every((r) => r.inPlace);
    for (const workflowId of waiters) {
      const eventIds = requests.flatMap((r) => (r.notify?.workflowId === workflowId && r.eventId ? [r.eventId] : []));
      if (byLocalActivity) {
        await report.reportResyncFinished.executeWithOptions(
          { ...LOCAL_TEMPORAL_REQUEST, summary: `tell ${workflowId} the resync of ${prisonNumber} ended` },
          [{ workflowId, finished: { ...finished, eventIds } }],
        );
        continue;
      }
      try {
        await getExternalWorkflowHandle(workflowId).signal(resyncFinishedSignal, { ...finished, eventIds });
      } catch (err) {
        log.warn('could not report a resync to the workflow that asked for it', {
          prisonNumber,
          workflowId,
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }
  }

  async function runAlertSync(request: AlertSyncRequest): Promise<void> {
    const { change } = request;
    if (change.direction === 'DPS_TO_NOMIS' && change.action !== 'DELETED' && deleteQueuedFor(change.dpsAlertId)) {
      // The user deleted the alert after changing it: the delete, which runs later, is their last word.
      result.alertSyncs.push({ reason: request.reason, workflowId: '-', outcome: 'superseded' });
      return;
    }
    if (change.direction === 'DPS_TO_NOMIS' && change.action === 'DELETED') {
      // Earlier changes of the alert put back to wait for it (it was gone already) are answered by this delete.
      for (let i = queue.length - 1; i >= 0; i--) {
        const waiting = queue[i];
        if (waiting?.kind !== 'alert' || waiting.change.direction !== 'DPS_TO_NOMIS') continue;
        if (waiting.change.dpsAlertId !== change.dpsAlertId || waiting.change.action === 'DELETED') continue;
        queue.splice(i, 1);
        result.alertSyncs.push({ reason: waiting.reason, workflowId: '-', outcome: 'superseded' });
      }
    }
    const alertKey =
      change.direction === 'NOMIS_TO_DPS'
        ? `nomis-${change.bookingId}-${change.alertSeq}`
        : `dps-${change.dpsAlertId.slice(0, 8)}`;
    const workflowId = alertSyncWorkflowId(
      prisonNumber,
      `${alertKey}-${change.action.toLowerCase()}`,
      uuid4().slice(0, 8),
    );
    const finalAttempt = (request.deferrals ?? 0) >= MAX_MAPPING_DEFERRALS;
    current = `${workflowId}: ${request.reason}`;
    setCurrentDetails(current);
    const options = { workflowId, staticSummary: `${request.reason} (${prisonNumber})` };
    try {
      const outcome =
        change.direction === 'NOMIS_TO_DPS'
          ? await executeChild(nomisAlertToDpsWorkflow, { ...options, args: [{ prisonNumber, change, finalAttempt }] })
          : await executeChild(dpsAlertToNomisWorkflow, {
              ...options,
              args: [{ prisonNumber, change, finalAttempt, ...(request.duringResync ? { duringResync: true } : {}) }],
            });
      result.alertSyncs.push({ reason: request.reason, workflowId, outcome: outcome.outcome });
      if (outcome.outcome === 'mapping-missing' || outcome.outcome === 'source-missing') {
        // Out of order: its create (or the user's delete) may be queued behind it. Put it back and give that
        // time to land.
        queue.push({ ...request, deferrals: (request.deferrals ?? 0) + 1 });
        if (queue.length === 1) await sleep(DEFERRAL_DELAY);
      }
    } catch (err) {
      if (!(err instanceof ChildWorkflowFailure)) throw err;
      result.alertSyncs.push({ reason: request.reason, workflowId, outcome: 'failed', failure: describeFailure(err) });
      log.warn('alert sync failed', { prisonNumber, workflowId, ...describeFailure(err) });
      // The failed run shows what was not applied; a resync behind it brings both systems back in step.
      if (patched(RESYNC_AFTER_FAILED_ALERT_SYNC)) {
        // From the side switched on now: from NOMIS in ADR002's end state would undo DPS users' changes.
        const source = patched(RECOVERY_RESYNC_FOLLOWS_SWITCH) ? await switches.resyncSourceInForce() : 'NOMIS';
        queue.push({
          kind: 'resync',
          reason: `bring back in step after failed ${workflowId}`,
          ...(source === 'DPS' ? { source } : {}),
        });
      }
    }
  }

  function deleteQueuedFor(dpsAlertId: string): boolean {
    return queue.some(
      (r) =>
        r.kind === 'alert' &&
        r.change.direction === 'DPS_TO_NOMIS' &&
        r.change.action === 'DELETED' &&
        r.change.dpsAlertId === dpsAlertId,
    );
  }
}

function isDpsEdit(request: SyncRequest | undefined): request is AlertSyncRequest {
  return (
    request?.kind === 'alert' && request.change.direction === 'DPS_TO_NOMIS' && request.change.action === 'UPDATED'
  );
}

function duringResync(request: AlertSyncRequest): AlertSyncRequest {
  return { ...request, duringResync: true };
}

/** Each source the requests ask for once, ordered so that the latest request's source comes last. */
export function sourcesInOrder(requests: ResyncRequest[]): ResyncSource[] {
  const last = new Map<ResyncSource, number>();
  requests.forEach((r, i) => last.set(r.source ?? 'NOMIS', i));
  return [...last.entries()].sort((a, b) => a[1] - b[1]).map(([source]) => source);
}

/** That resync copies from the source switched on (older runs always resynced from NOMIS). */
const RECOVERY_RESYNC_FOLLOWS_SWITCH = 'recovery-resync-follows-switch';

/** A terminal alert-sync failure queues a resync of the prisoner (older runs only recorded it). */
const RESYNC_AFTER_FAILED_ALERT_SYNC = 'resync-after-failed-alert-sync';

function describeFailure(err: ChildWorkflowFailure): { type?: string; message: string } {
  // Child failure -> (activity failure ->) application failure: report the innermost, typed cause.
  let cause: Error | undefined = err;
  while (cause?.cause instanceof Error) cause = cause.cause;
  const type = cause && 'type' in cause && typeof cause.type === 'string' ? cause.type : undefined;
  return { type, message: cause?.message ?? err.message };
}
