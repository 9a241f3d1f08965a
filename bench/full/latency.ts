import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowNotFoundError } from '@temporalio/client';
import { mapConcurrently } from '../../common/concurrency';
import { prisonerSyncWorkflowId } from '../../common/ids';
import type { PrisonerSyncResult } from '../../workflows/prisoner-sync';
import { invariantProblems, phaseStart, runProblems } from './checks';
import type { Bench, PhaseOutcome } from './context';
import { ALERT_CODES, PhaseRefused, progress, received, seedPrisoners } from './context';
import { LATENCY_EVENTS_PER_SECOND } from './options';

// Phase 3: from an event's publication to its prisoner's workflow closing, at a steady 20 events/s, each event
// through Kafka, the router and the worker as in production.

export async function latencyPhase(bench: Bench): Promise<PhaseOutcome> {
  const count = Math.round(bench.options.latencySeconds * LATENCY_EVENTS_PER_SECOND);
  const prisoners = bench.prisonNumbers(2, count);
  progress(`latency: seeding ${prisoners.length} prisoners x ${ALERT_CODES.length} alerts`);
  seedPrisoners(bench, prisoners);
  progress(`latency: publishing ${count} NEW_ADMISSION events at ${LATENCY_EVENTS_PER_SECOND}/s`);
  const since = await phaseStart(bench);
  const { publishedAt, achievedRate } = await publishSteadily(bench, prisoners);
  progress(`latency: published (${achievedRate.toFixed(1)} ev/s achieved), waiting for every workflow to close`);

  const problems: string[] = [];
  const latencies: number[] = [];
  const deadline = Date.now() + 180_000;
  const ticker = setInterval(
    () => progress(`latency: ${latencies.length + problems.length} of ${count} workflows closed`),
    10_000,
  );
  await Promise.race([
    mapConcurrently([...prisoners.entries()], 20, async ([i, prisonNumber]) => {
      const outcome = await closedSyncOf(bench, prisonNumber, publishedAt[i]!, deadline);
      if (typeof outcome === 'string') problems.push(outcome);
      else latencies.push(outcome.closeTime - publishedAt[i]!);
    }),
    bench.processDied,
  ]).finally(() => clearInterval(ticker));
  latencies.sort((a, b) => a - b);
  const details = {
    events: count,
    targetRate: LATENCY_EVENTS_PER_SECOND,
    achievedRate: Number(achievedRate.toFixed(2)),
    p50Ms: percentile(latencies, 50),
    p95Ms: percentile(latencies, 95),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies.at(-1),
  };
  progress(`latency: ${latencies.length} of ${count} closed; p99 ${details.p99Ms} ms`);
  if (problems.length > 0) problems.splice(1, problems.length - 1, `(${problems.length} in all)`);
  problems.push(...(await invariantProblems(bench, prisoners)));
  problems.push(...(await runProblems(bench, since)));
  if (problems.length > 0) throw new PhaseRefused(problems, details);
  return { value: details.p99Ms, details };
}

/** One NEW_ADMISSION per prisoner at the phase's rate; each event's time taken just before its send. */
async function publishSteadily(
  bench: Bench,
  prisoners: string[],
): Promise<{ publishedAt: number[]; achievedRate: number }> {
  const publishedAt: number[] = [];
  const sends: Promise<unknown>[] = [];
  const intervalMs = 1000 / LATENCY_EVENTS_PER_SECOND;
  const first = Date.now() + 100;
  for (const [i, prisonNumber] of prisoners.entries()) {
    const wait = first + i * intervalMs - Date.now();
    if (wait > 0) await sleep(wait);
    // Taken before the send: the figure includes the produce to Kafka, as a real publisher's would.
    publishedAt[i] = Date.now();
    sends.push(
      bench.producer.send({
        topic: bench.topics.domainEvents,
        messages: [received(prisonNumber, 'NEW_ADMISSION', new Date())],
      }),
    );
  }
  await Promise.all(sends);
  const publishSeconds = (publishedAt.at(-1)! - publishedAt[0]!) / 1000;
  return { publishedAt, achievedRate: publishSeconds > 0 ? (prisoners.length - 1) / publishSeconds : prisoners.length };
}

/**
 * The prisoner's sync workflow once it has closed after `since`: its close time, or why it does not count (not
 * completed, or completed without a successful resync pass).
 */
async function closedSyncOf(
  bench: Bench,
  prisonNumber: string,
  since: number,
  deadline: number,
): Promise<{ closeTime: number } | string> {
  const handle = bench.client.workflow.getHandle(prisonerSyncWorkflowId(prisonNumber));
  for (;;) {
    if (Date.now() > deadline) return `${prisonNumber}: no closed prisoner-sync run after 180 s`;
    const described = await handle.describe().catch((err: unknown) => {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    });
    // A run from before the event (an earlier benchmark's prisoner of the same number) is not the one measured.
    const ours = described && described.startTime.getTime() >= since - 1_000;
    if (!described || !ours || described.status.name === 'RUNNING' || described.status.name === 'CONTINUED_AS_NEW') {
      await sleep(250);
      continue;
    }
    if (described.status.name !== 'COMPLETED') return `${prisonNumber}: prisoner-sync ${described.status.name}`;
    const result = (await handle.result()) as PrisonerSyncResult;
    if (result.failedResyncs.length > 0 || result.passes.length === 0) {
      return `${prisonNumber}: ${result.passes.length} resync pass(es), ${result.failedResyncs.length} failed`;
    }
    return { closeTime: described.closeTime!.getTime() };
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}
