import { randomInt, randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { createApiClients } from '../adapters/clients';
import type { ApiClients } from '../adapters/clients';
import { createDb, migrateLatest } from '../adapters/db';
import type { Db } from '../adapters/db';
import { readInvariantViolations } from '../adapters/sync-check';
import { connectTemporal, connectWorker, dataConverter, requestResync, temporalClient } from '../adapters/temporal';
import { startOrAttachBatch } from '../clients/bulk-batch';
import type { Config } from '../common/config';
import { startSimulators } from '../simulators';
import { SimulatorControl } from '../simulators/control-client';
import type { SimulatorUrls } from '../simulators/control-client';
import { createSyncWorker } from '../workers/worker';
import { Cleanups } from './cleanups';
import type { CodecCost } from './timing-codec';
import { combineCodecCosts, TimingPayloadCodec } from './timing-codec';

// One resync measurement on a running stack, shared by the benchmark scripts: N prisoners with A alerts each in
// in-process simulators, a worker in this process on a task queue of its own, then either one resync request
// per prisoner all at once or one bulk resync batch (the sliding window). Callers install the Temporal Runtime.

export interface MeasureOptions {
  /** The stack's settings: PostgreSQL (mapping table), API clients, payload encryption keys. */
  config: Config;
  /** Where Temporal is; the stack's own when omitted (e.g. a server started beside it). */
  temporalConfig?: Config;
  prisoners: number;
  alertsPerPrisoner: number;
  /** `all-at-once`: one resync request per prisoner, all together; `bulk`: one bulk resync batch. */
  mode: 'all-at-once' | 'bulk';
  /** The batch's window and rate (bulk only). */
  concurrency: number;
  ratePerSecond: number;
  /** false: worker and client without the payload codec, to see what encryption costs. */
  codec: boolean;
  /** Two letters A-Z ending every prison number; callers running several rounds pass distinct ones. */
  prisonNumberSuffix?: string;
  /** A bundle from workers/build-bundle.ts, so rounds do not each spend seconds of CPU bundling. */
  workflowBundlePath?: string;
}

export interface Measurement {
  prisoners: number;
  alertsPerPrisoner: number;
  mode: MeasureOptions['mode'];
  temporalAddress: string;
  wallMs: number;
  resyncsPerSecond: number;
  failed: number;
  /** Workflow start to close, all-at-once mode only (a batch's children are not described one by one). */
  latencyMs?: { p50: number; p95: number; max: number };
  /** This process: worker, client and simulators. */
  peakRssBytes: number;
  /** Invariant violations found in a sample of `violationSample` prisoners. */
  violations: number;
  violationSample: number;
  /** During the measured window only; undefined with `codec: false`. */
  codec?: CodecCost;
}

const VIOLATION_SAMPLE = 20;
const ALERT_CODES = ['XA', 'HA', 'XSA', 'HS', 'RSS', 'VI', 'PEEP', 'XEL', 'RCP'];

export function randomPrisonNumberSuffix(): string {
  const letter = () => String.fromCharCode(65 + randomInt(26));
  return letter() + letter();
}

/** NOMIS, DPS and Auth simulators in this process, on free ports, publishing nothing. */
export function startBenchSimulators(): ReturnType<typeof startSimulators> {
  return startSimulators({
    nomisPort: 0,
    dpsPort: 0,
    authPort: 0,
    kafka: null,
    // Its own bookingId range: the mapping table is shared with the stack's other users.
    firstBookingId: randomInt(2_000_000, 2_000_000_000),
  });
}

/** The product's API clients, pointed at simulators started by startBenchSimulators. */
export function apiClientsFor(config: Config, urls: SimulatorUrls): ApiClients {
  return createApiClients({ ...config.apis, nomisUrl: urls.nomis, dpsUrl: urls.dps, authUrl: urls.auth });
}

export async function measureResyncs(options: MeasureOptions): Promise<Measurement> {
  const timing = options.codec ? new TimingPayloadCodec(dataConverter(options.config).payloadCodecs ?? []) : undefined;
  const { measurement, codecWindow } = await measureWith(options, timing);
  if (timing && codecWindow) {
    // Only after the worker has stopped, so that its threads cannot be billed to the codec.
    const perPayload = await timing.replayCpuPerPayload();
    codecWindow.cpuMs =
      codecWindow.payloadsEncoded * perPayload.encodeMs + codecWindow.payloadsDecoded * perPayload.decodeMs;
    measurement.codec = codecWindow;
  }
  return measurement;
}

type Measured = { measurement: Measurement; codecWindow?: CodecCost };

/** The measurement, then everything it opened closed; a close that fails fails a measurement that did not. */
async function measureWith(options: MeasureOptions, timing: TimingPayloadCodec | undefined): Promise<Measured> {
  if (options.prisoners > 10_000) throw new Error('at most 10000 prisoners: prison numbers are Z0000xx to Z9999xx');
  const cleanups = new Cleanups();
  const failures: Error[] = [];
  const closeAll = () =>
    cleanups.run((what, err) => failures.push(new Error(`cleanup of ${what} failed: ${String(err)}`)));
  let measured: Measured;
  try {
    measured = await measureIn(options, timing, cleanups);
  } catch (err) {
    await closeAll();
    for (const failure of failures) console.error(failure.message);
    throw err;
  }
  await closeAll();
  if (failures.length > 0) throw failures[0];
  return measured;
}

async function measureIn(
  options: MeasureOptions,
  timing: TimingPayloadCodec | undefined,
  cleanups: Cleanups,
): Promise<Measured> {
  const { config, prisoners, alertsPerPrisoner, mode } = options;
  const temporalConfig = options.temporalConfig ?? config;
  const simulators = await startBenchSimulators();
  cleanups.add('simulators', () => simulators.close());
  const db = createDb(config.postgres.url, { min: 0, max: 20 });
  cleanups.add('database', () => db.destroy());
  await migrateLatest(db);
  const apis = apiClientsFor(config, simulators.urls);
  cleanups.add('API clients', () => apis.close());
  const { client, taskQueue } = await startWorker(options, { db, apis }, timing, cleanups);

  const suffix = options.prisonNumberSuffix ?? randomPrisonNumberSuffix();
  const prisonNumbers = Array.from({ length: prisoners }, (_, i) => `Z${String(i).padStart(4, '0')}${suffix}`);
  await seedPrisoners(new SimulatorControl(simulators.urls), prisonNumbers, alertsPerPrisoner);

  let peakRssBytes = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRssBytes = Math.max(peakRssBytes, process.memoryUsage().rss)), 100);
  cleanups.add('RSS sampler', async () => clearInterval(sampler));
  const codecBefore = timing?.snapshot();
  const started = Date.now();
  const { failed, handles } = await runResyncs(options, client, taskQueue, prisonNumbers);
  const wallMs = Date.now() - started;
  const codecAfter = timing?.snapshot();
  clearInterval(sampler);
  // After the window: describing every run and checking the outcome are not part of what is measured.
  const latencyMs = mode === 'all-at-once' ? await latenciesOf(handles) : undefined;
  // Spot-check the outcome, so a fast but wrong run cannot pass for a result.
  let violations = 0;
  const sample = prisonNumbers.slice(0, VIOLATION_SAMPLE);
  for (const prisonNumber of sample) {
    violations += (await readInvariantViolations({ ...apis, db }, prisonNumber)).violations.length;
  }

  const measurement: Measurement = {
    prisoners,
    alertsPerPrisoner,
    mode,
    temporalAddress: temporalConfig.temporal.address,
    wallMs,
    resyncsPerSecond: (prisoners / wallMs) * 1000,
    failed,
    latencyMs,
    peakRssBytes,
    violations,
    violationSample: sample.length,
  };
  return {
    measurement,
    codecWindow: codecBefore && codecAfter ? combineCodecCosts(codecAfter, codecBefore, -1) : undefined,
  };
}

