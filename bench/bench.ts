import { setTimeout as sleep } from 'node:timers/promises';
import { runCommand } from '../common/cli-args';
import { loadConfig } from '../common/config';
import { bulkResyncWorkflowId, prisonerSyncWorkflowId } from '../common/ids';
import { Cleanups } from './cleanups';
import { baselinePhase } from './full/baseline';
import { bulkPhase } from './full/bulk';
import type { Bench, PhaseOutcome, PhaseResult } from './full/context';
import { PhaseRefused, progress } from './full/context';
import type { EncryptionSeen } from './full/encryption';
import { encryptionInHistory } from './full/encryption';
import { latencyPhase } from './full/latency';
import type { Target } from './full/options';
import { parseOptions, TARGETS, USAGE } from './full/options';
import { printReport, writeJson } from './full/report';
import { routerPhase } from './full/router';
import { setUpBench } from './full/set-up';
import type { RssSampler } from './full/worker-rss';
import { MiB, RSS_INTERVAL_MS } from './full/worker-rss';

// One benchmark command for the README's figures, on an already-running stack (Temporal, Kafka, PostgreSQL as
// loadConfig() finds them). The worker and the router run as separate real processes on this run's own task
// queue, topics and consumer group, against simulators in this process (bench/full/set-up.ts); figures:
//   1. the same resync work without Temporal (a promise pool on the same clients), the baseline;
//   2. one bulk resync batch, and its ratio to the baseline;
//   3. event-to-workflow-closed latency at a steady 20 events/s;
//   4. the router's throughput on a burst of events;
//   5. the worker process's peak RSS over the whole run.
// A phase whose run had failed workflows, dead letters or invariant violations prints no figure, says why, and
// makes the command exit 1.
//   npm run bench -- [--batch 10000] [--baseline-prisoners 2000] [--latency-seconds 30] [--burst-events 5000]
//                    [--burst-prisoners 1000] [--concurrency 40] [--rate 1000] [--json FILE]

