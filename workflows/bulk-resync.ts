import {
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SyncActivities } from '../activities';
import type { Duration } from '@temporalio/common';
import { DATABASE_ACTIVITY, NOMIS_READ_ACTIVITY, TEMPORAL_REQUEST_ACTIVITY } from '../common/retry-policies';
import { SYNC_KIND } from '../common/search-attributes';
import { SyncKind } from '../common/sync-kinds';
import type { BulkResyncFailure, BulkResyncProgress, ResyncFinished } from './messages';
import type { BulkResyncState } from './bulk-window';
import { BulkWindow } from './bulk-window';
import { bulkResyncProgressQuery, resyncFinishedSignal, resyncsFinishedSignal } from './messages';
import type { ResyncSource } from '../common/sync-switches';

// Proxies are named for the system each call reaches and its retry class (common/retry-policies.ts), not for the
// activity file: these three are all in activities/bulk-resync.ts.
const nomis = proxyActivities<SyncActivities>(NOMIS_READ_ACTIVITY);
const db = proxyActivities<SyncActivities>(DATABASE_ACTIVITY);
const temporal = proxyActivities<SyncActivities>(TEMPORAL_REQUEST_ACTIVITY);

/** Outcomes are written to the database in groups of this many (and at the end), not one activity each. */
const RECORD_EVERY = 25;
const PRISON_PAGE_SIZE = 500;
/**
 * Failures kept in the workflow (its state, progress and report) with their reasons; the rest are counted, and
 * every one is in bulk_resync_items. A whole estate of reasons would pass Temporal's 2 MB payload limit.
 */
const FAILURES_KEPT = 100;
/** With nothing reported for this long, the batch asks whether the prisoners in its window are still syncing. */
const LIVENESS_CHECK_EVERY = '2 minutes';
/**
 * The window is refilled once a quarter of it is free, by one activity (older runs refilled it for every resync
 * that finished: an activity and two workflow tasks per prisoner). Not a local activity: the window's rate is
 * reckoned on workflow time, which a replay did not see the same between local activities in one workflow task
 * (the batch failed as non-deterministic under load).
 */
const REFILL_IN_CHUNKS = 'bulk-resync-refill-in-chunks';
const REFILL_PARTS = 4;
/** Batches started before they checked that their prisoners' workflows are alive did not. */
const LIVENESS_CHECKS = 'bulk-resync-liveness-checks';

export interface BulkResyncInput {
  batchId: string;
  /** The prisoners to resync; or, instead, every prisoner NOMIS has at `prisonId` when the batch starts. */
  prisonNumbers?: string[];
  prisonId?: string;
  /** At most this many prisoners resyncing at once. */
  concurrency: number;
  /** At most this many resyncs started per second. */
  ratePerSecond: number;
  /** Resync prisoners an earlier run of this batch already did, too. */
  redo?: boolean;
  /** Shown as the reason of every resync, e.g. "reconciliation found drift". */
  reason?: string;
  /** Which side every resync copies from; by default the resync source switched on when each is queued. */
  source?: ResyncSource;
  /** How many failures to keep with their reasons (default 100); all are counted and in the database. */
  failuresKept?: number;
  /** How long to wait for a report before checking the window's prisoner workflows are alive (default 2 min). */
  livenessCheckEvery?: Duration;
  /** Carried over by continue-as-new; absent on the first run. */
  state?: BulkResyncState;
}

export interface BulkResyncReport {
  batchId: string;
  total: number;
  /** Done by an earlier run of the same batch, so not done again. */
  skipped: number;
  done: number;
  failed: number;
  /** The first failures with their reasons; `failed` counts them all, bulk_resync_items holds them all. */
  failures: BulkResyncFailure[];
  startedAt: number;
  finishedAt: number;
}

/**
 * Resyncs many prisoners as one durable batch (Temporal's batch-sliding-window pattern): a window of at most
 * `concurrency` prisoners is resyncing at any time, starts are held to `ratePerSecond`, and each resync is
 * queued on the prisoner's own workflow (so it never interleaves with that prisoner's alert syncs), which
 * signals back when it ends. The client that started it may exit; the batch goes on and can be watched again.
 * Who is waiting, running, done or failed is the window's (bulk-window.ts).
 */
