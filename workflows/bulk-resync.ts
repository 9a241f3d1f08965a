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
import { batchResyncEventId } from '../common/ids';
import { nextWindowStep, refill } from '../common/rate-limit';
import type { TokenBucket } from '../common/rate-limit';
import type { Duration } from '@temporalio/common';
import { DATABASE_ACTIVITY, NOMIS_READ_ACTIVITY, TEMPORAL_REQUEST_ACTIVITY } from '../common/retry-policies';
import { SYNC_KIND } from '../common/search-attributes';
import { SyncKind } from '../common/sync-kinds';
import type { BulkResyncFailure, BulkResyncOutcomeRow, BulkResyncProgress, ResyncFinished } from './messages';
import { bulkResyncProgressQuery, resyncFinishedSignal } from './messages';
import type { ResyncSource } from '../common/sync-switches';

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

interface BulkResyncState {
  runKey: string;
  startedAt: number;
  total: number;
  skipped: number;
  done: number;
  /** All failures (absent in state carried over by runs that counted failures by their list). */
  failed?: number;
  failures: BulkResyncFailure[];
  pending: string[];
  running: string[];
  unrecorded: BulkResyncOutcomeRow[];
  /** Prisoners of the window whose workflow was found closed at the last check, without a report. */
  silent?: string[];
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
 */
export async function bulkResyncWorkflow(input: BulkResyncInput): Promise<BulkResyncReport> {
  const { batchId, concurrency, ratePerSecond } = input;
  const batchWorkflowId = workflowInfo().workflowId;
  const reason = input.reason ?? `bulk resync ${batchId}`;
  const failuresKept = input.failuresKept ?? FAILURES_KEPT;
  upsertSearchAttributes([{ key: SYNC_KIND, value: SyncKind.bulkResync }]);

  let state = input.state;
  const running = new Set(state?.running ?? []);
  let completed = false;
  // Before the state exists nothing has been asked for: a signal then is a late one for an earlier run.
  setHandler(resyncFinishedSignal, (finished) => {
    if (state) finish(finished);
  });
  setHandler(bulkResyncProgressQuery, (): BulkResyncProgress => progress());

  if (!state) {
    // 1. Who is in the batch.
    const everyone = unique(
      input.prisonNumbers ??
        (await nomis.listPrisonersAtPrison.executeWithOptions(
          { ...NOMIS_READ_ACTIVITY, summary: `list the prisoners at ${input.prisonId ?? '?'}` },
          [{ prisonId: input.prisonId ?? '', pageSize: PRISON_PAGE_SIZE }],
        )),
    );
    // 2. Who an earlier run of the same batch already resynced: not again, unless asked.
    const done = new Set(
      await db.findDoneInEarlierRuns.executeWithOptions(
        { ...DATABASE_ACTIVITY, summary: `find prisoners batch ${batchId} already resynced` },
        [{ batchId, prisonNumbers: everyone, redo: input.redo ?? false }],
      ),
    );
    state = {
      runKey: `bulk:${batchWorkflowId}:${workflowInfo().runId}`,
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
  }
  const s: BulkResyncState = state;

  // 3. The sliding window: start resyncs while there is room and rate, then wait for one to finish.
  let bucket: TokenBucket = { tokens: Math.max(1, ratePerSecond), at: Date.now() };
  const inChunks = patched(REFILL_IN_CHUNKS);
  while (s.pending.length > 0 || running.size > 0) {
    if (s.unrecorded.length >= RECORD_EVERY) {
      await recordOutcomes();
      // The last resyncs may have finished meanwhile: look at the window again before waiting for one.
      continue;
    }
    bucket = refill(bucket, Date.now(), ratePerSecond);
    const step = nextWindowStep({
      running: running.size,
      pending: s.pending.length,
      concurrency,
      bucket,
      ratePerSecond,
      refillAt: inChunks ? Math.ceil(concurrency / REFILL_PARTS) : 1,
    });
    if (step.action === 'start') {
      const prisonNumbers = s.pending.splice(0, step.count);
      bucket = { ...bucket, tokens: bucket.tokens - step.count };
      for (const prisonNumber of prisonNumbers) running.add(prisonNumber);
      showProgress();
      const request = {
        batchWorkflowId,
        runKey: s.runKey,
        reason,
        prisonNumbers,
        ...(input.source ? { source: input.source } : {}),
      };
      const summary = `queue resyncs of ${describeList(prisonNumbers)}`;
      await temporal.requestBatchResyncs.executeWithOptions({ ...TEMPORAL_REQUEST_ACTIVITY, summary }, [request]);
      continue;
    }
    showProgress();
    const finishedSoFar = s.done + failedCount();
    const oneFinished = () => s.done + failedCount() !== finishedSoFar;
    // A timer of a few ms that a finishing resync cancels can fire in the same task as the cancel, which the
    // server refused (BadCancelTimerAttributes) and the SDK then replayed as non-deterministic, stalling the batch
    // under load: in chunks, the wait for the rate is a plain sleep, never cancelled.
    if (step.action === 'wait-for-rate' && inChunks) await sleep(step.ms);
    else if (step.action === 'wait-for-rate') await condition(oneFinished, step.ms);
    else if (!patched(LIVENESS_CHECKS)) await condition(oneFinished);
    else if (!(await condition(oneFinished, input.livenessCheckEvery ?? LIVENESS_CHECK_EVERY))) {
      await failSilentPrisoners();
    }

    if (workflowInfo().continueAsNewSuggested) {
      await recordOutcomes();
      await condition(allHandlersFinished);
      await continueAsNew<typeof bulkResyncWorkflow>({
        ...input,
        prisonNumbers: undefined,
        state: { ...s, running: [...running] },
      });
    }
  }
  // 4. Remember who is done, for the next run of this batch; report who failed and why.
  await recordOutcomes();
  showProgress();
  const report: BulkResyncReport = {
    batchId,
    total: s.total,
    skipped: s.skipped,
    done: s.done,
    failed: failedCount(),
    failures: s.failures,
    startedAt: s.startedAt,
    finishedAt: Date.now(),
  };
  log.info('bulk resync finished', { ...report, failures: s.failures.map((f) => f.prisonNumber) });
  completed = true;
  await condition(allHandlersFinished);
  return report;

  function finish(finished: ResyncFinished): void {
    if (!state) return;
    // Only a report of this run's own request counts: one meant for an earlier run of the batch (same workflow
    // id) can arrive while this run's request still waits behind it in the prisoner's queue.
    if (finished.eventIds && !finished.eventIds.includes(batchResyncEventId(state.runKey, finished.prisonNumber)))
      return;
    // A prisoner not in the window is a late duplicate (a resync that was also asked for by someone else).
    if (!running.delete(finished.prisonNumber)) return;
    if (finished.ok) {
      state.done++;
      state.unrecorded.push({ prisonNumber: finished.prisonNumber, status: 'DONE' });
    } else {
      fail(finished.prisonNumber, finished.failure ?? 'resync failed');
    }
  }

  function fail(prisonNumber: string, failure: string): void {
    if (!state) return;
    state.failed = failedCount() + 1;
    if (state.failures.length < failuresKept) state.failures.push({ prisonNumber, reason: failure });
    state.unrecorded.push({ prisonNumber, status: 'FAILED', failure });
    log.warn('bulk resync: prisoner failed', { batchId, prisonNumber, failure });
  }

  function failedCount(): number {
    return state?.failed ?? state?.failures.length ?? 0;
  }

  /**
   * A prisoner whose workflow closed without reporting (terminated by an operator, say) would hold its place in
   * the window for ever. Found closed at two checks in a row — so a report on its way has had time to land —
   * it fails, with the reason; running the batch again retries it.
   */
  async function failSilentPrisoners(): Promise<void> {
    if (!state || running.size === 0) return;
    const closed = await temporal.findClosedPrisonerSyncs.executeWithOptions(
      { ...TEMPORAL_REQUEST_ACTIVITY, summary: `check the ${running.size} prisoner workflows in the window are alive` },
      [{ prisonNumbers: [...running] }],
    );
    const before = new Set(state.silent ?? []);
    state.silent = closed.filter((c) => running.has(c.prisonNumber)).map((c) => c.prisonNumber);
    for (const { prisonNumber, status } of closed) {
      if (!before.has(prisonNumber) || !running.delete(prisonNumber)) continue;
      fail(
        prisonNumber,
        `PrisonerSyncClosed: prisoner-sync-${prisonNumber} ended (${status}) without reporting its resync`,
      );
    }
  }

  async function recordOutcomes(): Promise<void> {
    if (!state || state.unrecorded.length === 0) return;
    const outcomes = state.unrecorded.splice(0);
    const summary = `record ${outcomes.length} outcomes of batch ${batchId}`;
    await db.recordBatchOutcomes.executeWithOptions({ ...DATABASE_ACTIVITY, summary }, [{ batchId, outcomes }]);
  }

  function progress(): BulkResyncProgress {
    return {
      batchId,
      total: state?.total ?? 0,
      skipped: state?.skipped ?? 0,
      done: state?.done ?? 0,
      failed: failedCount(),
      running: running.size,
      pending: state?.pending.length ?? 0,
      startedAt: state?.startedAt ?? 0,
      finished: completed,
      failures: state?.failures ?? [],
    };
  }

  function showProgress(): void {
    const p = progress();
    setCurrentDetails(
      `${p.done} done, ${p.failed} failed, ${p.running} running, ${p.pending} waiting of ${p.total}` +
        (p.skipped ? ` (${p.skipped} skipped: done by an earlier run)` : ''),
    );
  }
}

function unique(prisonNumbers: string[]): string[] {
  return [...new Set(prisonNumbers)];
}

function describeList(prisonNumbers: string[]): string {
  return prisonNumbers.length <= 3
    ? prisonNumbers.join(', ')
    : `${prisonNumbers.length} prisoners (${prisonNumbers[0]} … ${prisonNumbers.at(-1)})`;
}
