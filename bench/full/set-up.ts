import type { ChildProcess } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { randomInt, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { DefaultLogger } from '@temporalio/worker';
import { createDb, migrateLatest } from '../../adapters/db';
import { freePort } from '../../adapters/health-server';
import { kafkaClient } from '../../adapters/kafka';
import { connectClient } from '../../adapters/temporal';
import type { Config } from '../../common/config';
import { mapConcurrently } from '../../common/concurrency';
import { AppProcesses, appEnv, httpGet } from '../../infra/app-processes';
import type { Simulators } from '../../simulators';
import { buildWorkflowBundle } from '../../workers/build-bundle';
import type { Cleanups } from '../cleanups';
import { apiClientsFor, startBenchSimulators } from '../resync-measure';
import type { Bench } from './context';
import { progress } from './context';
import { encryptionProblems } from './encryption';
import type { Options } from './options';
import { assertIsWorkerProcess, RssSampler } from './worker-rss';

// Everything the full benchmark runs against, on the running stack: simulators in this process; its own task
// queue, topics and consumer group; the worker and the router as separate real processes, compiled, as the
// image runs them. Each thing opened is added to `cleanups` as it opens, so a failed set-up closes what it had.

type Names = Pick<Bench, 'runId' | 'taskQueue' | 'topics' | 'consumerGroup' | 'prisonNumbers'>;

function runNames(): Names {
  const runId = randomUUID().slice(0, 8);
  const suffix = `bench-${runId}`;
  // Prison numbers <phase letter><4 digits><2 letters>: random letters keep reruns off earlier runs' prisoners.
  const phaseLetters = letters(4);
  const [s1, s2] = letters(2);
  return {
    runId,
    taskQueue: `alerts-sync-${suffix}`,
    topics: {
      offenderEvents: `nomis.offender-events.${suffix}`,
      domainEvents: `hmpps.domain-events.${suffix}`,
      dlq: `alerts-sync.dlq.${suffix}`,
    },
    consumerGroup: `alerts-sync-router-${suffix}`,
    prisonNumbers: (phase, count) =>
      Array.from({ length: count }, (_, i) => `${phaseLetters[phase]}${String(i).padStart(4, '0')}${s1}${s2}`),
  };
}

function letters(count: number): string[] {
  const all = Array.from({ length: 26 }, (_, i) => String.fromCharCode(65 + i));
  for (let i = all.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return all.slice(0, count);
}

export async function setUpBench(
  options: Options,
  config: Config,
  cleanups: Cleanups,
): Promise<{ bench: Bench; rss: RssSampler }> {
  const names = runNames();
  progress(`run ${names.runId}: task queue ${names.taskQueue}, Temporal ${config.temporal.address}`);
  const simulators = await startBenchSimulators();
  cleanups.add('simulators', () => simulators.close());
  const db = createDb(config.postgres.url, { min: 0, max: options.concurrency + 5 });
  cleanups.add('database', () => db.destroy());
  await migrateLatest(db);
  const apis = apiClientsFor(config, simulators.urls);
  cleanups.add('API clients', () => apis.close());
  const temporalConnection = await connectClient(config);
  cleanups.add('Temporal connection', () => temporalConnection.close());
  const client = temporalConnection.client;
  // A run cut short leaves workflows on a queue no worker will poll again: they would run until their timeouts.
  cleanups.add('workflows left running', () => terminateLeftRunning(client, names.taskQueue));
  const { admin, producer } = await openKafka(config, names, cleanups);
  const { processDied, rss } = await startWorkerAndRouter(config, names, simulators, cleanups);
  return {
    bench: { options, config, ...names, simulators, apis, db, client, admin, producer, processDied },
    rss,
  };
}

async function terminateLeftRunning(client: Client, taskQueue: string): Promise<void> {
  const left: string[] = [];
  const query = `TaskQueue = "${taskQueue}" AND ExecutionStatus = "Running"`;
  for await (const run of client.workflow.list({ query })) left.push(run.workflowId);
  if (left.length > 0) progress(`terminating ${left.length} workflow(s) left running`);
  await mapConcurrently(left, 20, (id) =>
    client.workflow
      .getHandle(id)
      .terminate('benchmark ended')
      .catch(() => undefined),
  );
}

/** The run's own topics, deleted with its consumer group when it ends, and an admin and a producer on them. */
async function openKafka(config: Config, names: Names, cleanups: Cleanups): Promise<Pick<Bench, 'admin' | 'producer'>> {
  const kafka = kafkaClient(config, `alerts-sync-bench-${names.runId}`);
  const admin = kafka.admin();
  await admin.connect();
  cleanups.add('Kafka admin', () => admin.disconnect());
  const topics = Object.values(names.topics);
  await admin.createTopics({ topics: topics.map((topic) => ({ topic, numPartitions: 3 })), waitForLeaders: true });
  cleanups.add('Kafka topics and group', async () => {
    await admin.deleteGroups([names.consumerGroup]).catch(() => undefined);
    await admin.deleteTopics({ topics });
  });
  const producer = kafka.producer();
  await producer.connect();
  cleanups.add('Kafka producer', () => producer.disconnect());
  return { admin, producer };
}

/** Both started and ready, the worker's RSS sampled from then on; `processDied` rejects if either exits. */
async function startWorkerAndRouter(
  config: Config,
  names: Names,
  simulators: Simulators,
  cleanups: Cleanups,
): Promise<{ processDied: Promise<never>; rss: RssSampler }> {
  const bundlePath = await buildBundle(cleanups);
  const { taskQueue, topics, consumerGroup } = names;
  const env = appEnv({
    config,
    temporalAddress: config.temporal.address,
    taskQueue,
    topics,
    consumerGroup,
    apis: simulators.urls,
  });
  const processes = new AppProcesses(env);
  cleanups.add('worker and router', () => processes.stopAll());
  const [workerPort, routerPort] = [await freePort(), await freePort()];
  // HEALTH_PORT would override both; emptied so each process takes its own.
  const workerEnv = { WORKER_HEALTH_PORT: String(workerPort), HEALTH_PORT: '', WORKFLOW_BUNDLE_PATH: bundlePath };
  const problems = encryptionProblems(config, processes.environment(workerEnv));
  if (problems.length > 0) throw new Error(`payload encryption is not on as in production: ${problems.join('; ')}`);
  progress('starting the worker and the router');
  compileDist();
  const worker = processes.start('workers/main.ts', workerEnv, 'dist');
  const routerEnv = { ROUTER_HEALTH_PORT: String(routerPort), HEALTH_PORT: '' };
  const router = processes.start('clients/event-router.ts', routerEnv, 'dist');
  const processDied = Promise.race([exitedPromise(worker, 'the worker'), exitedPromise(router, 'the router')]);
  processDied.catch(() => undefined); // raced by each phase; this only keeps a late exit from going unhandled
  await assertIsWorkerProcess(worker.pid!);
  const rss = new RssSampler(worker.pid!);
  rss.start();
  cleanups.add('RSS sampler', async () => rss.stop());
  await Promise.all([untilReady(workerPort, worker, 'the worker'), untilReady(routerPort, router, 'the router')]);
  progress(`worker (pid ${worker.pid}, health :${workerPort}) and router (health :${routerPort}) ready`);
  rss.takePhasePeak();
  return { processDied, rss };
}

/** As production runs it (Dockerfile): a bundle built ahead, so the worker's RSS holds no webpack. */
async function buildBundle(cleanups: Cleanups): Promise<string> {
  const bundleDir = await mkdtemp(path.join(os.tmpdir(), 'alerts-sync-bench-'));
  cleanups.add('workflow bundle', () => rm(bundleDir, { recursive: true, force: true }));
  progress('building the workflow bundle');
  const { codePath } = await buildWorkflowBundle(
    path.join(bundleDir, 'workflow-bundle.js'),
    new DefaultLogger('WARN', ({ level, message }) => progress(`bundle ${level}: ${message}`)),
  );
  return codePath;
}

/** Compiled, as the image runs them (Dockerfile): tsx's compiler would add its own memory to the worker's RSS. */
function compileDist(): void {
  progress('compiling (npm run build:dist)');
  const build = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: path.resolve(__dirname, '..', '..'),
    encoding: 'utf8',
  });
  if (build.status !== 0) throw new Error(`npm run build:dist failed:\n${build.stdout}${build.stderr}`);
}

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