async function main(argv: string[]): Promise<void> {
  const options = parseOptions(argv);
  const config = loadConfig();
  const cleanups = new Cleanups();
  let cleaning: Promise<void> | undefined;
  const cleanUp = () => {
    if (!cleaning) progress('cleaning up');
    return (cleaning ??= cleanups.run((what, err) => progress(`cleanup of ${what} failed: ${String(err)}`)));
  };
  process.once('SIGINT', () => {
    progress('interrupted');
    void cleanUp().finally(() => process.exit(130));
  });

  const results: PhaseResult[] = [];
  let encryption: EncryptionSeen = { on: false, detail: 'not checked' };
  try {
    const { bench, rss } = await setUpBench(options, config, cleanups);
    const rssByPhase = await runPhases(bench, rss, results);
    encryption = await encryptionInHistory(bench, [
      bulkResyncWorkflowId(`bench-${bench.runId}`),
      prisonerSyncWorkflowId(bench.prisonNumbers(1, 1)[0]!),
      prisonerSyncWorkflowId(bench.prisonNumbers(2, 1)[0]!),
    ]);
    progress(`payload encryption: ${encryption.detail}`);
    results.push(await rssResult(bench, rss, rssByPhase, results));
  } catch (err) {
    progress(`the benchmark could not run: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    results.push({ phase: 'set-up', unit: '', refused: `the benchmark could not run: ${String(err)}`, details: {} });
  } finally {
    await cleanUp();
  }

  if (!encryption.on) {
    // Figures from a run without production's encryption are not production's figures.
    for (const r of results) {
      if (r.refused || r.phase === 'no-orchestrator baseline') continue;
      r.refused = `payload encryption ${encryption.detail}`;
      delete r.figure;
    }
  }
  printReport(results, config, options, encryption.detail);
  if (options.json) await writeJson(options.json, results, config, options, encryption);
  if (results.some((r) => r.refused)) process.exitCode = 1;
}

/** The four phases in order, each result added to `results` as it ends; the worker's peak RSS in each. */
async function runPhases(bench: Bench, rss: RssSampler, results: PhaseResult[]): Promise<Record<string, number>> {
  const rssByPhase: Record<string, number> = {};
  const phase = async (
    name: string,
    unit: string,
    target: Target | undefined,
    run: () => Promise<PhaseOutcome>,
    figure: (outcome: PhaseOutcome) => string,
  ): Promise<PhaseResult> => {
    progress(`--- ${name}: starting`);
    const result = await phaseResult(name, unit, target, run, figure);
    rssByPhase[name] = Math.round(rss.takePhasePeak() / MiB);
    progress(`--- ${name}: ${result.refused ? `REFUSED: ${result.refused}` : result.figure}`);
    results.push(result);
    return result;
  };
  const resyncs = (v: number) => `${v.toFixed(1)} resyncs/s`;

  const baseline = await phase(
    'no-orchestrator baseline',
    'resyncs/s',
    undefined,
    () => baselinePhase(bench),
    (o) => resyncs(o.value),
  );
  const againstBaseline = (o: PhaseOutcome): PhaseOutcome => {
    if (baseline.value === undefined) return o;
    return { ...o, details: { ...o.details, ratioToBaseline: Number((o.value / baseline.value).toFixed(3)) } };
  };
  await phase(
    'bulk resync',
    'resyncs/s',
    TARGETS.bulk,
    async () => againstBaseline(await bulkPhase(bench)),
    ({ value }) =>
      baseline.value === undefined
        ? `${resyncs(value)} (no baseline to compare with)`
        : `${resyncs(value)} (${(value / baseline.value).toFixed(2)} x baseline)`,
  );
  await phase(
    'event-driven latency',
    'ms',
    TARGETS.latency,
    () => latencyPhase(bench),
    ({ details: d }) =>
      `p50/p95/p99/max ${d.p50Ms}/${d.p95Ms}/${d.p99Ms}/${d.maxMs} ms (${d.events} events at ${d.achievedRate} ev/s)`,
  );
  await phase(
    'router burst',
    'events/s',
    TARGETS.router,
    () => routerPhase(bench),
    ({ value, details: d }) => `${value.toFixed(0)} events/s routed (${d.events} events, ${d.prisoners} prisoners)`,
  );
  return rssByPhase;
}

/** A phase's outcome and its printed figure, or why its figure is refused. */
async function phaseResult(
  phase: string,
  unit: string,
  target: Target | undefined,
  run: () => Promise<PhaseOutcome>,
  figure: (outcome: PhaseOutcome) => string,
): Promise<PhaseResult> {
  try {
    const outcome = await run();
    const { value, details } = outcome;
    return { phase, unit, target: target?.text, met: target?.met(value), value, figure: figure(outcome), details };
  } catch (err) {
    const refused = err instanceof PhaseRefused ? err.message : `the run failed: ${String(err)}`;
    return { phase, unit, target: target?.text, refused, details: err instanceof PhaseRefused ? err.details : {} };
  }
}

/** The worker's peak over the whole run, refused if a process died or a phase it covers was refused. */
async function rssResult(
  bench: Bench,
  rss: RssSampler,
  rssByPhase: Record<string, number>,
  results: PhaseResult[],
): Promise<PhaseResult> {
  const died = await Promise.race([bench.processDied.catch((err: unknown) => String(err)), sleep(0)]);
  const others = results.filter((r) => r.refused).map((r) => r.phase);
  const problems = [
    ...(typeof died === 'string' ? [died] : []),
    ...(rss.samples === 0 ? ['no RSS sample could be read'] : []),
    ...(others.length > 0 ? [`the run it covers had refused phases: ${others.join(', ')}`] : []),
  ];
  const peakMiB = rss.peakBytes / MiB;
  const target = TARGETS.rss;
  const details = { pid: rss.pid, samples: rss.samples, peakMiBByPhase: rssByPhase };
  if (problems.length > 0)
    return { phase: 'worker peak RSS', unit: 'MiB', target: target.text, refused: problems.join('; '), details };
  const figure = `${peakMiB.toFixed(0)} MiB (${rss.samples} samples every ${RSS_INTERVAL_MS} ms)`;
  return {
    phase: 'worker peak RSS',
    unit: 'MiB',
    target: target.text,
    met: target.met(peakMiB),
    value: peakMiB,
    figure,
    details,
  };
}

runCommand(
  'bench',
  USAGE,
  async () => {
    await main(process.argv.slice(2));
    // Lingering sockets (kafkajs, gRPC) must not keep a finished benchmark alive.
    process.exit();
  },
  { stack: true },
);
