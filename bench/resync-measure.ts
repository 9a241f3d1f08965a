import { randomInt, randomUUID } from 'node:crypto';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { createApiClients } from '../adapters/clients';
import type { ApiClients } from '../adapters/clients';
import { createDb, migrateLatest } from '../adapters/db';
import { readInvariantViolations } from '../adapters/sync-check';
import { connectTemporal, connectWorker, dataConverter, requestResync, temporalClient } from '../adapters/temporal';
import { startOrAttachBatch } from '../clients/bulk-batch';
import type { Config } from '../common/config';
import { startSimulators } from '../simulators';
import { SimulatorControl } from '../simulators/control-client';
import type { SimulatorUrls } from '../simulators/control-client';
import { createSyncWorker } from '../workers/worker';

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

export interface CodecCost {
  /**
   * Process CPU milliseconds the window's payloads cost the codec, from replaying a sample of them through it once
   * the run is over (TimingPayloadCodec.replayCpuPerPayload): CPU of warm, uninterrupted code, a lower bound.
   */
  cpuMs: number;
  /**
   * Main-thread milliseconds inside encode / decode during the run itself (hrtime): an upper bound, since it also
   * holds garbage collection and the OS preempting the thread, which a busy machine does often.
   */
  encodeMs: number;
  decodeMs: number;
  /** Encoded (encrypted) payload bytes: produced by encode, and read back by decode. */
  bytesEncoded: number;
  bytesDecoded: number;
  /** encode + decode calls, and the payloads they carried. */
  calls: number;
  payloadsEncoded: number;
  payloadsDecoded: number;
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

async function measureWith(
  options: MeasureOptions,
  timing: TimingPayloadCodec | undefined,
): Promise<{ measurement: Measurement; codecWindow?: CodecCost }> {
  const { config, prisoners, alertsPerPrisoner, mode, concurrency, ratePerSecond } = options;
  const temporalConfig = options.temporalConfig ?? config;
  if (prisoners > 10_000) throw new Error('at most 10000 prisoners: prison numbers are Z0000xx to Z9999xx');
  const cleanup: (() => Promise<unknown>)[] = [];
  try {
    const simulators = await startBenchSimulators();
    cleanup.push(() => simulators.close());
    const control = new SimulatorControl(simulators.urls);
    const db = createDb(config.postgres.url, { min: 0, max: 20 });
    cleanup.push(() => db.destroy());
    await migrateLatest(db);
    const apis = apiClientsFor(config, simulators.urls);
    cleanup.push(() => apis.close());

    const converter: DataConverter = timing ? { ...dataConverter(config), payloadCodecs: [timing] } : {};
    const taskQueue = `bench-${randomUUID().slice(0, 8)}`;
    const clientConnection = await connectTemporal(temporalConfig);
    cleanup.push(() => clientConnection.close());
    const client = temporalClient(temporalConfig, clientConnection, converter);
    const workerConnection = await connectWorker(temporalConfig);
    cleanup.push(() => workerConnection.close());
    const worker = await createSyncWorker({
      connection: workerConnection,
      namespace: temporalConfig.temporal.namespace,
      taskQueue,
      deps: { db, nomis: apis.nomis, dps: apis.dps },
      dataConverter: converter,
      workflowBundlePath: options.workflowBundlePath,
    });
    const workerRun = worker.run();
    cleanup.push(async () => {
      worker.shutdown();
      await workerRun;
    });

    const suffix = options.prisonNumberSuffix ?? randomPrisonNumberSuffix();
    const prisonNumbers = Array.from({ length: prisoners }, (_, i) => `Z${String(i).padStart(4, '0')}${suffix}`);
    for (const offenderNo of prisonNumbers) {
      await control.createPrisoner({
        offenderNo,
        alerts: ALERT_CODES.slice(0, alertsPerPrisoner).map((alertCode, i) => ({
          alertCode,
          date: `2024-0${1 + (i % 9)}-01`,
        })),
      });
    }

    let peakRssBytes = process.memoryUsage().rss;
    const sampler = setInterval(() => (peakRssBytes = Math.max(peakRssBytes, process.memoryUsage().rss)), 100);
    cleanup.push(async () => clearInterval(sampler));
    const codecBefore = timing?.snapshot();
    const started = Date.now();
    const latencies: number[] = [];
    let failed = 0;
    let handles: Awaited<ReturnType<typeof requestResync>>[] = [];
    if (mode === 'bulk') {
      const { handle } = await startOrAttachBatch(client, taskQueue, {
        batchId: `bench-${taskQueue}`,
        prisonNumbers,
        concurrency,
        ratePerSecond,
      });
      failed = (await handle.result()).failed;
    } else {
      handles = await Promise.all(
        prisonNumbers.map((prisonNumber) => requestResync(client, taskQueue, prisonNumber, 'benchmark')),
      );
      const results = await Promise.allSettled(handles.map((h) => h.result()));
      failed = results.filter((r) => r.status === 'rejected').length;
    }
    const wallMs = Date.now() - started;
    const codecAfter = timing?.snapshot();
    clearInterval(sampler);
    // After the window: describing every run is not part of what is measured.
    for (const handle of handles) {
      const d = await handle.describe();
      if (d.closeTime) latencies.push(d.closeTime.getTime() - d.startTime.getTime());
    }
    latencies.sort((a, b) => a - b);
    const pct = (p: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;

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
      latencyMs: mode === 'all-at-once' ? { p50: pct(50), p95: pct(95), max: latencies.at(-1) ?? NaN } : undefined,
      peakRssBytes,
      violations,
      violationSample: sample.length,
    };
    return {
      measurement,
      codecWindow: codecBefore && codecAfter ? combineCodecCosts(codecAfter, codecBefore, -1) : undefined,
    };
  } finally {
    // In reverse: the worker stops before the connections, simulators and database it uses.
    for (const close of cleanup.reverse()) await close();
  }
}

/** a + sign * b, field by field: a difference of two snapshots, or a sum of rounds. */
export function combineCodecCosts(a: CodecCost, b: CodecCost, sign: 1 | -1 = 1): CodecCost {
  const cost = { ...a };
  for (const key of Object.keys(cost) as (keyof CodecCost)[]) cost[key] += sign * b[key];
  return cost;
}

/**
 * Wraps the product's codecs and adds up what they cost in this process (client and worker; the worker runs
 * codecs on the main thread, outside the workflow threads). Time is hrtime around the *synchronous* part of each
 * call, which for AES-GCM is all of it. Node 20 has no per-thread CPU clock, and process.cpuUsage() counts the
 * whole process (workflow threads, the SDK's Rust threads), so CPU proper comes from replaying a sample of the
 * payloads once the worker has stopped (replayCpuPerPayload).
 */
export class TimingPayloadCodec implements PayloadCodec {
  private readonly cost: CodecCost = {
    cpuMs: 0,
    encodeMs: 0,
    decodeMs: 0,
    bytesEncoded: 0,
    bytesDecoded: 0,
    calls: 0,
    payloadsEncoded: 0,
    payloadsDecoded: 0,
  };
  /** A uniform sample of the payloads encoded (reservoir sampling), replayed by replayCpuPerPayload. */
  private readonly sample: Payload[] = [];
  private seen = 0;

