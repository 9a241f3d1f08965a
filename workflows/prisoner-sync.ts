import {
  allHandlersFinished,
  ChildWorkflowFailure,
  condition,
  continueAsNew,
  executeChild,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { SyncActivities } from '../activities';
import { alertSyncWorkflowId } from '../common/ids';
import { DATABASE_ACTIVITY, DEFERRAL_DELAY, MAX_MAPPING_DEFERRALS } from '../common/retry-policies';
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
import { prisonerSyncProgressQuery, syncRequestedSignal, syncsRequestedSignal } from './messages';
import type { PrisonerResyncInput, ResyncPassSummary } from './prisoner-resync';
import { prisonerResyncWorkflow, resyncInPlace } from './prisoner-resync';
import { resyncFromDpsWorkflow } from './resync-from-dps';
import { InPlaceResyncWatch, PrisonerQueue } from './prisoner-queue';
import { inPlaceRun, notifyWaiters } from './resync-requests';
import { makeFindable } from './findable';

const switches = proxyActivities<SyncActivities>(DATABASE_ACTIVITY);

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

/** One run of a prisoner's queue: what its steps share. */
interface QueueRun {
  prisonNumber: string;
  queue: PrisonerQueue;
  result: PrisonerSyncResult;
  /** What runs now, for the progress query and the Web UI's current details. */
  current?: string;
  /** Only a resync from NOMIS can put NOMIS's text back over a DPS user's edit that arrives meanwhile. */
  resyncFromNomisRunning: boolean;
  inPlace: InPlaceResyncWatch;
}

/**
 * All syncs of one prisoner, one at a time, in arrival order (workflow id `prisoner-sync-{prisonNumber}`,
 * fed by signal-with-start). Alert-level syncs and resyncs run as child workflows, so each is a short,
 * separately visible run, and they never interleave for one prisoner; different prisoners run in parallel.
 * Which request runs next, and which a resync covers, is the queue's rule (prisoner-queue.ts).
 */
export async function prisonerSyncWorkflow(input: PrisonerSyncInput): Promise<PrisonerSyncResult> {
  const { prisonNumber } = input;
  const run: QueueRun = {
    prisonNumber,
    queue: new PrisonerQueue(input.requests, input.handledEventIds),
    result: { prisonNumber, passes: [], failedResyncs: [], alertSyncs: [], absorbed: 0, duplicatesIgnored: 0 },
    resyncFromNomisRunning: false,
    inPlace: new InPlaceResyncWatch(),
  };
  const { queue, result } = run;
  const requested = (request: SyncRequest) => {
    const overwritable = () => run.resyncFromNomisRunning || run.inPlace.sentDuring(workflowInfo().historyLength);
    if (!queue.receive(request, overwritable))
      log.info('duplicate sync request ignored', { prisonNumber, eventId: request.eventId, reason: request.reason });
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
      duplicatesIgnored: queue.duplicatesIgnored,
      current: run.current,
    }),
  );
  // Upserting what the start already set would cost an event and a visibility write per prisoner.
  if (!input.searchAttributesSetAtStart) {
    makeFindable(prisonNumber, SyncKind.prisoner);
  }

  // Requests arrive as the signal of signal-with-start, delivered as soon as the handler is set, so they are
  // almost always here. A condition with a timeout costs a cancellation scope, a timer and several promises (each
  // with a stack trace the SDK records) even when it holds at once: only wait when there is something to wait for.
  if (queue.length === 0) await condition(() => queue.length > 0, '1 minute');

  for (let step = queue.next(); step; step = queue.next()) {
    if (step.kind === 'alert') {
      await runAlertSync(run, step.request);
    } else {
      for (const request of step.alertSyncsFirst) await runAlertSync(run, request);
      for (const { source, requests } of step.resyncs) {
        const { finished, waitersTold } = await runResync(run, requests, source);
        if (!waitersTold) await notifyWaiters(run.prisonNumber, requests, finished);
      }
    }

    if (workflowInfo().continueAsNewSuggested && queue.length > 0) {
      await condition(allHandlersFinished);
      // Continue-as-new keeps the run's search attributes.
      await continueAsNew<typeof prisonerSyncWorkflow>({
        prisonNumber,
        ...queue.carryOver(),
        searchAttributesSetAtStart: true,
      });
    }
  }
  run.current = undefined;
  result.absorbed = queue.absorbed;
  result.duplicatesIgnored = queue.duplicatesIgnored;
  setCurrentDetails(
    `done: ${result.passes.length} resync(s), ${result.alertSyncs.length} alert sync(s), ${result.absorbed} absorbed`,
  );
  if (!allHandlersFinished()) await condition(allHandlersFinished);
  return result;
}

