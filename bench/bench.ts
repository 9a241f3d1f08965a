import type { ChildProcess } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { randomInt, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, readlink, realpath, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { DefaultLogger } from '@temporalio/worker';
import type { Admin, Message, Producer } from 'kafkajs';
import type { ApiClients } from '../adapters/clients';
import { createDb, findUnmappedDpsAlertIds, migrateLatest, replacePrisonerMappings } from '../adapters/db';
import type { Db } from '../adapters/db';
import { kafkaClient } from '../adapters/kafka';
import { AesGcmPayloadCodec, isEncrypted } from '../adapters/payload-codec';
import { readInvariantViolations } from '../adapters/sync-check';
import { connectClient, dataConverter } from '../adapters/temporal';
import { renderProgress, startOrAttachBatch, watchBatch } from '../clients/bulk-batch';
import { toResyncAlert } from '../common/alert-fields';
import type { Config } from '../common/config';
import { parseCommandLine, positiveNumber, runCommand, UsageError } from '../common/cli-args';
import { loadConfig } from '../common/config';
import { mapConcurrently } from '../common/concurrency';
import { bulkResyncWorkflowId, prisonerSyncWorkflowId } from '../common/ids';
import { freePort } from '../adapters/health-server';
import { AppProcesses, appEnv, compiledEntry, httpGet } from '../infra/app-processes';
import { apiClientsFor, startBenchSimulators } from './resync-measure';
import type { Simulators } from '../simulators';
import { createPrisonerRequestSchema } from '../simulators/nomis';
import type { PrisonerSyncResult } from '../workflows/prisoner-sync';
import { buildWorkflowBundle } from '../workers/build-bundle';

// One benchmark command for the README's figures, on an already-running stack (Temporal, Kafka, PostgreSQL as
// loadConfig() finds them). The worker and the router run as separate real processes on this run's own task
// queue, topics and consumer group, against simulators in this process; figures:
//   1. the same resync work without Temporal (a promise pool on the same clients), the baseline;
//   2. one bulk resync batch, and its ratio to the baseline;
//   3. event-to-workflow-closed latency at a steady 20 events/s;
//   4. the router's throughput on a burst of events;
//   5. the worker process's peak RSS over the whole run.
// A phase whose run had failed workflows, dead letters or invariant violations prints no figure, says why, and
// makes the command exit 1.
//   npm run bench -- [--batch 10000] [--baseline-prisoners 2000] [--latency-seconds 30] [--burst-events 5000]
//                    [--burst-prisoners 1000] [--concurrency 40] [--rate 1000] [--json FILE]

const ALERT_CODES = ['XA', 'HA', 'XSA', 'HS'];
const INVARIANT_SAMPLE = 50;
const LATENCY_EVENTS_PER_SECOND = 20;
const RSS_INTERVAL_MS = 200;
/** Prison numbers are one letter, four digits, two letters: a phase numbers its prisoners 0000-9999. */
const MAX_PRISONERS_PER_PHASE = 10_000;
const MiB = 1024 * 1024;

const TARGETS = {
  bulk: { text: '>= 60 resyncs/s', met: (v: number) => v >= 60 },
  latency: { text: 'p99 < 1000 ms at 20 ev/s', met: (v: number) => v < 1000 },
  router: { text: '>= 500 ev/s', met: (v: number) => v >= 500 },
  rss: { text: '< 300 MiB', met: (v: number) => v < 300 },
} as const;

interface Options {
  batch: number;
  baselinePrisoners: number;
  latencySeconds: number;
  burstEvents: number;
  burstPrisoners: number;
  concurrency: number;
  rate: number;
  json?: string;
}

const USAGE = `usage: npm run bench -- [--batch 10000] [--baseline-prisoners 2000] [--latency-seconds 30]
    [--burst-events 5000] [--burst-prisoners 1000] [--concurrency 40] [--rate 1000] [--json FILE]`;

function parseOptions(argv: string[]): Options {
  const { values } = parseCommandLine(argv, {
    batch: { type: 'string', default: '10000' },
    'baseline-prisoners': { type: 'string', default: '2000' },
    'latency-seconds': { type: 'string', default: '30' },
    'burst-events': { type: 'string', default: '5000' },
    'burst-prisoners': { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '40' },
    rate: { type: 'string', default: '1000' },
    json: { type: 'string' },
  });
  const positive = (name: string, raw: string, integer = true): number => positiveNumber(`--${name}`, raw, { integer });
  const options: Options = {
    batch: positive('batch', values.batch),
    baselinePrisoners: positive('baseline-prisoners', values['baseline-prisoners']),
    latencySeconds: positive('latency-seconds', values['latency-seconds'], false),
    burstEvents: positive('burst-events', values['burst-events']),
    burstPrisoners: positive('burst-prisoners', values['burst-prisoners']),
    concurrency: positive('concurrency', values.concurrency),
    rate: positive('rate', values.rate, false),
    json: values.json,
  };
  const latencyPrisoners = Math.round(options.latencySeconds * LATENCY_EVENTS_PER_SECOND);
  for (const [name, n] of [
    ['--batch', options.batch],
    ['--baseline-prisoners', options.baselinePrisoners],
    ['--latency-seconds x 20', latencyPrisoners],
    ['--burst-prisoners', options.burstPrisoners],
  ] as const) {
    if (n > MAX_PRISONERS_PER_PHASE)
      throw new UsageError(`${name} gives ${n} prisoners; at most ${MAX_PRISONERS_PER_PHASE}`);
  }
  if (options.burstPrisoners > options.burstEvents) {
    throw new UsageError('--burst-prisoners must not exceed --burst-events');
  }
  return options;
}

const startedAt = Date.now();
function progress(message: string): void {
  console.error(`[bench ${((Date.now() - startedAt) / 1000).toFixed(1).padStart(6)}s] ${message}`);
}

// ---------------------------------------------------------------------------------------------------------------
// What a phase gives back: a figure, or the reasons it is refused.

interface PhaseResult {
  phase: string;
  unit: string;
  target?: string;
  /** The headline number, compared with the target. */
  value?: number;
  /** The printed figure; absent when refused. */
  figure?: string;
  refused?: string;
  details: Record<string, unknown>;
}

class PhaseRefused extends Error {
  constructor(
    readonly problems: string[],
    readonly details: Record<string, unknown> = {},
  ) {
    super(problems.join('; '));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The worker's memory, read from the kernel rather than asked of the process, so sampling costs it nothing.

class RssSampler {
  peakBytes = 0;
  samples = 0;
  private phasePeak = 0;
  private timer?: NodeJS.Timeout;

  constructor(private readonly pid: number) {}

  start(): void {
    this.timer = setInterval(() => void this.sample(), RSS_INTERVAL_MS);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The peak since the previous call: what one phase cost. */
  takePhasePeak(): number {
    const peak = this.phasePeak;
    this.phasePeak = 0;
    return peak;
  }

  private async sample(): Promise<void> {
    const status = await readFile(`/proc/${this.pid}/status`, 'utf8').catch(() => undefined);
    const kib = status?.match(/^VmRSS:\s+(\d+) kB$/m)?.[1];
    if (kib === undefined) return;
    const bytes = Number(kib) * 1024;
    this.samples++;
    this.peakBytes = Math.max(this.peakBytes, bytes);
    this.phasePeak = Math.max(this.phasePeak, bytes);
  }
}

/** The pid must be node itself running the worker's entry: a wrapper's RSS would say nothing about the worker. */
async function assertIsWorkerProcess(pid: number): Promise<void> {
  const exe = await readlink(`/proc/${pid}/exe`);
  const node = await realpath(process.execPath);
  const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
  if (exe !== node || !cmdline.some((arg) => arg.endsWith(compiledEntry('workers/main.ts')))) {
    throw new Error(`pid ${pid} is ${exe} ${cmdline.join(' ')}, not node running the compiled workers/main.ts`);
  }
}

// ---------------------------------------------------------------------------------------------------------------

interface Bench {
  options: Options;
  config: Config;
  runId: string;
  taskQueue: string;
  topics: { offenderEvents: string; domainEvents: string; dlq: string };
  consumerGroup: string;
  simulators: Simulators;
  apis: ApiClients;
  db: Db;
  client: Client;
  admin: Admin;
  producer: Producer;
  /** Rejects when the worker or the router exits during the run; phases race it so a dead process cannot hang. */
  processDied: Promise<never>;
  prisonNumbers(phaseIndex: number, count: number): string[];
}

/** Each phase's prisoners are fresh in NOMIS; seeded by a direct call, as HTTP would cost 10k round trips. */
function seedPrisoners(bench: Bench, prisonNumbers: string[]): void {
  for (const offenderNo of prisonNumbers) {
    bench.simulators.nomis.createPrisoner(
      createPrisonerRequestSchema.parse({
        offenderNo,
        alerts: ALERT_CODES.map((alertCode, i) => ({ alertCode, date: `2024-0${i + 1}-01`, comment: 'bench' })),
      }),
    );
  }
}

/** Contract §6 for a sample spread over the whole phase, not only its first prisoners; each problem a line. */
async function invariantProblems(bench: Bench, prisonNumbers: string[]): Promise<string[]> {
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
function prisonersWithoutAllAlerts(bench: Bench, prisonNumbers: string[]): string[] {
  const dps = bench.simulators.dps.dump();
  return prisonNumbers.filter((p) => (dps[p]?.length ?? 0) !== ALERT_CODES.length);
}

async function dlqMessages(bench: Bench): Promise<number> {
  const offsets = await bench.admin.fetchTopicOffsets(bench.topics.dlq);
  return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
}

/** Messages on the two input topics the router's group has not committed yet. */
async function consumerLag(bench: Bench): Promise<number> {
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
interface PhaseStart {
  at: Date;
  dlq: number;
}

async function phaseStart(bench: Bench): Promise<PhaseStart> {
  return { at: new Date(), dlq: await dlqMessages(bench) };
}

/** Problems common to every Temporal phase: runs on the queue that ended badly, and dead letters. */
async function runProblems(bench: Bench, since: PhaseStart): Promise<string[]> {
  const problems: string[] = [];
  const bad = await countWorkflows(bench, ENDED_BADLY, since.at);
  if (bad > 0) problems.push(`${bad} workflow(s) on ${bench.taskQueue} failed, were terminated or timed out`);
  const dead = (await dlqMessages(bench)) - since.dlq;
  if (dead > 0) problems.push(`${dead} event(s) dead-lettered to ${bench.topics.dlq}`);
  return problems;
}

/** Until no workflow on the queue runs, seen twice a couple of seconds apart (visibility lags a little). */
async function untilQueueIdle(bench: Bench, what: string, timeoutMs: number): Promise<void> {
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

function received(prisonNumber: string, reason: string, occurredAt: Date): Message {
  return {
    key: prisonNumber,
    value: JSON.stringify({
      eventType: 'prisoner-offender-search.prisoner.received',
      version: 1,
      occurredAt: occurredAt.toISOString(),
      additionalInformation: { nomsNumber: prisonNumber, reason, prisonId: 'MDI' },
      personReference: { identifiers: [{ type: 'NOMS', value: prisonNumber }] },
    }),
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

// ---------------------------------------------------------------------------------------------------------------
// 1. The same work without Temporal.

async function baselinePhase(bench: Bench): Promise<{ value: number; details: Record<string, unknown> }> {
  const prisoners = bench.prisonNumbers(0, bench.options.baselinePrisoners);
  progress(`baseline: seeding ${prisoners.length} prisoners x ${ALERT_CODES.length} alerts`);
  seedPrisoners(bench, prisoners);
  progress(`baseline: resyncing ${prisoners.length} prisoners without Temporal, ${bench.options.concurrency} at once`);
  const failures: string[] = [];
  const started = Date.now();
  await mapConcurrently(prisoners, bench.options.concurrency, async (prisonNumber) => {
    try {
      await resyncWithoutTemporal(bench, prisonNumber);
    } catch (err) {
      failures.push(`${prisonNumber}: ${String(err)}`);
    }
  });
  const wallMs = Date.now() - started;
  const value = (prisoners.length / wallMs) * 1000;
  const details = { prisoners: prisoners.length, wallMs, failed: failures.length };
  progress(`baseline: done in ${(wallMs / 1000).toFixed(1)} s, checking the outcome`);
  const problems: string[] = [];
  if (failures.length > 0) problems.push(`${failures.length} resync(s) failed, first: ${failures[0]}`);
  const incomplete = prisonersWithoutAllAlerts(bench, prisoners);
  if (incomplete.length > 0) problems.push(`${incomplete.length} prisoner(s) without all their alerts in DPS`);
  problems.push(...(await invariantProblems(bench, prisoners)));
  if (problems.length > 0) throw new PhaseRefused(problems, details);
  return { value, details: { ...details, invariantSample: Math.min(INVARIANT_SAMPLE, prisoners.length) } };
}

/** What common/resync-once.ts's resyncOnce asks its activities to do, with the clients and transaction they use. */
async function resyncWithoutTemporal(bench: Bench, prisonNumber: string): Promise<void> {
  const { nomis, dps } = bench.apis;
  const { latestBookingAlerts } = await nomis.getAlertsToMigrate(prisonNumber);
  const alerts = latestBookingAlerts.map(toResyncAlert);
  // The guarded resync reads DPS and the mappings before replacing DPS (activities/dps.ts, unsyncedDpsAlerts);
  // its reads are part of a resync's cost, so they are made here too. Nothing else writes these prisoners.
  const inDps = await dps.getPrisonerAlerts(prisonNumber);
  await findUnmappedDpsAlertIds(
    bench.db,
    inDps.map((a) => a.alertUuid),
  );
  const created = await dps.resyncPrisonerAlerts(prisonNumber, alerts);
  if (created.length !== alerts.length) throw new Error(`DPS answered ${created.length} alerts for ${alerts.length}`);
  await replacePrisonerMappings(bench.db, {
    offenderNo: prisonNumber,
    mappingType: 'RESYNC',
    mappings: created.map((c) => ({
      dpsAlertId: c.alertUuid,
      nomisBookingId: c.offenderBookId,
      nomisAlertSequence: c.alertSeq,
    })),
  });
}

// ---------------------------------------------------------------------------------------------------------------
// 2. One bulk resync batch.

async function bulkPhase(bench: Bench): Promise<{ value: number; details: Record<string, unknown> }> {
  const { batch, concurrency, rate } = bench.options;
  const prisoners = bench.prisonNumbers(1, batch);
  progress(`bulk: seeding ${prisoners.length} prisoners x ${ALERT_CODES.length} alerts`);
  seedPrisoners(bench, prisoners);
  progress(`bulk: one batch of ${prisoners.length}, ${concurrency} at once, at most ${rate}/s`);
  const since = await phaseStart(bench);
  const started = Date.now();
  const { handle, attached } = await startOrAttachBatch(bench.client, bench.taskQueue, {
    batchId: `bench-${bench.runId}`,
    prisonNumbers: prisoners,
    concurrency,
    ratePerSecond: rate,
  });
  if (attached) throw new Error(`batch bench-${bench.runId} was already running`);
  let lastReport = 0;
  // Generous (a resync every half second), only so that a batch stuck retrying ends the run instead of hanging it.
  const timeoutMs = 300_000 + prisoners.length * 500;
  const timedOut = sleep(timeoutMs, undefined, { ref: false }).then(() => {
    throw new Error(`the batch had not finished after ${timeoutMs / 1000} s`);
  });
  const report = await Promise.race([
    timedOut,
    watchBatch(handle, (p) => {
      if (Date.now() - lastReport < 10_000) return;
      lastReport = Date.now();
      progress(`bulk: ${renderProgress(p, Date.now())}`);
    }),
    bench.processDied,
  ]);
  const wallMs = Date.now() - started;
  const value = (prisoners.length / wallMs) * 1000;
  const details = {
    prisoners: prisoners.length,
    alertsPerPrisoner: ALERT_CODES.length,
    concurrency,
    ratePerSecond: rate,
    wallMs,
    done: report.done,
    failed: report.failed,
    skipped: report.skipped,
  };
  progress(`bulk: done in ${(wallMs / 1000).toFixed(1)} s (${report.done} done, ${report.failed} failed)`);
  const problems: string[] = [];
  if (report.failed > 0) {
    problems.push(`${report.failed} resync(s) failed, first: ${JSON.stringify(report.failures[0] ?? null)}`);
  }
  if (report.done !== prisoners.length) problems.push(`${report.done} of ${prisoners.length} resynced`);
  const incomplete = prisonersWithoutAllAlerts(bench, prisoners);
  if (incomplete.length > 0) problems.push(`${incomplete.length} prisoner(s) without all their alerts in DPS`);
  problems.push(...(await invariantProblems(bench, prisoners)));
  await untilQueueIdle(bench, 'bulk', 120_000);
  problems.push(...(await runProblems(bench, since)));
  if (problems.length > 0) throw new PhaseRefused(problems, details);
  return { value, details: { ...details, invariantSample: Math.min(INVARIANT_SAMPLE, prisoners.length) } };
}

// ---------------------------------------------------------------------------------------------------------------
// 3. Event to workflow closed, at a steady rate.

async function latencyPhase(bench: Bench): Promise<{ value: number; details: Record<string, unknown> }> {
  const count = Math.round(bench.options.latencySeconds * LATENCY_EVENTS_PER_SECOND);
  const prisoners = bench.prisonNumbers(2, count);
  progress(`latency: seeding ${prisoners.length} prisoners x ${ALERT_CODES.length} alerts`);
  seedPrisoners(bench, prisoners);
  progress(`latency: publishing ${count} NEW_ADMISSION events at ${LATENCY_EVENTS_PER_SECOND}/s`);
  const since = await phaseStart(bench);
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
  const achievedRate = publishSeconds > 0 ? (count - 1) / publishSeconds : count;
  progress(`latency: published (${achievedRate.toFixed(1)} ev/s achieved), waiting for every workflow to close`);

  const problems: string[] = [];
  const latencies: number[] = [];
  const deadline = Date.now() + 180_000;
  const ticker = setInterval(
    () => progress(`latency: ${latencies.length + problems.length} of ${count} workflows closed`),
    10_000,
  );
  await Promise.race([
    mapConcurrently(prisoners, 20, async (prisonNumber) => {
      const i = prisoners.indexOf(prisonNumber);
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

// ---------------------------------------------------------------------------------------------------------------
// 4. The router on a burst.

async function routerPhase(bench: Bench): Promise<{ value: number; details: Record<string, unknown> }> {
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
  let routedAt: number | undefined;
  const deadline = Date.now() + 600_000;
  let lastReport = Date.now();
  while (routedAt === undefined) {
    if (Date.now() > deadline) throw new Error('the router did not commit every offset in 600 s');
    const lag = await Promise.race([consumerLag(bench), bench.processDied]);
    if (lag === 0) routedAt = Date.now();
    else {
      if (Date.now() - lastReport > 10_000) {
        progress(`router: lag ${lag}`);
        lastReport = Date.now();
      }
      await sleep(50);
    }
  }
  const routedMs = routedAt - started;
  const value = (burstEvents / routedMs) * 1000;
  const details = { events: burstEvents, prisoners: prisoners.length, publishMs, routedMs };
  progress(`router: all routed in ${(routedMs / 1000).toFixed(2)} s; waiting for every workflow to close`);
  await untilQueueIdle(bench, 'router', 900_000);
  const problems = await runProblems(bench, since);
  const incomplete = prisonersWithoutAllAlerts(bench, prisoners);
  if (incomplete.length > 0) problems.push(`${incomplete.length} prisoner(s) without all their alerts in DPS`);
  problems.push(...(await invariantProblems(bench, prisoners)));
  if (problems.length > 0) throw new PhaseRefused(problems, details);
  return { value, details };
}

// ---------------------------------------------------------------------------------------------------------------
// Payload encryption: on in this process, the same keys in the worker's environment, ciphertext in history.

function encryptionProblems(config: Config, workerEnv: Record<string, string | undefined>): string[] {
  const problems: string[] = [];
  const codecs = dataConverter(config).payloadCodecs ?? [];
  if (!codecs.some((c) => c instanceof AesGcmPayloadCodec)) problems.push('this process has no payload codec');
  const worker = loadConfig(workerEnv).encryption;
  const keyIds = (keys: Config['encryption']['keys']) =>
    keys.map((k) => `${k.id}=${k.key.toString('base64')}`).join(',');
  if (worker.keyId !== config.encryption.keyId || keyIds(worker.keys) !== keyIds(config.encryption.keys)) {
    problems.push("the worker's PAYLOAD_ENCRYPTION_KEYS / _KEY_ID differ from this process's");
  }
  return problems;
}

/** Every payload of the workflow's stored history, read raw (no codec), must be ciphertext. */
async function historyEncrypted(bench: Bench, workflowId: string): Promise<{ payloads: number; encrypted: number }> {
  const { history } = await bench.client.workflowService.getWorkflowExecutionHistory({
    namespace: bench.client.options.namespace,
    execution: { workflowId },
  });
  let payloads = 0;
  let encrypted = 0;
  const visit = (value: unknown, key?: string): void => {
    if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return;
    if (Array.isArray(value)) return value.forEach((item) => visit(item, key));
    // Search attributes are plaintext on purpose (indexed by the server); patch markers carry the SDK's patch id.
    if (key === 'searchAttributes' || key === 'indexedFields') return;
    const record = value as Record<string, unknown>;
    if (record.markerName === 'core_patch') return;
    // A local activity's marker holds the SDK's bookkeeping (sequence, activity type, times) unencoded beside the
    // activity's result, which is the application's payload.
    if (record.markerName === 'core_local_activity') {
      return visit((record.details as Record<string, unknown> | undefined)?.result, 'result');
    }
    if (record.metadata !== undefined && 'data' in record) {
      payloads++;
      if (isEncrypted(record as temporal.api.common.v1.IPayload)) encrypted++;
      return;
    }
    for (const [k, v] of Object.entries(record)) visit(v, k);
  };
  for (const event of history?.events ?? []) visit(event);
  return { payloads, encrypted };
}

/** What the worker and the clients wrote for a batch and a prisoner of each Temporal phase, read as stored. */
async function encryptionInHistory(bench: Bench, workflowIds: string[]): Promise<{ on: boolean; detail: string }> {
  let payloads = 0;
  let encrypted = 0;
  const read: string[] = [];
  for (const workflowId of workflowIds) {
    const found = await historyEncrypted(bench, workflowId).catch(() => undefined);
    if (!found) continue;
    read.push(workflowId);
    payloads += found.payloads;
    encrypted += found.encrypted;
  }
  if (payloads > 0 && encrypted === payloads) {
    return { on: true, detail: `on (${encrypted}/${payloads} payloads in ${read.join(', ')} are ciphertext)` };
  }
  return {
    on: false,
    detail: `NOT verified: ${encrypted}/${payloads} payloads in ${read.join(', ') || 'no history'} are ciphertext`,
  };
}

// ---------------------------------------------------------------------------------------------------------------

async function untilReady(port: number, child: ChildProcess, what: string, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}) before it was ready`);
    }
    const probe = await httpGet(port, '/health/readiness').catch((err: unknown) => ({ status: 0, body: String(err) }));
    if (probe.status === 200) return;
    last = `${probe.status} ${probe.body}`.slice(0, 200);
    await sleep(500);
  }
  throw new Error(`${what} not ready after ${timeoutMs / 1000} s: ${last}`);
}

function exitedPromise(child: ChildProcess, what: string): Promise<never> {
  return new Promise<never>((_, reject) => {
    child.once('exit', (code, signal) => reject(new Error(`${what} exited (${code ?? signal}) during the run`)));
  });
}

function letters(count: number): string[] {
  const all = Array.from({ length: 26 }, (_, i) => String.fromCharCode(65 + i));
  for (let i = all.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return all.slice(0, count);
}

async function main(argv: string[]): Promise<void> {
  const options = parseOptions(argv);
  const config = loadConfig();
  const runId = randomUUID().slice(0, 8);
  const suffix = `bench-${runId}`;
  const taskQueue = `alerts-sync-${suffix}`;
  const topics = {
    offenderEvents: `nomis.offender-events.${suffix}`,
    domainEvents: `hmpps.domain-events.${suffix}`,
    dlq: `alerts-sync.dlq.${suffix}`,
  };
  const consumerGroup = `alerts-sync-router-${suffix}`;
  // Prison numbers <phase letter><4 digits><2 letters>: random letters keep reruns off earlier runs' prisoners.
  const phaseLetters = letters(4);
  const [s1, s2] = letters(2);
  const prisonNumbers = (phase: number, count: number) =>
    Array.from({ length: count }, (_, i) => `${phaseLetters[phase]}${String(i).padStart(4, '0')}${s1}${s2}`);

  const cleanup: Array<[string, () => Promise<unknown>]> = [];
  let cleanedUp = false;
  const cleanUp = async () => {
    if (cleanedUp) return;
    cleanedUp = true;
    progress('cleaning up');
    for (const [what, close] of cleanup.reverse()) {
      await close().catch((err: unknown) => progress(`cleanup of ${what} failed: ${String(err)}`));
    }
  };
  process.once('SIGINT', () => {
    progress('interrupted');
    void cleanUp().finally(() => process.exit(130));
  });

  const results: PhaseResult[] = [];
  let encryption: { on: boolean; detail: string } = { on: false, detail: 'not checked' };
  try {
    progress(`run ${runId}: task queue ${taskQueue}, Temporal ${config.temporal.address}`);
    const simulators = await startBenchSimulators();
    cleanup.push(['simulators', () => simulators.close()]);
    const db = createDb(config.postgres.url, { min: 0, max: options.concurrency + 5 });
    cleanup.push(['database', () => db.destroy()]);
    await migrateLatest(db);
    const apis = apiClientsFor(config, simulators.urls);
    cleanup.push(['API clients', () => apis.close()]);
    const temporalConnection = await connectClient(config);
    cleanup.push(['Temporal connection', () => temporalConnection.close()]);
    // A run cut short leaves workflows on a queue no worker will poll again: they would run until their timeouts.
    cleanup.push([
      'workflows left running',
      async () => {
        const left: string[] = [];
        const query = `TaskQueue = "${taskQueue}" AND ExecutionStatus = "Running"`;
        for await (const run of temporalConnection.client.workflow.list({ query })) left.push(run.workflowId);
        if (left.length > 0) progress(`terminating ${left.length} workflow(s) left running`);
        await mapConcurrently(left, 20, (id) =>
          temporalConnection.client.workflow
            .getHandle(id)
            .terminate('benchmark ended')
            .catch(() => undefined),
        );
      },
    ]);
    const kafka = kafkaClient(config, `alerts-sync-${suffix}`);
    const admin = kafka.admin();
    await admin.connect();
    cleanup.push(['Kafka admin', () => admin.disconnect()]);
    await admin.createTopics({
      topics: Object.values(topics).map((topic) => ({ topic, numPartitions: 3 })),
      waitForLeaders: true,
    });
    cleanup.push([
      'Kafka topics and group',
      async () => {
        await admin.deleteGroups([consumerGroup]).catch(() => undefined);
        await admin.deleteTopics({ topics: Object.values(topics) });
      },
    ]);
    const producer = kafka.producer();
    await producer.connect();
    cleanup.push(['Kafka producer', () => producer.disconnect()]);

    // As production runs it (Dockerfile): a bundle built ahead, so the worker's RSS holds no webpack.
    const bundleDir = await mkdtemp(path.join(os.tmpdir(), 'alerts-sync-bench-'));
    cleanup.push(['workflow bundle', () => rm(bundleDir, { recursive: true, force: true })]);
    progress('building the workflow bundle');
    const { codePath } = await buildWorkflowBundle(
      path.join(bundleDir, 'workflow-bundle.js'),
      new DefaultLogger('WARN', ({ level, message }) => progress(`bundle ${level}: ${message}`)),
    );

    const processes = new AppProcesses(
      appEnv({
        config,
        temporalAddress: config.temporal.address,
        taskQueue,
        topics,
        consumerGroup,
        apis: simulators.urls,
      }),
    );
    cleanup.push(['worker and router', () => processes.stopAll()]);
    const [workerPort, routerPort] = [await freePort(), await freePort()];
    // HEALTH_PORT would override both; emptied so each process takes its own.
    const workerEnv = { WORKER_HEALTH_PORT: String(workerPort), HEALTH_PORT: '', WORKFLOW_BUNDLE_PATH: codePath };
    const problems = encryptionProblems(config, processes.environment(workerEnv));
    if (problems.length > 0) throw new Error(`payload encryption is not on as in production: ${problems.join('; ')}`);
    progress('starting the worker and the router');
    // Compiled, as the image runs them (Dockerfile): tsx's compiler would add its own memory to the worker's RSS.
    progress('compiling (npm run build:dist)');
    const build = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
      cwd: path.resolve(__dirname, '..'),
      encoding: 'utf8',
    });
    if (build.status !== 0) throw new Error(`npm run build:dist failed:\n${build.stdout}${build.stderr}`);
    const worker = processes.start('workers/main.ts', workerEnv, 'dist');
    const router = processes.start(
      'clients/event-router.ts',
      { ROUTER_HEALTH_PORT: String(routerPort), HEALTH_PORT: '' },
      'dist',
    );
    const processDied = Promise.race([exitedPromise(worker, 'the worker'), exitedPromise(router, 'the router')]);
    processDied.catch(() => undefined); // raced by each phase; this only keeps a late exit from going unhandled
    await assertIsWorkerProcess(worker.pid!);
    const rss = new RssSampler(worker.pid!);
    rss.start();
    cleanup.push(['RSS sampler', async () => rss.stop()]);
    await Promise.all([untilReady(workerPort, worker, 'the worker'), untilReady(routerPort, router, 'the router')]);
    progress(`worker (pid ${worker.pid}, health :${workerPort}) and router (health :${routerPort}) ready`);
    rss.takePhasePeak();

    const bench: Bench = {
      options,
      config,
      runId,
      taskQueue,
      topics,
      consumerGroup,
      simulators,
      apis,
      db,
      client: temporalConnection.client,
      admin,
      producer,
      processDied,
      prisonNumbers,
    };

    const rssByPhase: Record<string, number> = {};
    const phase = async (
      name: string,
      unit: string,
      target: { text: string } | undefined,
      run: () => Promise<{ value: number; details: Record<string, unknown> }>,
      figure: (value: number) => string,
    ): Promise<PhaseResult> => {
      progress(`--- ${name}: starting`);
      let result: PhaseResult;
      try {
        const { value, details } = await run();
        result = { phase: name, unit, target: target?.text, value, figure: figure(value), details };
      } catch (err) {
        const refused = err instanceof PhaseRefused ? err.message : `the run failed: ${String(err)}`;
        result = {
          phase: name,
          unit,
          target: target?.text,
          refused,
          details: err instanceof PhaseRefused ? err.details : {},
        };
      }
      rssByPhase[name] = Math.round(rss.takePhasePeak() / MiB);
      progress(`--- ${name}: ${result.refused ? `REFUSED: ${result.refused}` : result.figure}`);
      results.push(result);
      return result;
    };

    const baseline = await phase(
      'no-orchestrator baseline',
      'resyncs/s',
      undefined,
      () => baselinePhase(bench),
      (v) => `${v.toFixed(1)} resyncs/s`,
    );
    const bulk = await phase(
      'bulk resync',
      'resyncs/s',
      TARGETS.bulk,
      () => bulkPhase(bench),
      (v) => `${v.toFixed(1)} resyncs/s`,
    );
    if (bulk.value !== undefined && baseline.value !== undefined) {
      bulk.details.ratioToBaseline = Number((bulk.value / baseline.value).toFixed(3));
      bulk.figure += ` (${(bulk.value / baseline.value).toFixed(2)} x baseline)`;
    } else if (bulk.figure) bulk.figure += ' (no baseline to compare with)';

    await phase(
      'event-driven latency',
      'ms',
      TARGETS.latency,
      () => latencyPhase(bench),
      (v) => `p99 ${v} ms`,
    ).then((r) => {
      const d = r.details;
      if (r.figure) {
        r.figure =
          `p50/p95/p99/max ${d.p50Ms}/${d.p95Ms}/${d.p99Ms}/${d.maxMs} ms ` +
          `(${d.events} events at ${d.achievedRate} ev/s)`;
      }
    });
    await phase(
      'router burst',
      'events/s',
      TARGETS.router,
      () => routerPhase(bench),
      (v) => `${v.toFixed(0)} events/s routed`,
    ).then((r) => {
      if (r.figure) r.figure += ` (${r.details.events} events, ${r.details.prisoners} prisoners)`;
    });

    encryption = await encryptionInHistory(bench, [
      bulkResyncWorkflowId(`bench-${runId}`),
      prisonerSyncWorkflowId(prisonNumbers(1, 1)[0]!),
      prisonerSyncWorkflowId(prisonNumbers(2, 1)[0]!),
    ]);
    progress(`payload encryption: ${encryption.detail}`);

    const died = await Promise.race([processDied.catch((err: unknown) => String(err)), sleep(0)]);
    const others = results.filter((r) => r.refused).map((r) => r.phase);
    const rssProblems = [
      ...(typeof died === 'string' ? [died] : []),
      ...(rss.samples === 0 ? ['no RSS sample could be read'] : []),
      ...(others.length > 0 ? [`the run it covers had refused phases: ${others.join(', ')}`] : []),
    ];
    const peakMiB = rss.peakBytes / MiB;
    results.push({
      phase: 'worker peak RSS',
      unit: 'MiB',
      target: TARGETS.rss.text,
      ...(rssProblems.length > 0
        ? { refused: rssProblems.join('; ') }
        : { value: peakMiB, figure: `${peakMiB.toFixed(0)} MiB (${rss.samples} samples every ${RSS_INTERVAL_MS} ms)` }),
      details: { pid: worker.pid, samples: rss.samples, peakMiBByPhase: rssByPhase },
    });
  } catch (err) {
    progress(`the benchmark could not run: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    results.push({
      phase: 'set-up',
      unit: '',
      refused: `the benchmark could not run: ${String(err)}`,
      details: {},
    });
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
  report(results, config, options, encryption.detail);
  if (options.json) await writeJson(options.json, results, config, options, encryption);
  if (results.some((r) => r.refused)) process.exitCode = 1;
}

function machine(): { cpus: number; cpuModel: string; memoryGiB: number; os: string } {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryGiB: Number((os.totalmem() / 1024 ** 3).toFixed(1)),
    os: `${os.type()} ${os.release()}`,
  };
}

function report(results: PhaseResult[], config: Config, options: Options, encryption: string): void {
  const m = machine();
  console.log('');
  console.log(`alerts-sync benchmark, ${new Date().toISOString()}`);
  console.log(`  machine      ${m.cpus} x ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.os}, node ${process.version}`);
  console.log(`  Temporal     ${config.temporal.address} (namespace ${config.temporal.namespace})`);
  console.log(`  encryption   ${encryption}`);
  console.log(
    `  options      --batch ${options.batch} --baseline-prisoners ${options.baselinePrisoners} ` +
      `--latency-seconds ${options.latencySeconds} --burst-events ${options.burstEvents} ` +
      `--burst-prisoners ${options.burstPrisoners} --concurrency ${options.concurrency} --rate ${options.rate}`,
  );
  console.log('');
  const rows = results.map((r) => {
    const met =
      r.value === undefined || r.refused
        ? ''
        : r.phase === 'bulk resync'
          ? TARGETS.bulk.met(r.value)
          : r.phase === 'event-driven latency'
            ? TARGETS.latency.met(r.value)
            : r.phase === 'router burst'
              ? TARGETS.router.met(r.value)
              : r.phase === 'worker peak RSS'
                ? TARGETS.rss.met(r.value)
                : '';
    return [
      r.phase,
      r.refused ? 'REFUSED' : (r.figure ?? ''),
      r.target ?? '-',
      met === '' ? '' : met ? 'met' : 'NOT met',
    ];
  });
  const header = ['phase', 'figure', 'target', 'target met'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of rows) console.log(line(row));
  const refused = results.filter((r) => r.refused);
  if (refused.length > 0) {
    console.log('');
    for (const r of refused) console.log(`REFUSED ${r.phase}: ${r.refused}`);
  }
}

async function writeJson(
  file: string,
  results: PhaseResult[],
  config: Config,
  options: Options,
  encryption: { on: boolean; detail: string },
): Promise<void> {
  const document = {
    at: new Date().toISOString(),
    machine: machine(),
    node: process.version,
    temporalAddress: config.temporal.address,
    encryption,
    options,
    // A refused phase keeps no numbers here either: only why it was refused.
    phases: results.map(({ phase, unit, target, value, figure, refused, details }) =>
      refused ? { phase, unit, target, refused } : { phase, unit, target, value, figure, details },
    ),
  };
  await writeFile(file, `${JSON.stringify(document, null, 2)}\n`);
  console.log(`figures written to ${file}`);
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
