import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger, Runtime } from '@temporalio/worker';
import { connectTemporal } from '../adapters/temporal';
import type { Config } from '../common/config';
import { parseCommandLine, positiveNumber, runCommand, UsageError } from '../common/cli-args';
import { loadConfig } from '../common/config';
import type { TemporalBeside, TemporalBesideOptions } from '../infra/temporal-beside';
import { startTemporalBeside, temporalBesideEnv } from '../infra/temporal-beside';
import { processManager } from '../infra/stack';
import { WORKFLOW_INTERCEPTOR_MODULES, WORKFLOWS_PATH } from '../workers/worker';
import type { Measurement } from './resync-measure';
import { measureResyncs, randomPrisonNumberSuffix } from './resync-measure';
import type { CodecCost } from './timing-codec';
import { codecPerResync, combineCodecCosts } from './timing-codec';

// Bulk resync throughput on the dev server (SQLite) against the full server (PostgreSQL, its default 4 history
// shards), in one run on one machine: both started beside the running stack (its PostgreSQL holds the full
// server's databases), then the same measurement on each in turn — dev, server, dev, server — so drift in the
// machine's load falls on both alike. Each round has fresh prisoners and its own task queue. Also prints what the
// payload codec costs per resync.
//   node --import tsx bench/temporal-kinds.ts [rounds=2] [prisoners=200] [alertsPerPrisoner=4] [concurrency=40]
//     [ratePerSecond=1000]
// A short warm-up batch on each server comes first and is not counted (BENCH_WARMUP prisoners, default 20; 0
// skips it): otherwise the first round alone pays for this process's JIT and the servers' cold caches.
// Needs the stack (`bin/start` or `npm run stack:up`) and the full server's binaries (STACK_TEMPORAL=server
// infra/provision.sh).

type Kind = TemporalBesideOptions['kind'];

const SERVERS: Record<Kind, TemporalBesideOptions & { label: string }> = {
  dev: { name: 'bench-dev', kind: 'dev', portOffset: 300, label: 'dev server' },
  server: { name: 'bench-server', kind: 'server', portOffset: 400, label: 'full server' },
};

const USAGE = `usage: npm run bench:temporal-kinds -- [rounds=2] [prisoners=200] [alertsPerPrisoner=4] [concurrency=40]
    [ratePerSecond=1000]
  BENCH_WARMUP=N warm-up prisoners on each server first, not counted (default 20; 0 skips it)`;

function parseOptions(argv: string[]) {
  const { positionals } = parseCommandLine(argv, {}, true);
  if (positionals.length > 5) throw new UsageError(`unexpected arguments: ${positionals.slice(5).join(' ')}`);
  const [rounds = '2', prisoners = '200', alertsPerPrisoner = '4', concurrency = '40', ratePerSecond = '1000'] =
    positionals;
  return {
    rounds: positiveNumber('rounds', rounds, { integer: true }),
    prisoners: positiveNumber('prisoners', prisoners, { integer: true }),
    alertsPerPrisoner: positiveNumber('alertsPerPrisoner', alertsPerPrisoner, { integer: true }),
    concurrency: positiveNumber('concurrency', concurrency, { integer: true }),
    ratePerSecond: positiveNumber('ratePerSecond', ratePerSecond),
  };
}

type Options = ReturnType<typeof parseOptions>;

async function main(argv: string[]): Promise<void> {
  const options = parseOptions(argv);
  const warmup = Number(process.env.BENCH_WARMUP ?? 20);
  const stack = loadConfig();
  Runtime.install({ logger: new DefaultLogger('WARN') });

  const started = new Map<Kind, TemporalBeside>();
  let stopping: Promise<void> | undefined;
  const stopServers = () => (stopping ??= stopBesideServers(stack, started));
  const bundleDir = await mkdtemp(path.join(os.tmpdir(), 'bench-temporal-kinds-'));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`${signal}: stopping the servers started beside the stack`);
      void stopServers()
        .then(() => rm(bundleDir, { recursive: true, force: true }))
        .finally(() => process.exit(130));
    });
  }
  try {
    const workflowBundlePath = await writeBundle(bundleDir);
    for (const kind of ['dev', 'server'] as const) {
      const t0 = Date.now();
      const beside = await startTemporalBeside(stack, SERVERS[kind]);
      started.set(kind, beside);
      console.log(`${SERVERS[kind].label} ready in ${Date.now() - t0} ms: ${await describeServer(beside.config)}`);
    }
    const { rounds, prisoners, alertsPerPrisoner, concurrency, ratePerSecond } = options;
    console.log(
      `bulk resync, ${rounds} round(s) on each: ${prisoners} prisoners x ${alertsPerPrisoner} alerts, one batch ` +
        `(${concurrency} at once, ${ratePerSecond}/s at most), 1 worker in this process, payloads encrypted`,
    );
    const suffixes = new Set<string>();
    const measure = (kind: Kind, size: number): Promise<Measurement> => {
      let suffix = randomPrisonNumberSuffix();
      while (suffixes.has(suffix)) suffix = randomPrisonNumberSuffix();
      suffixes.add(suffix);
      return measureResyncs({
        config: stack,
        temporalConfig: started.get(kind)!.config,
        prisoners: size,
        alertsPerPrisoner,
        mode: 'bulk',
        concurrency,
        ratePerSecond,
        codec: true,
        prisonNumberSuffix: suffix,
        workflowBundlePath,
      });
    };
    const results = await runRounds(options, warmup, measure);
    printSummary(results);
    const all = [...results.dev, ...results.server];
    if (all.some((m) => m.failed || m.violations)) {
      console.log('FAILED resyncs or invariant violations: the figures above are not a valid result');
      process.exitCode = 1;
    }
  } finally {
    await stopServers();
    await rm(bundleDir, { recursive: true, force: true });
  }
}