  constructor(private readonly codecs: PayloadCodec[]) {}

  snapshot(): CodecCost {
    return { ...this.cost };
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    this.cost.calls++;
    this.cost.payloadsEncoded += payloads.length;
    for (const payload of payloads) this.keepInSample(payload);
    let result = payloads;
    // As the SDK applies a list of codecs: encode in order, decode in reverse.
    for (const codec of this.codecs) {
      const started = process.hrtime.bigint();
      const pending = codec.encode(result);
      this.cost.encodeMs += Number(process.hrtime.bigint() - started) / 1e6;
      result = await pending;
    }
    this.cost.bytesEncoded += payloadBytes(result);
    return result;
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    this.cost.calls++;
    this.cost.payloadsDecoded += payloads.length;
    this.cost.bytesDecoded += payloadBytes(payloads);
    let result = payloads;
    for (const codec of [...this.codecs].reverse()) {
      const started = process.hrtime.bigint();
      const pending = codec.decode(result);
      this.cost.decodeMs += Number(process.hrtime.bigint() - started) / 1e6;
      result = await pending;
    }
    return result;
  }

  /**
   * Process CPU per payload, encode and decode, of the sampled payloads run through the codecs again and again
   * (after one warm-up pass) until about 0.3 s of CPU is spent. Call it when nothing else runs in the process:
   * process.cpuUsage() counts every thread.
   */
  async replayCpuPerPayload(): Promise<{ encodeMs: number; decodeMs: number }> {
    const sample = this.sample;
    if (sample.length === 0) return { encodeMs: 0, decodeMs: 0 };
    const cpuUs = ({ user, system }: NodeJS.CpuUsage) => user + system;
    const pass = async (): Promise<[number, number]> => {
      let started = process.cpuUsage();
      let encoded = sample;
      for (const codec of this.codecs) encoded = await codec.encode(encoded);
      const encodeUs = cpuUs(process.cpuUsage(started));
      started = process.cpuUsage();
      let decoded = encoded;
      for (const codec of [...this.codecs].reverse()) decoded = await codec.decode(decoded);
      return [encodeUs, cpuUs(process.cpuUsage(started))];
    };
    await pass();
    let [encodeUs, decodeUs, passes] = [0, 0, 0];
    while (passes < 1000 && encodeUs + decodeUs < 300_000) {
      const [e, d] = await pass();
      [encodeUs, decodeUs, passes] = [encodeUs + e, decodeUs + d, passes + 1];
    }
    const payloads = passes * sample.length;
    return { encodeMs: encodeUs / 1000 / payloads, decodeMs: decodeUs / 1000 / payloads };
  }

  private keepInSample(payload: Payload): void {
    this.seen++;
    if (this.sample.length < SAMPLE_SIZE) this.sample.push(payload);
    else {
      const slot = randomInt(this.seen);
      if (slot < SAMPLE_SIZE) this.sample[slot] = payload;
    }
  }
}

const SAMPLE_SIZE = 1000;

/** Data plus metadata keys and values: close to the payload's size in a history event. */
function payloadBytes(payloads: Payload[]): number {
  let bytes = 0;
  for (const payload of payloads) {
    bytes += payload.data?.byteLength ?? 0;
    for (const [key, value] of Object.entries(payload.metadata ?? {})) bytes += key.length + value.byteLength;
  }
  return bytes;
}

/** Per resync, for printing: CPU ms (replayed), ms inside the codec during the run, KiB that encode produced. */
export function codecPerResync(
  codec: CodecCost,
  resyncs: number,
): { cpuMs: number; inRunMs: number; encodedKiB: number } {
  return {
    cpuMs: codec.cpuMs / resyncs,
    inRunMs: (codec.encodeMs + codec.decodeMs) / resyncs,
    encodedKiB: codec.bytesEncoded / 1024 / resyncs,
  };
}
