import { setTimeout as sleep } from 'node:timers/promises';
import { readInvariantViolations } from '../../adapters/sync-check';
import { mapConcurrently } from '../../common/concurrency';
import type { Bench } from './context';
import { ALERT_CODES, progress } from './context';

// What a phase must show before its figure counts: the invariant, every alert in DPS, no failed run, no dead
// letter. Each problem is a line of the refusal.

export const INVARIANT_SAMPLE = 50;

/** Contract §6 for a sample spread over the whole phase, not only its first prisoners; each problem a line. */
export async function invariantProblems(bench: Bench, prisonNumbers: string[]): Promise<string[]> {
  const step = Math.max(1, Math.floor(prisonNumbers.length / INVARIANT_SAMPLE));
  const sample = prisonNumbers.filter((_, i) => i % step === 0).slice(0, INVARIANT_SAMPLE);
  try {
    const found = (
      await mapConcurrently(
        sample,
        10,
        async (p) => (await readInvariantViolations({ ...bench.apis, db: bench.db }, p)).violations,
      )
    ).flat();
    return found.length > 0
      ? [`${found.length} invariant violation(s) in a sample of ${sample.length}: ${found[0]}`]
      : [];
  } catch (err) {
    // Reported beside the phase's other problems rather than instead of them.
    return [`the invariant check could not run: ${String(err)}`];
  }
}

/** Every phase prisoner's DPS alerts, counted in the simulator's memory: a whole-phase check, cheap. */
export function incompleteProblems(bench: Bench, prisonNumbers: string[]): string[] {
  const dps = bench.simulators.dps.dump();
  const incomplete = prisonNumbers.filter((p) => (dps[p]?.length ?? 0) !== ALERT_CODES.length);
  return incomplete.length > 0 ? [`${incomplete.length} prisoner(s) without all their alerts in DPS`] : [];
}

async function dlqMessages(bench: Bench): Promise<number> {
  const offsets = await bench.admin.fetchTopicOffsets(bench.topics.dlq);
  return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
}

/** Messages on the two input topics the router's group has not committed yet. */
export async function consumerLag(bench: Bench): Promise<number> {
  const inputs = [bench.topics.offenderEvents, bench.topics.domainEvents];
  const committed = await bench.admin.fetchOffsets({ groupId: bench.consumerGroup, topics: inputs });
  let lag = 0;
  for (const topic of inputs) {
    const ends = await bench.admin.fetchTopicOffsets(topic);
    const done = committed.find((c) => c.topic === topic)?.partitions ?? [];
    for (const end of ends) {
      const offset = Number(done.find((p) => p.partition === end.partition)?.offset ?? '-1');
      lag += Number(end.high) - Math.max(0, offset);
    }
  }
  return lag;
}

function countWorkflows(bench: Bench, statuses: string[], closedSince?: Date): Promise<number> {
  const list = statuses.map((s) => `"${s}"`).join(', ');
  const since = closedSince ? ` AND CloseTime >= "${closedSince.toISOString()}"` : '';
  return bench.client.workflow
    .count(`TaskQueue = "${bench.taskQueue}" AND ExecutionStatus IN (${list})${since}`)
    .then((r) => r.count);
}

const ENDED_BADLY = ['Failed', 'Terminated', 'TimedOut', 'Canceled'];

/** Where a phase began, so that its checks count only what happened in it, not an earlier phase's failures. */
export interface PhaseStart {
  at: Date;
  dlq: number;
}

export async function phaseStart(bench: Bench): Promise<PhaseStart> {
  return { at: new Date(), dlq: await dlqMessages(bench) };
}

/** Problems common to every Temporal phase: runs on the queue that ended badly, and dead letters. */
export async function runProblems(bench: Bench, since: PhaseStart): Promise<string[]> {
  const problems: string[] = [];
  const bad = await countWorkflows(bench, ENDED_BADLY, since.at);
  if (bad > 0) problems.push(`${bad} workflow(s) on ${bench.taskQueue} failed, were terminated or timed out`);
  const dead = (await dlqMessages(bench)) - since.dlq;
  if (dead > 0) problems.push(`${dead} event(s) dead-lettered to ${bench.topics.dlq}`);
  return problems;
}

/** Until no workflow on the queue runs, seen twice a couple of seconds apart (visibility lags a little). */
export async function untilQueueIdle(bench: Bench, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let quiet = 0;
  let lastReport = 0;
  while (quiet < 2) {
    if (Date.now() > deadline) throw new Error(`${what}: workflows still running after ${timeoutMs / 1000} s`);
    const running = await countWorkflows(bench, ['Running']);
    quiet = running === 0 ? quiet + 1 : 0;
    if (Date.now() - lastReport > 10_000) {
      progress(`${what}: ${running} workflow(s) still running`);
      lastReport = Date.now();
    }
    await Promise.race([sleep(running === 0 ? 2_000 : 500), bench.processDied]);
  }
}
