import { Runtime, DefaultLogger } from '@temporalio/worker';
import { parseCommandLine, positiveNumber, runCommand, UsageError } from '../common/cli-args';
import { loadConfig } from '../common/config';
import { measureResyncs } from './resync-measure';
import { codecPerResync } from './timing-codec';

// Resync throughput and latency on the real stack (Temporal, PostgreSQL from `bin/start` or the configured
// URLs): N prisoners with A alerts each in the NOMIS simulator, one resync request each, all at once, through
// a worker in this process. Prints wall time, resyncs/s, per-resync latency percentiles, peak RSS and what the
// payload codec cost.
//   node --import tsx bench/resync-throughput.ts [prisoners=300] [alertsPerPrisoner=4]
// With `bulk [concurrency=20] [ratePerSecond=1000]` after those, the same prisoners go through one bulk resync
// batch (the sliding window) instead of all being requested at once.
//   node --import tsx bench/resync-throughput.ts 500 4 bulk 40
// BENCH_CODEC=off runs worker and client without the payload codec, to measure what encryption costs.

const USAGE = `usage: npm run bench:resync -- [prisoners=300] [alertsPerPrisoner=4]
    [bulk [concurrency=20] [ratePerSecond=1000]]
  BENCH_CODEC=off runs without the payload codec`;

function parseOptions(argv: string[]) {
  const { positionals } = parseCommandLine(argv, {}, true);
  const [prisoners = '300', alertsPerPrisoner = '4', mode, concurrency = '20', ratePerSecond = '1000', ...extra] =
    positionals;
  if (mode !== undefined && mode !== 'bulk')
    throw new UsageError(`the third argument is bulk or nothing, got "${mode}"`);
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  return {
    prisoners: positiveNumber('prisoners', prisoners, { integer: true }),
    alertsPerPrisoner: positiveNumber('alertsPerPrisoner', alertsPerPrisoner, { integer: true }),
    bulk: mode === 'bulk',
    concurrency: positiveNumber('concurrency', concurrency, { integer: true }),
    ratePerSecond: positiveNumber('ratePerSecond', ratePerSecond),
  };
}

async function main(argv: string[]): Promise<void> {
  const { prisoners, alertsPerPrisoner, bulk, concurrency, ratePerSecond } = parseOptions(argv);
  const codec = process.env.BENCH_CODEC !== 'off';
  const config = loadConfig();
  Runtime.install({ logger: new DefaultLogger('WARN') });

  const m = await measureResyncs({
    config,
    prisoners,
    alertsPerPrisoner,
    mode: bulk ? 'bulk' : 'all-at-once',
    concurrency,
    ratePerSecond,
    codec,
  });

  console.log(
    `resync benchmark: ${prisoners} prisoners x ${alertsPerPrisoner} alerts, 1 worker, ${m.temporalAddress}, ` +
      (bulk ? `one bulk batch (${concurrency} at once, ${ratePerSecond}/s at most)` : 'all requested at once') +
      (codec ? ', payloads encrypted' : ', payload codec OFF'),
  );
  console.log(`  wall time          ${(m.wallMs / 1000).toFixed(2)} s`);
  console.log(`  throughput         ${m.resyncsPerSecond.toFixed(1)} resyncs/s`);
  if (m.latencyMs) {
    const { p50, p95, max } = m.latencyMs;
    console.log(`  latency p50/p95/max ${p50} / ${p95} / ${max} ms (workflow start to close)`);
  }
  console.log(`  failed             ${m.failed}`);
  console.log(`  invariant violations in a ${m.violationSample}-prisoner sample: ${m.violations}`);
  console.log(`  peak RSS (worker + simulators, this process) ${(m.peakRssBytes / 1024 / 1024).toFixed(0)} MiB`);
  if (m.codec) {
    const { cpuMs, inRunMs, encodedKiB } = codecPerResync(m.codec, prisoners);
    console.log(
      `  payload codec      ${cpuMs.toFixed(2)} ms CPU and ${encodedKiB.toFixed(1)} KiB encoded per resync ` +
        `(${inRunMs.toFixed(2)} ms inside the codec during the run, with GC and preemption; ` +
        `${m.codec.payloadsEncoded} payloads encoded, ${m.codec.payloadsDecoded} decoded)`,
    );
  }
  if (m.failed || m.violations) process.exitCode = 1;
}

runCommand('bench:resync', USAGE, () => main(process.argv.slice(2)), { stack: true });
