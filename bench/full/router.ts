import { setTimeout as sleep } from 'node:timers/promises';
import type { Message } from 'kafkajs';
import { consumerLag, incompleteProblems, invariantProblems, phaseStart, runProblems, untilQueueIdle } from './checks';
import type { Bench, PhaseOutcome } from './context';
import { ALERT_CODES, PhaseRefused, progress, received, seedPrisoners } from './context';

// Phase 4: the router's events/s on a burst: from the first send until its group has committed every offset.

export async function routerPhase(bench: Bench): Promise<PhaseOutcome> {
  const { burstEvents, burstPrisoners } = bench.options;
  const prisoners = bench.prisonNumbers(3, burstPrisoners);
  progress(`router: seeding ${prisoners.length} prisoners x ${ALERT_CODES.length} alerts`);
  seedPrisoners(bench, prisoners);
  if ((await consumerLag(bench)) !== 0) throw new Error('the router has not consumed the earlier events yet');
  // Interleaved, each a distinct event (the router drops a repeat of the same content as a redelivery).
  const base = Date.now();
  const messages = Array.from({ length: burstEvents }, (_, i) =>
    received(prisoners[i % prisoners.length]!, 'READMISSION', new Date(base + i)),
  );
  progress(`router: publishing ${burstEvents} READMISSION events for ${prisoners.length} prisoners`);
  const since = await phaseStart(bench);
  const started = Date.now();
  const chunks: Message[][] = [];
  for (let i = 0; i < messages.length; i += 500) chunks.push(messages.slice(i, i + 500));
  await Promise.all(chunks.map((chunk) => bench.producer.send({ topic: bench.topics.domainEvents, messages: chunk })));
  const publishMs = Date.now() - started;
  progress(`router: published in ${publishMs} ms, waiting for the group to commit every offset`);
  const routedMs = (await untilAllCommitted(bench)) - started;
  const value = (burstEvents / routedMs) * 1000;
  const details = { events: burstEvents, prisoners: prisoners.length, publishMs, routedMs };
  progress(`router: all routed in ${(routedMs / 1000).toFixed(2)} s; waiting for every workflow to close`);
  await untilQueueIdle(bench, 'router', 900_000);
  const problems = await runProblems(bench, since);
  problems.push(...incompleteProblems(bench, prisoners));
  problems.push(...(await invariantProblems(bench, prisoners)));
  if (problems.length > 0) throw new PhaseRefused(problems, details);
  return { value, details };
}

/** When the router's group was first seen with nothing left to commit, polled every 50 ms. */
async function untilAllCommitted(bench: Bench): Promise<number> {
  const deadline = Date.now() + 600_000;
  let lastReport = Date.now();
  for (;;) {
    if (Date.now() > deadline) throw new Error('the router did not commit every offset in 600 s');
    const lag = await Promise.race([consumerLag(bench), bench.processDied]);
    if (lag === 0) return Date.now();
    if (Date.now() - lastReport > 10_000) {
      progress(`router: lag ${lag}`);
      lastReport = Date.now();
    }
    await sleep(50);
  }
}
