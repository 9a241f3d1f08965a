import type { Worker } from '@temporalio/worker';
import type { NativeConnection } from '@temporalio/worker';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { freePort, startHealthServer, temporalReachability } from '../adapters/health-server';
import { createRegistry } from '../adapters/metrics';
import { createApiClients } from '../adapters/clients';
import { createDb, migrateLatest } from '../adapters/db';
import { LiveSwitches } from '../adapters/live-switches';
import { connectWorker, dataConverter } from '../adapters/temporal';
import { assertReadyForProduction, loadConfig } from '../common/config';
import { createSyncWorker } from './worker';

async function main(): Promise<void> {
  const config = loadConfig();
  assertReadyForProduction(config, ['apis', 'database', 'encryption', 'temporal']);
  const level = config.logLevel.toUpperCase() as 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  // The SDK's metrics (task slots, polls, latencies, and the workflow outcome counter of
  // workflows/metrics-interceptor.ts) come from Core's own exporter: bound to loopback on a free port and
  // re-served by /metrics below, so Prometheus scrapes one port per pod.
  const sdkMetricsAddress = `127.0.0.1:${await freePort()}`;
  Runtime.install({
    logger: new DefaultLogger(level),
    telemetryOptions: { metrics: { prometheus: { bindAddress: sdkMetricsAddress, countersTotalSuffix: true } } },
  });
  const registry = createRegistry('worker');
  let stopping = false;
  let worker: Worker | undefined;
  const up: { connection?: NativeConnection } = {};
  // The SDK's own handler (Runtime shutdownSignals) drains the worker; this one only fails readiness at once, so
  // no new traffic is routed to a pod that is going away.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => (stopping = true));
  const temporalReachable = temporalReachability(() => up.connection);
  const health = await startHealthServer({
    port: config.health.workerPort,
    live: () => worker?.getState() !== 'FAILED',
    ready: async () => {
      if (stopping) return { ready: false, why: 'shutting down' };
      const state = worker?.getState() ?? 'STARTING';
      if (state !== 'RUNNING') return { ready: false, why: `worker ${state}` };
      const reachable = await temporalReachable().catch(() => false);
      return reachable ? { ready: true } : { ready: false, why: 'Temporal not reachable' };
    },
    metrics: async () => `${await sdkMetrics(sdkMetricsAddress)}\n${await registry.metrics()}`,
  });
  console.log(`health and metrics on port ${health.port}`);
  const db = createDb(config.postgres.url);
  const applied = await migrateLatest(db);
  if (applied.length > 0) console.log(`database migrated: ${applied.join(', ')}`);
  const apis = createApiClients(config.apis);
  const switches = LiveSwitches.fromDatabase(
    db,
    config.temporal.taskQueue,
    config.switches.defaults,
    config.switches.cacheMs,
    (err) => console.warn(`could not read the sync switches; keeping the last ones read: ${String(err)}`),
  );
  const connection = (up.connection = await connectWorker(config));
  try {
    worker = await createSyncWorker({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      deps: {
        db,
        nomis: apis.nomis,
        dps: apis.dps,
        switches: () => switches.get(),
        reportsGrouped: config.bulkReportsGrouped,
      },
      dataConverter: dataConverter(config),
      workflowBundlePath: process.env.WORKFLOW_BUNDLE_PATH,
      shutdownGraceTime: config.shutdownGrace,
      maxCachedWorkflows: config.cachedWorkflows,
    });
    console.log(`worker polling task queue ${config.temporal.taskQueue} on ${config.temporal.address}`);
    // run() resolves after SIGINT/SIGTERM once in-flight activities finished: a graceful shutdown.
    await worker.run();
  } finally {
    stopping = true;
    await connection.close();
    await apis.close();
    await db.destroy();
    await health.close();
  }
  console.log('worker stopped');
}

/** The Temporal SDK's Prometheus text; empty (not an error) if Core's exporter does not answer, so ours still shows. */
async function sdkMetrics(address: string): Promise<string> {
  try {
    const res = await fetch(`http://${address}/metrics`, { signal: AbortSignal.timeout(2_000) });
    return res.ok ? await res.text() : '';
  } catch {
    return '';
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
