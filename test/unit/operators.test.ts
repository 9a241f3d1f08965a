import { defaultBatchId, formatReport, renderProgress } from '../../clients/bulk-batch';
import { formatReconciliationReport } from '../../clients/reconciliation';
import { mapConcurrently } from '../../common/concurrency';
import { loadConfig } from '../../common/config';
import { msUntilToken, nextWindowStep, refill } from '../../common/rate-limit';

// The pure parts of the operators' tools: the batch's rate limiter, the client's progress line and reports,
// batch naming and the new settings.

describe('token bucket', () => {
  test('refills at the rate, capped at one second of tokens', () => {
    const empty = { tokens: 0, at: 1_000 };
    expect(refill(empty, 1_500, 10).tokens).toBeCloseTo(5);
    expect(refill(empty, 60_000, 10).tokens).toBe(10);
    expect(refill(empty, 60_000, 0.5).tokens).toBe(1);
    expect(refill({ tokens: 3, at: 2_000 }, 1_000, 10).tokens).toBe(3); // a clock going back adds nothing
  });

  test('says how long until the next whole token', () => {
    expect(msUntilToken({ tokens: 1.2, at: 0 }, 10)).toBe(0);
    expect(msUntilToken({ tokens: 0.5, at: 0 }, 10)).toBe(50);
    expect(msUntilToken({ tokens: 0, at: 0 }, 0.5)).toBe(2_000);
  });
});

describe('the batch window', () => {
  const full = { tokens: 100, at: 0 };
  const window = { concurrency: 40, ratePerSecond: 100, bucket: full, refillAt: 10 };

  test('refills only once a chunk is free, then fills all that is free', () => {
    expect(nextWindowStep({ ...window, running: 35, pending: 500 })).toEqual({ action: 'wait-for-finish' });
    expect(nextWindowStep({ ...window, running: 30, pending: 500 })).toEqual({ action: 'start', count: 10 });
    expect(nextWindowStep({ ...window, running: 0, pending: 500 })).toEqual({ action: 'start', count: 40 });
  });

  test('the last few start without waiting for a whole chunk', () => {
    expect(nextWindowStep({ ...window, running: 37, pending: 3 })).toEqual({ action: 'start', count: 3 });
    expect(nextWindowStep({ ...window, running: 5, pending: 0 })).toEqual({ action: 'wait-for-finish' });
  });

  test('waits for the rate to allow a whole chunk, never for more than the bucket holds', () => {
    expect(nextWindowStep({ ...window, running: 0, pending: 500, bucket: { tokens: 4, at: 0 } })).toEqual({
      action: 'wait-for-rate',
      ms: 60,
    });
    // At 2/s the bucket never holds 10: chunks of 2.
    const slow = { ...window, ratePerSecond: 2, running: 0, pending: 500 };
    expect(nextWindowStep({ ...slow, bucket: { tokens: 2, at: 0 } })).toEqual({ action: 'start', count: 2 });
    expect(nextWindowStep({ ...slow, bucket: { tokens: 1.5, at: 0 } })).toEqual({ action: 'wait-for-rate', ms: 250 });
  });

  test('one at a time when chunks are off, as batches started before them', () => {
    expect(nextWindowStep({ ...window, refillAt: 1, running: 39, pending: 500 })).toEqual({
      action: 'start',
      count: 1,
    });
    expect(nextWindowStep({ ...window, refillAt: 1, running: 0, pending: 9, bucket: { tokens: 0.5, at: 0 } })).toEqual({
      action: 'wait-for-rate',
      ms: 5,
    });
  });
});

test('mapConcurrently keeps the input order and never runs more than the limit at once', async () => {
  let inFlight = 0;
  let most = 0;
  const results = await mapConcurrently([30, 5, 20, 1, 10, 15], 3, async (ms) => {
    most = Math.max(most, ++inFlight);
    await new Promise((resolve) => setTimeout(resolve, ms));
    inFlight--;
    return ms * 2;
  });
  expect(results).toEqual([60, 10, 40, 2, 20, 30]);
  expect(most).toBe(3);
  expect(await mapConcurrently([], 3, async () => 1)).toEqual([]);
});