export async function bulkResyncWorkflow(input: BulkResyncInput): Promise<BulkResyncReport> {
  const { batchId } = input;
  const limits = {
    concurrency: input.concurrency,
    ratePerSecond: input.ratePerSecond,
    failuresKept: input.failuresKept ?? FAILURES_KEPT,
  };
  upsertSearchAttributes([{ key: SYNC_KIND, value: SyncKind.bulkResync }]);

  let window = input.state && new BulkWindow(input.state, limits, Date.now());
  let completed = false;
  // Before the window exists nothing has been asked for: a signal then is a late one for an earlier run.
  const finish = (finished: ResyncFinished) => {
    const failure = window?.finish(finished);
    if (failure) logFailure(batchId, failure);
  };
  setHandler(resyncFinishedSignal, finish);
  setHandler(resyncsFinishedSignal, (reports) => reports.forEach(finish));
  setHandler(bulkResyncProgressQuery, (): BulkResyncProgress => progress(batchId, window, completed));

  window ??= new BulkWindow(await firstState(input), limits, Date.now());
  const w: BulkWindow = window;

  // 3. The sliding window: start resyncs while there is room and rate, then wait for one to finish.
  const inChunks = patched(REFILL_IN_CHUNKS);
  while (!w.finished) {
    if (w.unrecordedCount >= RECORD_EVERY) {
      await recordOutcomes(batchId, w);
      // The last resyncs may have finished meanwhile: look at the window again before waiting for one.
      continue;
    }
    const step = w.next(Date.now(), inChunks ? Math.ceil(input.concurrency / REFILL_PARTS) : 1);
    if (step.action === 'start') {
      await startResyncs(input, w, step.count);
      continue;
    }
    showProgress(batchId, w);
    const finishedSoFar = w.finishedCount;
    const oneFinished = () => w.finishedCount !== finishedSoFar;
    // A timer of a few ms that a finishing resync cancels can fire in the same task as the cancel, which the
    // server refused (BadCancelTimerAttributes) and the SDK then replayed as non-deterministic, stalling the batch
    // under load: in chunks, the wait for the rate is a plain sleep, never cancelled.
    if (step.action === 'wait-for-rate' && inChunks) await sleep(step.ms);
    else if (step.action === 'wait-for-rate') await condition(oneFinished, step.ms);
    else if (!patched(LIVENESS_CHECKS)) await condition(oneFinished);
    else if (!(await condition(oneFinished, input.livenessCheckEvery ?? LIVENESS_CHECK_EVERY))) {
      await failSilentPrisoners(batchId, w);
    }

    if (workflowInfo().continueAsNewSuggested) {
      await recordOutcomes(batchId, w);
      await condition(allHandlersFinished);
      await continueAsNew<typeof bulkResyncWorkflow>({ ...input, prisonNumbers: undefined, state: w.carryOver() });
    }
  }
  // 4. Remember who is done, for the next run of this batch; report who failed and why.
  await recordOutcomes(batchId, w);
  showProgress(batchId, w);
  const { state } = w;
  const report: BulkResyncReport = {
    batchId,
    total: state.total,
    skipped: state.skipped,
    done: state.done,
    failed: w.failedCount,
    failures: state.failures,
    startedAt: state.startedAt,
    finishedAt: Date.now(),
  };
  log.info('bulk resync finished', { ...report, failures: state.failures.map((f) => f.prisonNumber) });
  completed = true;
  await condition(allHandlersFinished);
  return report;
}