function showCurrent(run: QueueRun, current: string): void {
  run.current = current;
  setCurrentDetails(current);
}

/** How the resync ended, and whether whoever waits for it (a batch) has been told already. */
interface ResyncEnded {
  finished: ResyncFinished;
  waitersTold: boolean;
}

async function runResync(run: QueueRun, requests: ResyncRequest[], source: ResyncSource): Promise<ResyncEnded> {
  const { prisonNumber, result } = run;
  const reasons = requests.map((r) => r.reason);
  const removedPrisonNumbers = [
    ...new Set(requests.flatMap((r) => (r.removedPrisonNumber ? [r.removedPrisonNumber] : []))),
  ];
  const workflowId = `resync-${prisonNumber}-${uuid4().slice(0, 8)}`;
  showCurrent(run, `resync: ${reasons.join('; ')}`);
  // A failed resync (e.g. NomisNotFound) stays visible as its own failed run; the queue goes on.
  run.resyncFromNomisRunning = source === 'NOMIS';
  // (A workflow task whose completion met a new signal is replayed with that signal already queued here.)
  if (run.resyncFromNomisRunning) run.queue.resyncFromNomisStarted();
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
    const how = source === 'NOMIS' ? inPlaceRun(requests) : undefined;
    const inPlace = how ? await resyncInPlace(args[0], how) : undefined;
    if (inPlace) run.inPlace.ended(workflowInfo().historyLength);
    else showCurrent(run, `${workflowId}: ${reasons.join('; ')}`);
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
    run.resyncFromNomisRunning = false;
    result.passes.push({ ...pass, source });
    return {
      finished: { prisonNumber, ok: true, alertCount: pass.alertCount },
      waitersTold: inPlace !== undefined && how?.as === 'one-activity',
    };
  } catch (err) {
    run.resyncFromNomisRunning = false;
    if (!(err instanceof ChildWorkflowFailure)) throw err;
    const failure = describeFailure(err);
    result.failedResyncs.push({ workflowId, ...failure });
    log.warn('resync failed', { prisonNumber, workflowId, ...failure });
    const finished: ResyncFinished = {
      prisonNumber,
      ok: false,
      failure: failure.type ? `${failure.type}: ${failure.message}` : failure.message,
      ...(failure.type ? { failureType: failure.type } : {}),
    };
    return { finished, waitersTold: false };
  }
}

async function runAlertSync(run: QueueRun, request: AlertSyncRequest): Promise<void> {
  const { prisonNumber, queue, result } = run;
  const { change } = request;
  const { runIt, superseded } = queue.supersededBy(request);
  for (const { reason } of superseded) result.alertSyncs.push({ reason, workflowId: '-', outcome: 'superseded' });
  if (!runIt) return;
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
  showCurrent(run, `${workflowId}: ${request.reason}`);
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
    // Out of order: its create (or the user's delete) may be queued behind it. Put it back and give that time.
    if (outcome.outcome === 'mapping-missing' || outcome.outcome === 'source-missing') {
      if (queue.defer(request)) await sleep(DEFERRAL_DELAY);
    }
  } catch (err) {
    if (!(err instanceof ChildWorkflowFailure)) throw err;
    result.alertSyncs.push({ reason: request.reason, workflowId, outcome: 'failed', failure: describeFailure(err) });
    log.warn('alert sync failed', { prisonNumber, workflowId, ...describeFailure(err) });
    // The failed run shows what was not applied; a resync behind it brings both systems back in step.
    if (patched(RESYNC_AFTER_FAILED_ALERT_SYNC)) {
      // From the side switched on now: from NOMIS in ADR002's end state would undo DPS users' changes.
      const source = patched(RECOVERY_RESYNC_FOLLOWS_SWITCH) ? await switches.resyncSourceInForce() : 'NOMIS';
      queue.queueResync(`bring back in step after failed ${workflowId}`, source);
    }
  }
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
