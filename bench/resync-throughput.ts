import { randomInt, randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger } from '@temporalio/worker';
import { createApiClients } from '../adapters/clients';
import { createDb, migrateLatest } from '../adapters/db';
import { readInvariantViolations } from '../adapters/sync-check';
import { connectClient, dataConverter, requestResync, temporalConnectionOptions } from '../adapters/temporal';
import { startOrAttachBatch } from '../clients/bulk-batch';
import { loadConfig } from '../common/config';
import { startSimulators } from '../simulators';
import { SimulatorControl } from '../simulators/control-client';
import { createSyncWorker } from '../workers/worker';

// Resync throughput and latency on the real stack (Temporal, PostgreSQL from `bin/start` or the configured
// URLs): N prisoners with A alerts each in the NOMIS simulator, one resync request each, all at once, through
// a worker in this process. Prints wall time, resyncs/s, per-resync latency percentiles and peak RSS.
//   node --import tsx bench/resync-throughput.ts [prisoners=300] [alertsPerPrisoner=4]
// With `bulk [concurrency=20] [ratePerSecond=1000]` after those, the same prisoners go through one bulk resync
// batch (the sliding window) instead of all being requested at once.
//   node --import tsx bench/resync-throughput.ts 500 4 bulk 40
// BENCH_CODEC=off runs worker and client without the payload codec, to measure what encryption costs.

async function main(): Promise<void> {
  const prisoners = Number(process.argv[2] ?? 300);
  const alertsPerPrisoner = Number(process.argv[3] ?? 4);
  const bulk = process.argv[4] === 'bulk';
  const concurrency = Number(process.argv[5] ?? 20);
  const ratePerSecond = Number(process.argv[6] ?? 1000);
  const config = loadConfig();
  Runtime.install({ logger: new DefaultLogger('WARN') });

  // Its own bookingId range: the mapping table is shared with the dev stack's simulators.
  const simulators = await startSimulators({
    nomisPort: 0,
    dpsPort: 0,
    authPort: 0,
    kafka: null,
    firstBookingId: randomInt(2_000_000, 2_000_000_000),
  });
  const control = new SimulatorControl(simulators.urls);
  const db = createDb(config.postgres.url, { min: 0, max: 20 });
  await migrateLatest(db);
  const apis = createApiClients({
    ...config.apis,
    nomisUrl: simulators.urls.nomis,
    dpsUrl: simulators.urls.dps,
    authUrl: simulators.urls.auth,
  });
  const taskQueue = `bench-${randomUUID().slice(0, 8)}`;
  const connection = await NativeConnection.connect(temporalConnectionOptions(config));
  const codec = process.env.BENCH_CODEC !== 'off';
  const { client, close } = codec
    ? await connectClient(config)
    : await (async () => {
        const plain = await Connection.connect(temporalConnectionOptions(config));
        return {
          client: new Client({ connection: plain, namespace: config.temporal.namespace }),
          close: () => plain.close(),
        };
      })();
  const worker = await createSyncWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue,
    deps: { db, nomis: apis.nomis, dps: apis.dps, temporal: client },
    dataConverter: codec ? dataConverter(config) : {},
  });
  const workerRun = worker.run();

  const codes = ['XA', 'HA', 'XSA', 'HS', 'RSS', 'VI', 'PEEP', 'XEL', 'RCP'];
  const run = randomUUID()
    .slice(0, 2)
    .toUpperCase()
    .replace(/[^A-Z]/g, 'Z');
  const prisonNumbers = Array.from(
    { length: prisoners },
    (_, i) => `Z${String(i).padStart(4, '0')}${run.padEnd(2, 'Z')}`,
  );
  for (const offenderNo of prisonNumbers) {
    await control.createPrisoner({
      offenderNo,
      alerts: codes.slice(0, alertsPerPrisoner).map((alertCode, i) => ({ alertCode, date: `2024-0${1 + (i % 9)}-01` })),
    });
  }

  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  const started = Date.now();
  const latencies: number[] = [];
  let failed = 0;
  if (bulk) {
    const { handle } = await startOrAttachBatch(client, taskQueue, {
      batchId: `bench-${taskQueue}`,
      prisonNumbers,
      concurrency,
      ratePerSecond,
    });
    failed = (await handle.result()).failed;
  } else {
    const handles = await Promise.all(
      prisonNumbers.map((prisonNumber) => requestResync(client, taskQueue, prisonNumber, 'benchmark')),
    );
    const results = await Promise.allSettled(handles.map((h) => h.result()));
    failed = results.filter((r) => r.status === 'rejected').length;
    for (const handle of handles) {
      const d = await handle.describe();
      if (d.closeTime) latencies.push(d.closeTime.getTime() - d.startTime.getTime());
    }
  }
  const wallMs = Date.now() - started;
  clearInterval(sampler);
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;

  // Spot-check the outcome, so a fast but wrong run cannot pass for a result.
  let violations = 0;
  for (const prisonNumber of prisonNumbers.slice(0, 20)) {
    violations += (await readInvariantViolations({ ...apis, db }, prisonNumber)).violations.length;
  }

  console.log(
    `resync benchmark: ${prisoners} prisoners x ${alertsPerPrisoner} alerts, 1 worker, ${config.temporal.address}, ` +
      (bulk ? `one bulk batch (${concurrency} at once, ${ratePerSecond}/s at most)` : 'all requested at once') +
      (codec ? ', payloads encrypted' : ', payload codec OFF'),
  );
  console.log(`  wall time          ${(wallMs / 1000).toFixed(2)} s`);
  console.log(`  throughput         ${((prisoners / wallMs) * 1000).toFixed(1)} resyncs/s`);
  if (!bulk) {
    console.log(`  latency p50/p95/max ${pct(50)} / ${pct(95)} / ${latencies.at(-1)} ms (workflow start to close)`);
  }
  console.log(`  failed             ${failed}`);
  console.log(`  invariant violations in a 20-prisoner sample: ${violations}`);
  console.log(`  peak RSS (worker + simulators, this process) ${(peakRss / 1024 / 1024).toFixed(0)} MiB`);

  await close();
  worker.shutdown();
  await workerRun;
  await connection.close();
  await apis.close();
  await simulators.close();
  await db.destroy();
  if (failed || violations) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