describe('bulk resync client', () => {
  test('the same prisoners (in any order, with repeats) or the same prison make the same batch', () => {
    const a = defaultBatchId({ prisonNumbers: ['A1234BC', 'B2345CD'] });
    expect(a).toMatch(/^list-2-[0-9a-f]{10}$/);
    expect(defaultBatchId({ prisonNumbers: ['B2345CD', 'A1234BC', 'A1234BC'] })).toBe(a);
    expect(defaultBatchId({ prisonNumbers: ['A1234BC'] })).not.toBe(a);
    expect(defaultBatchId({ prisonId: 'MDI' })).toBe('prison-MDI');
  });

  test('the progress line shows the bar, counts, rate and time left', () => {
    const progress = {
      batchId: 'b',
      total: 110,
      skipped: 10,
      done: 40,
      failed: 10,
      running: 5,
      pending: 45,
      startedAt: 0,
      finished: false,
      failures: [],
    };
    expect(renderProgress({ ...progress, startedAt: 1 }, 10_001)).toBe(
      '[###############...............] 50/100 done 40 failed 10 running 5 5.0/s eta 10s (skipped 10 done before)',
    );
    expect(renderProgress(progress, 5_000)).toMatch(/^preparing the batch/);
  });

  test('the report lists each failed prisoner with the reason', () => {
    const text = formatReport({
      batchId: 'b1',
      total: 3,
      skipped: 1,
      done: 1,
      failed: 1,
      failures: [{ prisonNumber: 'A1234BC', reason: 'DpsBadRequest: DPS POST /resync/A1234BC/alerts returned 400' }],
      startedAt: 0,
      finishedAt: 75_000,
    });
    expect(text).toBe(
      'batch b1 finished in 1m15s: 3 prisoners, 1 resynced, 1 failed, 1 skipped (done by an earlier run)\n' +
        'failed:\n  A1234BC  DpsBadRequest: DPS POST /resync/A1234BC/alerts returned 400',
    );
  });
});

test('the reconciliation report names each prisoner out of step and what differs', () => {
  const text = formatReconciliationReport('reconciliation-x', {
    checked: 10,
    mismatched: 1,
    drifted: [{ prisonNumber: 'A1234BC', problems: ['A1234BC: DPS has 1 alerts, NOMIS 2'] }],
    driftedPrisonNumbers: ['A1234BC'],
    settledOnRecheck: 2,
  });
  expect(text).toBe(
    'reconciliation-x: checked 10 prisoners, 1 out of step (2 more differed at first but had settled on recheck)\n' +
      '  A1234BC\n    A1234BC: DPS has 1 alerts, NOMIS 2',
  );
});

test('a large reconciliation report details the first prisoners and names the rest', () => {
  const text = formatReconciliationReport('reconciliation-y', {
    checked: 50,
    mismatched: 3,
    drifted: [{ prisonNumber: 'A1234BC', problems: ['A1234BC: DPS has 1 alerts, NOMIS 2'] }],
    driftedPrisonNumbers: ['A1234BC', 'B1234BC', 'C1234BC'],
    settledOnRecheck: 0,
  });
  expect(text.split('\n').at(-1)).toBe('  and 2 more: B1234BC C1234BC');
});

test('a bulk report with more failures than it keeps says how many more and where they are', () => {
  const text = formatReport({
    batchId: 'b2',
    total: 500,
    skipped: 0,
    done: 0,
    failed: 500,
    failures: [{ prisonNumber: 'A1234BC', reason: 'DpsBadRequest: x' }],
    startedAt: 0,
    finishedAt: 1000,
  });
  expect(text.split('\n').at(-1)).toBe(
    "  … and 499 more (every failure is in the table bulk_resync_items, batch_id 'b2')",
  );
});

describe('settings', () => {
  test('defaults', () => {
    const config = loadConfig({});
    expect(config.temporal.taskQueue).toBe('alerts-sync');
    expect(config.bulkResync).toEqual({ concurrency: 20, ratePerSecond: 10 });
    expect(config.reconciliation).toEqual({ interval: '1h', recheckDelay: '30s', autoResync: false, pageSize: 100 });
  });

  test('from the environment, and bad values named', () => {
    const config = loadConfig({
      RECONCILIATION_INTERVAL: '15m',
      RECONCILIATION_AUTO_RESYNC: 'on',
      BULK_RESYNC_RATE: '2.5',
      TEMPORAL_TASK_QUEUE: 'q',
    });
    expect(config.reconciliation).toMatchObject({ interval: '15m', autoResync: true });
    expect(config.bulkResync.ratePerSecond).toBe(2.5);
    expect(config.temporal.taskQueue).toBe('q');
    expect(() => loadConfig({ RECONCILIATION_INTERVAL: 'hourly' })).toThrow(
      'RECONCILIATION_INTERVAL must be a duration like 90s, 15m, 1h or 1d, got "hourly"',
    );
    expect(() => loadConfig({ BULK_RESYNC_CONCURRENCY: '2.5' })).toThrow(
      'BULK_RESYNC_CONCURRENCY must be a whole number',
    );
    expect(() => loadConfig({ BULK_RESYNC_RATE: '0' })).toThrow('BULK_RESYNC_RATE must be a number above 0, got "0"');
  });
});
