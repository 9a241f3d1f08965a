import { setTimeout as sleep } from 'node:timers/promises';
import { renderProgress, startOrAttachBatch, watchBatch } from '../../clients/bulk-batch';
import {
  incompleteProblems,
  INVARIANT_SAMPLE,
  invariantProblems,
  phaseStart,
  runProblems,
  untilQueueIdle,
} from './checks';
import type { Bench, PhaseOutcome } from './context';
import { ALERT_CODES, PhaseRefused, progress, seedPrisoners } from './context';

// Phase 2: one bulk resync batch, started and watched as clients/bulk-resync.ts does.

export async function bulkPhase(bench: Bench): Promise<PhaseOutcome> {
  const { batch, concurrency, rate } = bench.options;
  const prisoners = bench.prisonNumbers(1, batch);
  progress(`bulk: seeding ${prisoners.length} prisoners x ${ALERT_CODES.length} alerts`);
  seedPrisoners(bench, prisoners);
  progress(`bulk: one batch of ${prisoners.length}, ${concurrency} at once, at most ${rate}/s`);
  const since = await phaseStart(bench);
  const started = Date.now();
  const { handle, attached } = await startOrAttachBatch(bench.client, bench.taskQueue, {
    batchId: `bench-${bench.runId}`,
    prisonNumbers: prisoners,
    concurrency,
    ratePerSecond: rate,
  });
  if (attached) throw new Error(`batch bench-${bench.runId} was already running`);
  let lastReport = 0;
  // Generous (a resync every half second), only so that a batch stuck retrying ends the run instead of hanging it.
  const timeoutMs = 300_000 + prisoners.length * 500;
  const timedOut = sleep(timeoutMs, undefined, { ref: false }).then(() => {
    throw new Error(`the batch had not finished after ${timeoutMs / 1000} s`);
  });
  const report = await Promise.race([
    timedOut,
    watchBatch(handle, (p) => {
      if (Date.now() - lastReport < 10_000) return;
      lastReport = Date.now();
      progress(`bulk: ${renderProgress(p, Date.now())}`);
    }),
    bench.processDied,
  ]);
  const wallMs = Date.now() - started;
  const value = (prisoners.length / wallMs) * 1000;
  const details = {
    prisoners: prisoners.length,
    alertsPerPrisoner: ALERT_CODES.length,
    concurrency,
    ratePerSecond: rate,
    wallMs,
    done: report.done,
    failed: report.failed,
    skipped: report.skipped,
  };
  progress(`bulk: done in ${(wallMs / 1000).toFixed(1)} s (${report.done} done, ${report.failed} failed)`);
  const problems: string[] = [];
  if (report.failed > 0) {
    problems.push(`${report.failed} resync(s) failed, first: ${JSON.stringify(report.failures[0] ?? null)}`);
  }
  if (report.done !== prisoners.length) problems.push(`${report.done} of ${prisoners.length} resynced`);
  problems.push(...incompleteProblems(bench, prisoners));
  problems.push(...(await invariantProblems(bench, prisoners)));
  await untilQueueIdle(bench, 'bulk', 120_000);
  problems.push(...(await runProblems(bench, since)));
  if (problems.length > 0) throw new PhaseRefused(problems, details);
  return { value, details: { ...details, invariantSample: Math.min(INVARIANT_SAMPLE, prisoners.length) } };
}
