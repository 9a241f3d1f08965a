import { randomInt } from 'node:crypto';
import type { Client, WorkflowExecutionDescription } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import type { Producer } from 'kafkajs';
import { createApiClients } from '../../adapters/clients';
import type { ApiClients } from '../../adapters/clients';
import type { Db } from '../../adapters/db';
import { changeSyncSwitches, listPrisonerMappings } from '../../adapters/db';
import { LiveSwitches } from '../../adapters/live-switches';
import { kafkaConnectionOptions } from '../../adapters/kafka';
import { dataConverter } from '../../adapters/temporal';
import { readInvariantViolations } from '../../adapters/sync-check';
import { EventRouter } from '../../clients/router/router';
import { mapConcurrently } from '../../common/concurrency';
import { prisonerSyncWorkflowId } from '../../common/ids';
import { createLogger } from '../../common/logger';
import type { SyncSwitches } from '../../common/sync-switches';
import { startSimulators } from '../../simulators';
import type { Simulators } from '../../simulators';
import { SimulatorControl } from '../../simulators/control-client';
import { randomPrisonNumber } from './prisoners';
import type { PrisonerSyncResult } from '../../workflows/prisoner-sync';
import { createSyncWorker } from '../../workers/worker';
import { config, eventually, kafka, migratedDb, temporalClient, uniqueSuffix, workerConnection } from './stack';

/**
 * The whole system for one test file, on the real stack: simulators (real HTTP servers publishing to the real
 * Kafka), the worker and the event router, with topics, consumer group and task queue of its own.
 */
export interface Harness {
  control: SimulatorControl;
  simulators: Simulators;
  db: Db;
  client: Client;
  apis: ApiClients;
  router: EventRouter;
  topics: { offenderEvents: string; domainEvents: string; dlq: string };
  taskQueue: string;
  /** For producing raw messages (malformed, duplicated) straight onto the topics. */
  producer: Producer;
  /** Flips switches for this harness's worker and router, as `npm run switches` does, and waits until in force. */
  setSwitches(change: Partial<SyncSwitches>): Promise<void>;
  close(): Promise<void>;
}

const DEFAULT_SWITCHES: SyncSwitches = { resyncSource: 'NOMIS', nomisToDps: true, dpsToNomis: true };
const HARNESS_ACTOR = { changedBy: 'test harness', reason: 'test set-up' };
const SWITCHES_CACHE_MS = 300;

export interface HarnessOptions {
  /** Where the router reaches Temporal (e.g. through a proxy the test can cut); default: the test stack. */
  routerTemporalAddress?: string;
  /** The switches recorded for the harness's own task queue at start; default: both directions, from NOMIS. */
  switches?: Partial<SyncSwitches>;
  /** The mapping database of the harness's worker, e.g. one the test stops; default: the test stack's. */
  databaseUrl?: string;
}

/** NOMIS, DPS and Auth simulators publishing to these topics of the test stack's Kafka, on free ports. */
export function startTestSimulators(topics: { offenderEvents: string; domainEvents: string }): Promise<Simulators> {
  return startSimulators({
    nomisPort: 0,
    dpsPort: 0,
    authPort: 0,
    kafka: { ...kafkaConnectionOptions(config), topics },
    // The mapping table is shared by every test file and run: keep this simulator's bookingIds apart.
    firstBookingId: randomInt(2_000_000, 2_000_000_000),
  });
}

/** Topics, task queue and a suffix for the rest, of this harness alone. */
function harnessNames(name: string) {
  const suffix = `${name}-${uniqueSuffix()}`;
  const topics = {
    offenderEvents: `nomis.offender-events.${suffix}`,
    domainEvents: `hmpps.domain-events.${suffix}`,
    dlq: `alerts-sync.dlq.${suffix}`,
  };
  return { suffix, topics, taskQueue: `alerts-sync-${suffix}` };
}

export async function startHarness(name: string, options: HarnessOptions = {}): Promise<Harness> {
  const { suffix, topics, taskQueue } = harnessNames(name);
  const simulators = await startTestSimulators(topics);
  const control = new SimulatorControl(simulators.urls);
  const db = await migratedDb(options.databaseUrl);
  const apis = createApiClients({
    ...config.apis,
    nomisUrl: simulators.urls.nomis,
    dpsUrl: simulators.urls.dps,
    authUrl: simulators.urls.auth,
    timeoutMs: 5_000,
  });
  // Recorded under the harness's task queue, so no other file's switches are touched; read as the product does.
  await changeSyncSwitches(
    db,
    taskQueue,
    { ...DEFAULT_SWITCHES, ...options.switches },
    HARNESS_ACTOR,
    DEFAULT_SWITCHES,
  );
  const switches = LiveSwitches.fromDatabase(db, taskQueue, DEFAULT_SWITCHES, SWITCHES_CACHE_MS);
  const temporal = await temporalClient();
  const connection = await workerConnection();
  const worker: Worker = await createSyncWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue,
    deps: { db, nomis: apis.nomis, dps: apis.dps, switches: () => switches.get() },
    dataConverter: dataConverter(config),
  });
  const workerRun = worker.run();
  const broker = kafka(`harness-${suffix}`);
  const routerTemporal = options.routerTemporalAddress
    ? await temporalClient(options.routerTemporalAddress)
    : undefined;
  const router = new EventRouter({
    kafka: broker,
    temporal: (routerTemporal ?? temporal).client,
    temporalRetry: { initialMs: 200, maxMs: 1_000, deadlineMs: 2_000 },
    taskQueue,
    groupId: `alerts-sync-router-${suffix}`,
    topics,
    switches: () => switches.get(),
    logger: createLogger('router', process.env.TEST_LOG_LEVEL === 'debug' ? 'debug' : 'warn'),
  });
  await router.start();
  const producer = broker.producer();
  await producer.connect();

  return {
    control,
    simulators,
    db,
    client: temporal.client,
    apis,
    router,
    topics,
    taskQueue,
    producer,
    setSwitches: async (change) => {
      await changeSyncSwitches(db, taskQueue, change, HARNESS_ACTOR, DEFAULT_SWITCHES);
      // What a switches command waits for: every cached copy has expired.
      await new Promise((resolve) => setTimeout(resolve, SWITCHES_CACHE_MS));
    },
    close: async () => {
      await producer.disconnect();
      await router.stop();
      await routerTemporal?.close();
      worker.shutdown();
      await workerRun;
      await connection.close();
      await temporal.close();
      await apis.close();
      await control.close();
      await simulators.close();
      await db.destroy();
    },
  };
}

