import { batchResyncEventId } from '../../common/ids';
import type { BulkResyncState } from '../../workflows/bulk-window';
import { BulkWindow } from '../../workflows/bulk-window';

// A bulk resync's window without a server: room, rate, reports, silent prisoners and what continue-as-new carries.

const RUN_KEY = 'bulk:batch-1:run-1';

function state(pending: string[], extra: Partial<BulkResyncState> = {}): BulkResyncState {
  return {
    runKey: RUN_KEY,
    startedAt: 0,
    total: pending.length,
    skipped: 0,
    done: 0,
    failed: 0,
    failures: [],
    pending,
    running: [],
    unrecorded: [],
    ...extra,
  };
}
const prisoners = (n: number) => Array.from({ length: n }, (_, i) => `A${String(i).padStart(4, '0')}AA`);
const report = (prisonNumber: string, ok = true) => ({
  prisonNumber,
  ok,
  ...(ok ? {} : { failure: 'NomisNotFound: gone' }),
  eventIds: [batchResyncEventId(RUN_KEY, prisonNumber)],
});

describe('BulkWindow', () => {
  test('starts no more than the window holds, then waits for one to finish', () => {
    const window = new BulkWindow(state(prisoners(10)), { concurrency: 4, ratePerSecond: 100, failuresKept: 10 }, 0);
    expect(window.next(0, 1)).toEqual({ action: 'start', count: 4 });
    expect(window.start(4)).toEqual(prisoners(4));
    expect(window.next(0, 1)).toEqual({ action: 'wait-for-finish' });
    window.finish(report(prisoners(1)[0] as string));
    expect(window.next(0, 1)).toEqual({ action: 'start', count: 1 });
  });

  test('refills a quarter of the window at a time, not one prisoner per finished resync', () => {
    const window = new BulkWindow(state(prisoners(100)), { concurrency: 40, ratePerSecond: 1000, failuresKept: 10 }, 0);
    window.start(40);
    for (const p of prisoners(9)) window.finish(report(p));
    expect(window.next(0, 10)).toEqual({ action: 'wait-for-finish' });
    window.finish(report(prisoners(10)[9] as string));
    expect(window.next(0, 10)).toEqual({ action: 'start', count: 10 });
  });

  test('holds starts to the rate: a second of tokens at most, then waits for the next one', () => {
    const window = new BulkWindow(state(prisoners(20)), { concurrency: 20, ratePerSecond: 5, failuresKept: 10 }, 0);
    expect(window.next(0, 1)).toEqual({ action: 'start', count: 5 });
    window.start(5);
    expect(window.next(0, 1)).toEqual({ action: 'wait-for-rate', ms: 200 });
    expect(window.next(100, 1)).toEqual({ action: 'wait-for-rate', ms: 100 });
    expect(window.next(200, 1)).toEqual({ action: 'start', count: 1 });
    window.start(1);
    // A long pause gives a second's worth, never more.
    expect(window.next(60_000, 1)).toEqual({ action: 'start', count: 5 });
  });

  test('counts each report of its own run once; an earlier run’s or a stranger’s is ignored', () => {
    const window = new BulkWindow(state(prisoners(3)), { concurrency: 3, ratePerSecond: 10, failuresKept: 10 }, 0);
    const [a, b, c] = window.start(3) as [string, string, string];
    window.finish(report(a));
    window.finish(report(a)); // duplicate
    window.finish({ ...report(b), eventIds: [batchResyncEventId('bulk:batch-1:run-0', b)] }); // earlier run
    window.finish(report('Z9999ZZ')); // not in the window
    expect(window.failedCount).toBe(0);
    expect(window.finish(report(c, false))).toEqual({ prisonNumber: c, reason: 'NomisNotFound: gone' });
    expect(window.progress('b1', false)).toMatchObject({ done: 1, failed: 1, running: 1, pending: 0 });
    expect(window.takeUnrecorded()).toEqual([
      { prisonNumber: a, status: 'DONE' },
      { prisonNumber: c, status: 'FAILED', failure: 'NomisNotFound: gone' },
    ]);
    expect(window.unrecordedCount).toBe(0);
    expect(window.finished).toBe(false);
    window.finish(report(b));
    expect(window.finished).toBe(true);
  });

  test('keeps the first failures with reasons and counts them all', () => {
    const window = new BulkWindow(state(prisoners(5)), { concurrency: 5, ratePerSecond: 10, failuresKept: 2 }, 0);
    for (const p of window.start(5)) window.finish(report(p, false));
    expect(window.failedCount).toBe(5);
    expect(window.state.failures.map((f) => f.prisonNumber)).toEqual(prisoners(2));
    expect(window.takeUnrecorded()).toHaveLength(5);
  });

  test('a prisoner whose workflow closed without reporting fails at the second check in a row, not the first', () => {
    const window = new BulkWindow(state(prisoners(3)), { concurrency: 3, ratePerSecond: 10, failuresKept: 10 }, 0);
    const [a, b] = window.start(3) as [string, string, string];
    expect(window.closedWithoutReport([{ prisonNumber: a, status: 'TERMINATED' }])).toEqual([]);
    // b's report landed between the checks; a is closed at both.
    window.finish(report(b));
    const failed = window.closedWithoutReport([
      { prisonNumber: a, status: 'TERMINATED' },
      { prisonNumber: b, status: 'COMPLETED' },
    ]);
    expect(failed).toEqual([
      {
        prisonNumber: a,
        reason: `PrisonerSyncClosed: prisoner-sync-${a} ended (TERMINATED) without reporting its resync`,
      },
    ]);
    expect(window.runningPrisoners()).toEqual([prisoners(3)[2]]);
  });

  test('continue-as-new carries the window, and the next run takes reports for it', () => {
    const window = new BulkWindow(state(prisoners(6)), { concurrency: 2, ratePerSecond: 10, failuresKept: 10 }, 0);
    const [a, b] = window.start(2) as [string, string];
    window.finish(report(a));
    const carried = window.carryOver();
    expect(carried).toMatchObject({ running: [b], pending: prisoners(6).slice(2), done: 1 });
    const next = new BulkWindow(carried, { concurrency: 2, ratePerSecond: 10, failuresKept: 10 }, 5_000);
    next.finish(report(b));
    expect(next.progress('b1', false)).toMatchObject({ done: 2, running: 0, pending: 4, total: 6 });
  });

  test('state carried over by runs that counted failures by their list still counts them', () => {
    const old = state([], { failed: undefined, failures: [{ prisonNumber: 'A', reason: 'x' }], running: ['B'] });
    const window = new BulkWindow(old, { concurrency: 2, ratePerSecond: 10, failuresKept: 10 }, 0);
    expect(window.failedCount).toBe(1);
    window.finish({ prisonNumber: 'B', ok: false, failure: 'y' });
    expect(window.failedCount).toBe(2);
  });
});