/** A worker in this process on a task queue of its own, and a client to it; both with `timing` when given. */
async function startWorker(
  options: MeasureOptions,
  deps: { db: Db; apis: ApiClients },
  timing: TimingPayloadCodec | undefined,
  cleanups: Cleanups,
): Promise<{ client: Client; taskQueue: string }> {
  const temporalConfig = options.temporalConfig ?? options.config;
  const converter: DataConverter = timing ? { ...dataConverter(options.config), payloadCodecs: [timing] } : {};
  const taskQueue = `bench-${randomUUID().slice(0, 8)}`;
  const clientConnection = await connectTemporal(temporalConfig);
  cleanups.add('client connection', () => clientConnection.close());
  const client = temporalClient(temporalConfig, clientConnection, converter);
  const workerConnection = await connectWorker(temporalConfig);
  cleanups.add('worker connection', () => workerConnection.close());
  const worker = await createSyncWorker({
    connection: workerConnection,
    namespace: temporalConfig.temporal.namespace,
    taskQueue,
    deps: { db: deps.db, nomis: deps.apis.nomis, dps: deps.apis.dps },
    dataConverter: converter,
    workflowBundlePath: options.workflowBundlePath,
  });
  const workerRun = worker.run();
  cleanups.add('worker', async () => {
    worker.shutdown();
    await workerRun;
  });
  return { client, taskQueue };
}

async function seedPrisoners(control: SimulatorControl, prisonNumbers: string[], alertsPerPrisoner: number) {
  for (const offenderNo of prisonNumbers) {
    await control.createPrisoner({
      offenderNo,
      alerts: ALERT_CODES.slice(0, alertsPerPrisoner).map((alertCode, i) => ({
        alertCode,
        date: `2024-0${1 + (i % 9)}-01`,
      })),
    });
  }
}

type ResyncHandle = Awaited<ReturnType<typeof requestResync>>;

/** The measured window: one batch, or one request per prisoner all at once; until every resync has ended. */
async function runResyncs(
  options: MeasureOptions,
  client: Client,
  taskQueue: string,
  prisonNumbers: string[],
): Promise<{ failed: number; handles: ResyncHandle[] }> {
  if (options.mode === 'bulk') {
    const { handle } = await startOrAttachBatch(client, taskQueue, {
      batchId: `bench-${taskQueue}`,
      prisonNumbers,
      concurrency: options.concurrency,
      ratePerSecond: options.ratePerSecond,
    });
    return { failed: (await handle.result()).failed, handles: [] };
  }
  const handles = await Promise.all(
    prisonNumbers.map((prisonNumber) => requestResync(client, taskQueue, prisonNumber, 'benchmark')),
  );
  const results = await Promise.allSettled(handles.map((h) => h.result()));
  return { failed: results.filter((r) => r.status === 'rejected').length, handles };
}

/** Start to close of each run, described one by one. */
async function latenciesOf(handles: ResyncHandle[]): Promise<{ p50: number; p95: number; max: number }> {
  const latencies: number[] = [];
  for (const handle of handles) {
    const d = await handle.describe();
    if (d.closeTime) latencies.push(d.closeTime.getTime() - d.startTime.getTime());
  }
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
  return { p50: pct(50), p95: pct(95), max: latencies.at(-1) ?? NaN };
}