/** Waits until the prisoner's sync workflow has a run that started after `since` and has closed. */
export async function waitForPrisonerSync(
  harness: Harness,
  prisonNumber: string,
  since: Date,
  timeoutMs = 60_000,
): Promise<WorkflowExecutionDescription> {
  const handle = harness.client.workflow.getHandle(prisonerSyncWorkflowId(prisonNumber));
  return eventually(
    async () => {
      const description = await handle.describe();
      const closed = description.status.name !== 'RUNNING';
      return closed && description.startTime >= since ? description : undefined;
    },
    `the syncs of ${prisonNumber} to finish`,
    timeoutMs,
  );
}

/** Contract §6 for one prisoner, read through the same public APIs the sync uses. */
export async function invariantViolations(
  harness: Pick<Harness, 'apis' | 'db'>,
  prisonNumber: string,
): Promise<string[]> {
  return (await readInvariantViolations({ ...harness.apis, db: harness.db }, prisonNumber)).violations;
}

/** A merged-away prisoner: gone from NOMIS, no alerts in DPS, no mapping rows. */
export async function removedPrisonerState(harness: Harness, prisonNumber: string) {
  return {
    dpsAlerts: await harness.apis.dps.getPrisonerAlerts(prisonNumber),
    mappings: await listPrisonerMappings(harness.db, prisonNumber),
  };
}

/** The latest run's result of the prisoner's sync workflow. */
export function prisonerSyncResult(harness: Harness, prisonNumber: string): Promise<PrisonerSyncResult> {
  return harness.client.workflow.getHandle(prisonerSyncWorkflowId(prisonNumber)).result();
}

const SEED_CODES = ['XA', 'HA', 'XSA', 'HS', 'RSS', 'VI', 'PEEP', 'XEL', 'RCP'];

/** `count` new prisoners in the NOMIS simulator at `prisonId`, each with 1-3 alerts of distinct codes. */
export async function seedPrisoners(
  harness: Pick<Harness, 'control'>,
  count: number,
  prisonId: string,
): Promise<string[]> {
  const prisonNumbers = new Set<string>();
  while (prisonNumbers.size < count) prisonNumbers.add(randomPrisonNumber());
  const all = [...prisonNumbers];
  for (const [i, offenderNo] of all.entries()) {
    const alerts = SEED_CODES.slice(i % 5, (i % 5) + 1 + (i % 3)).map((alertCode, n) => ({
      alertCode,
      date: `2024-0${1 + n}-1${i % 10}`,
      comment: `seeded ${alertCode}`,
    }));
    await harness.control.createPrisoner({ offenderNo, prisonId, alerts });
  }
  return all;
}

/** Prisoners for whom contract §6 does not hold, checked a few at a time. */
export async function prisonersOutOfSync(
  harness: Pick<Harness, 'apis' | 'db'>,
  prisonNumbers: string[],
): Promise<string[]> {
  const violations = await mapConcurrently(prisonNumbers, 10, (p) => invariantViolations(harness, p));
  return prisonNumbers.filter((_, i) => (violations[i]?.length ?? 0) > 0).sort();
}

export interface DeadLetter {
  value: string;
  headers: Record<string, string>;
}

/** Reads the harness's dead-letter topic from the start into a list the test can search; stop() when done. */
export async function readDeadLetters(harness: Harness): Promise<{ letters: DeadLetter[]; stop: () => Promise<void> }> {
  const letters: DeadLetter[] = [];
  const consumer = kafka(`dlq-${uniqueSuffix()}`).consumer({ groupId: `dlq-reader-${uniqueSuffix()}` });
  await consumer.connect();
  await consumer.subscribe({ topic: harness.topics.dlq, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
      letters.push({ value: message.value?.toString() ?? '', headers });
    },
  });
  return { letters, stop: () => consumer.disconnect() };
}

/** Waits until the first fault rule has fired: the call it slows is in progress. */
export async function whenFaultFired(harness: Harness, what: string): Promise<void> {
  await eventually(async () => ((await harness.control.faults()).rules[0]?.fired ?? 0) > 0 || undefined, what);
}