/** 1. Who is in the batch, and 2. who an earlier run of the same batch already resynced: not again, unless asked. */
async function firstState(input: BulkResyncInput): Promise<BulkResyncState> {
  const { batchId } = input;
  const everyone = unique(
    input.prisonNumbers ??
      (await nomis.listPrisonersAtPrison.executeWithOptions(
        { ...NOMIS_READ_ACTIVITY, summary: `list the prisoners at ${input.prisonId ?? '?'}` },
        [{ prisonId: input.prisonId ?? '', pageSize: PRISON_PAGE_SIZE }],
      )),
  );
  const done = new Set(
    await db.findDoneInEarlierRuns.executeWithOptions(
      { ...DATABASE_ACTIVITY, summary: `find prisoners batch ${batchId} already resynced` },
      [{ batchId, prisonNumbers: everyone, redo: input.redo ?? false }],
    ),
  );
  const { workflowId, runId } = workflowInfo();
  const state: BulkResyncState = {
    runKey: `bulk:${workflowId}:${runId}`,
    startedAt: Date.now(),
    total: everyone.length,
    skipped: done.size,
    done: 0,
    failed: 0,
    failures: [],
    pending: everyone.filter((p) => !done.has(p)),
    running: [],
    unrecorded: [],
  };
  log.info('bulk resync started', { batchId, total: state.total, skipped: state.skipped });
  return state;
}

/** Queues the next `count` prisoners' resyncs on their own workflows, in one activity. */
async function startResyncs(input: BulkResyncInput, window: BulkWindow, count: number): Promise<void> {
  const prisonNumbers = window.start(count);
  showProgress(input.batchId, window);
  const request = {
    batchWorkflowId: workflowInfo().workflowId,
    runKey: window.state.runKey,
    reason: input.reason ?? `bulk resync ${input.batchId}`,
    prisonNumbers,
    ...(input.source ? { source: input.source } : {}),
    // Its prisoners' reports come grouped (resyncsFinishedSignal), a few to a signal, unless the worker's
    // BULK_REPORTS_GROUPED is off. Only the activity's input says so, which a replay does not compare: histories
    // from before replay unchanged, without a patch.
    groupedReports: true,
  };
  const summary = `queue resyncs of ${describeList(prisonNumbers)}`;
  await temporal.requestBatchResyncs.executeWithOptions({ ...TEMPORAL_REQUEST_ACTIVITY, summary }, [request]);
}

/** Fails the prisoners of the window whose workflow closed without reporting (BulkWindow.closedWithoutReport). */
async function failSilentPrisoners(batchId: string, window: BulkWindow): Promise<void> {
  if (window.runningCount === 0) return;
  const closed = await temporal.findClosedPrisonerSyncs.executeWithOptions(
    {
      ...TEMPORAL_REQUEST_ACTIVITY,
      summary: `check the ${window.runningCount} prisoner workflows in the window are alive`,
    },
    [{ prisonNumbers: window.runningPrisoners() }],
  );
  for (const failure of window.closedWithoutReport(closed)) logFailure(batchId, failure);
}

async function recordOutcomes(batchId: string, window: BulkWindow): Promise<void> {
  if (window.unrecordedCount === 0) return;
  const outcomes = window.takeUnrecorded();
  const summary = `record ${outcomes.length} outcomes of batch ${batchId}`;
  await db.recordBatchOutcomes.executeWithOptions({ ...DATABASE_ACTIVITY, summary }, [{ batchId, outcomes }]);
}

function logFailure(batchId: string, { prisonNumber, reason }: BulkResyncFailure): void {
  log.warn('bulk resync: prisoner failed', { batchId, prisonNumber, failure: reason });
}

function progress(batchId: string, window: BulkWindow | undefined, finished: boolean): BulkResyncProgress {
  return (
    window?.progress(batchId, finished) ?? {
      batchId,
      total: 0,
      skipped: 0,
      done: 0,
      failed: 0,
      running: 0,
      pending: 0,
      startedAt: 0,
      finished,
      failures: [],
    }
  );
}

function showProgress(batchId: string, window: BulkWindow): void {
  const p = window.progress(batchId, false);
  setCurrentDetails(
    `${p.done} done, ${p.failed} failed, ${p.running} running, ${p.pending} waiting of ${p.total}` +
      (p.skipped ? ` (${p.skipped} skipped: done by an earlier run)` : ''),
  );
}

function unique(prisonNumbers: string[]): string[] {
  return [...new Set(prisonNumbers)];
}

function describeList(prisonNumbers: string[]): string {
  return prisonNumbers.length <= 3
    ? prisonNumbers.join(', ')
    : `${prisonNumbers.length} prisoners (${prisonNumbers[0]} … ${prisonNumbers.at(-1)})`;
}
