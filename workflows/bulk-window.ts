import { batchResyncEventId } from '../common/ids';
import type { TokenBucket, WindowStep } from '../common/rate-limit';
import { nextWindowStep, refill } from '../common/rate-limit';
import type { BulkResyncFailure, BulkResyncOutcomeRow, BulkResyncProgress, ResyncFinished } from './messages';

// A bulk resync's sliding window (bulk-resync.ts drives it): who is waiting, who is resyncing, who is done or
// failed and why, and when the next resyncs may start. Plain data, no Temporal API, the clock passed in:
// test/unit/bulk-window.test.ts checks it in milliseconds.

/** What a run of the batch carries over to the next by continue-as-new. */
export interface BulkResyncState {
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

export interface WindowLimits {
  /** At most this many prisoners resyncing at once. */
  concurrency: number;
  /** At most this many resyncs started per second. */
  ratePerSecond: number;
  /** Failures kept with their reasons; the rest are counted (and all are in the database). */
  failuresKept: number;
}

export class BulkWindow {
  private readonly running: Set<string>;
  private bucket: TokenBucket;

  constructor(
    readonly state: BulkResyncState,
    private readonly limits: WindowLimits,
    now: number,
  ) {
    this.running = new Set(state.running);
    // Each run starts with a full second's worth of tokens; the bucket is not carried over.
    this.bucket = { tokens: Math.max(1, limits.ratePerSecond), at: now };
  }

  get runningCount(): number {
    return this.running.size;
  }

  get finished(): boolean {
    return this.state.pending.length === 0 && this.running.size === 0;
  }

  /** Done and failed so far: a wait for "one more finished" compares against it. */
  get finishedCount(): number {
    return this.state.done + this.failedCount;
  }

  get failedCount(): number {
    return this.state.failed ?? this.state.failures.length;
  }

  /**
   * What to do now: start some, wait for the rate, or wait for one to finish. `refillAt`: start no fewer than
   * this many at a time (fewer only when fewer are left), see nextWindowStep.
   */
  next(now: number, refillAt: number): WindowStep {
    this.bucket = refill(this.bucket, now, this.limits.ratePerSecond);
    return nextWindowStep({
      running: this.running.size,
      pending: this.state.pending.length,
      concurrency: this.limits.concurrency,
      bucket: this.bucket,
      ratePerSecond: this.limits.ratePerSecond,
      refillAt,
    });
  }

  /** The next `count` prisoners, now in the window, their tokens spent. */
  start(count: number): string[] {
    const prisonNumbers = this.state.pending.splice(0, count);
    this.bucket = { ...this.bucket, tokens: this.bucket.tokens - prisonNumbers.length };
    for (const prisonNumber of prisonNumbers) this.running.add(prisonNumber);
    return prisonNumbers;
  }

  /**
   * A prisoner's resync ended. Only a report of this run's own request counts: one meant for an earlier run of
   * the batch (same workflow id) can arrive while this run's request still waits behind it in the prisoner's
   * queue; and a prisoner not in the window is a late duplicate (a resync someone else also asked for).
   * Returns the failure it recorded, if any.
   */
  finish(finished: ResyncFinished): BulkResyncFailure | undefined {
    if (finished.eventIds && !finished.eventIds.includes(batchResyncEventId(this.state.runKey, finished.prisonNumber)))
      return undefined;
    if (!this.running.delete(finished.prisonNumber)) return undefined;
    if (finished.ok) {
      this.state.done++;
      this.state.unrecorded.push({ prisonNumber: finished.prisonNumber, status: 'DONE' });
      return undefined;
    }
    return this.fail(finished.prisonNumber, finished.failure ?? 'resync failed');
  }

  /**
   * The window's prisoners whose workflow was found closed without reporting (terminated by an operator, say),
   * which would otherwise hold their place for ever. Found closed at two checks in a row — so a report on its
   * way has had time to land — a prisoner fails, with the reason; running the batch again retries it.
   */
  closedWithoutReport(closed: ReadonlyArray<{ prisonNumber: string; status: string }>): BulkResyncFailure[] {
    const before = new Set(this.state.silent ?? []);
    this.state.silent = closed.filter((c) => this.running.has(c.prisonNumber)).map((c) => c.prisonNumber);
    const failed: BulkResyncFailure[] = [];
    for (const { prisonNumber, status } of closed) {
      if (!before.has(prisonNumber) || !this.running.delete(prisonNumber)) continue;
      failed.push(
        this.fail(
          prisonNumber,
          `PrisonerSyncClosed: prisoner-sync-${prisonNumber} ended (${status}) without reporting its resync`,
        ),
      );
    }
    return failed;
  }

  runningPrisoners(): string[] {
    return [...this.running];
  }

  /** The outcomes not written to the database yet, taken out to be written. */
  takeUnrecorded(): BulkResyncOutcomeRow[] {
    return this.state.unrecorded.splice(0);
  }

  get unrecordedCount(): number {
    return this.state.unrecorded.length;
  }

  /** What continue-as-new carries. */
  carryOver(): BulkResyncState {
    return { ...this.state, running: [...this.running] };
  }

  progress(batchId: string, finished: boolean): BulkResyncProgress {
    const s = this.state;
    return {
      batchId,
      total: s.total,
      skipped: s.skipped,
      done: s.done,
      failed: this.failedCount,
      running: this.running.size,
      pending: s.pending.length,
      startedAt: s.startedAt,
      finished,
      failures: s.failures,
    };
  }

  private fail(prisonNumber: string, reason: string): BulkResyncFailure {
    this.state.failed = this.failedCount + 1;
    const failure = { prisonNumber, reason };
    if (this.state.failures.length < this.limits.failuresKept) this.state.failures.push(failure);
    this.state.unrecorded.push({ prisonNumber, status: 'FAILED', failure: reason });
    return failure;
  }
}