/**
 * Once for all rounds: bundling costs seconds of CPU that would otherwise precede every round. As
 * workers/build-bundle.ts does, with a quieter logger.
 */
async function writeBundle(bundleDir: string): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
    logger: new DefaultLogger('WARN'),
  });
  const workflowBundlePath = path.join(bundleDir, 'workflow-bundle.js');
  await writeFile(workflowBundlePath, code);
  return workflowBundlePath;
}

/** The uncounted warm-up on each server, then the rounds alternating dev, server, dev, server. */
async function runRounds(
  options: Options,
  warmup: number,
  measure: (kind: Kind, size: number) => Promise<Measurement>,
): Promise<Record<Kind, Measurement[]>> {
  if (warmup > 0) {
    for (const kind of ['dev', 'server'] as const) {
      const m = await measure(kind, warmup);
      console.log(
        `  warm-up ${SERVERS[kind].label.padEnd(11)} ${warmup} prisoners, ${(m.wallMs / 1000).toFixed(2)} s, ` +
          `failed ${m.failed} (not counted)`,
      );
    }
  }
  const results: Record<Kind, Measurement[]> = { dev: [], server: [] };
  for (let round = 1; round <= options.rounds; round++) {
    for (const kind of ['dev', 'server'] as const) {
      const m = await measure(kind, options.prisoners);
      results[kind].push(m);
      const codec = m.codec ? codecPerResync(m.codec, m.prisoners) : undefined;
      console.log(
        `  round ${round} ${SERVERS[kind].label.padEnd(11)} ${(m.wallMs / 1000).toFixed(2).padStart(7)} s  ` +
          `${m.resyncsPerSecond.toFixed(2).padStart(6)} resyncs/s  failed ${m.failed}  ` +
          `violations ${m.violations}/${m.violationSample} sampled  ` +
          `peak RSS ${(m.peakRssBytes / 1024 / 1024).toFixed(0)} MiB` +
          (codec
            ? `  codec ${codec.cpuMs.toFixed(2)} ms CPU (${codec.inRunMs.toFixed(2)} in run), ` +
              `${codec.encodedKiB.toFixed(1)} KiB per resync`
            : ''),
      );
    }
  }
  return results;
}

/** The ratio of the two servers, and what the codec cost per resync over every round. */
function printSummary(results: Record<Kind, Measurement[]>): void {
  // Resyncs over time across the rounds of a kind, not a mean of rates, so every resync weighs the same.
  const rate = (ms: Measurement[]) =>
    (ms.reduce((n, m) => n + m.prisoners, 0) / ms.reduce((t, m) => t + m.wallMs, 0)) * 1000;
  const dev = rate(results.dev);
  const server = rate(results.server);
  console.log(
    `full server / dev server: ${(server / dev).toFixed(2)} ` + `(resyncs/s ${server.toFixed(1)} vs ${dev.toFixed(1)})`,
  );
  const all = [...results.dev, ...results.server];
  const codec = all.reduce<CodecCost | undefined>(
    (sum, m) => (m.codec ? (sum ? combineCodecCosts(sum, m.codec) : m.codec) : sum),
    undefined,
  );
  if (!codec) return;
  const resyncs = all.reduce((n, m) => n + m.prisoners, 0);
  const { cpuMs, inRunMs, encodedKiB } = codecPerResync(codec, resyncs);
  console.log(
    `codec: ${cpuMs.toFixed(2)} ms CPU and ${encodedKiB.toFixed(1)} KiB per resync ` +
      `(${(codec.payloadsEncoded / resyncs).toFixed(1)} payloads encoded, ` +
      `${(codec.payloadsDecoded / resyncs).toFixed(1)} decoded (${(codec.bytesDecoded / 1024 / resyncs).toFixed(1)} KiB); ` +
      `CPU from replaying them through the codec after each round; ${inRunMs.toFixed(2)} ms inside the codec ` +
      `during the rounds, GC and preemption included)`,
  );
}

/** What the server says it is, so a result never stands for a server other than the one that produced it. */
async function describeServer(config: Config): Promise<string> {
  const connection = await connectTemporal(config);
  try {
    const info = await connection.workflowService.getClusterInfo({});
    return (
      `${config.temporal.address}, server ${info.serverVersion}, persistence ${info.persistenceStore}, ` +
      `${info.historyShardCount} history shard(s)`
    );
  } finally {
    await connection.close();
  }
}

/**
 * Both servers, also one whose start failed half-way (running but never healthy, so no `stop` was returned):
 * those are stopped by name in their own state folder, as startTemporalBeside placed them.
 */
async function stopBesideServers(stack: Config, started: Map<Kind, TemporalBeside>): Promise<void> {
  for (const kind of ['dev', 'server'] as const) {
    try {
      const beside = started.get(kind);
      if (beside) await beside.stop();
      else await processManager(loadConfig(temporalBesideEnv(stack, SERVERS[kind]))).stop('temporal');
    } catch (err) {
      console.error(`could not stop the ${SERVERS[kind].label} beside the stack:`, err);
    }
  }
}

runCommand('bench:temporal-kinds', USAGE, () => main(process.argv.slice(2)), { stack: true });
