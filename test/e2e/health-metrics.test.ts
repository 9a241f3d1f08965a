import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { once } from 'node:events';
import path from 'node:path';
import { kafkaConnectionOptions } from '../../adapters/kafka';
import { startSimulators } from '../../simulators';
import type { Simulators } from '../../simulators';
import { SimulatorControl } from '../../simulators/control-client';
import { randomPrisonNumber } from '../helpers/prisoners';
import { config, eventually, uniqueSuffix } from '../helpers/stack';

// The worker and the router as they run in a pod: real processes, probed and scraped over HTTP, and stopped
// with SIGTERM as Kubernetes does.

jest.setTimeout(120_000);

const root = path.resolve(__dirname, '..', '..');
const suffix = `health-${uniqueSuffix()}`;
const topics = {
  offenderEvents: `nomis.offender-events.${suffix}`,
  domainEvents: `hmpps.domain-events.${suffix}`,
  dlq: `alerts-sync.dlq.${suffix}`,
};
const workerPort = randomInt(41_000, 42_000);
const routerPort = workerPort + 1000;
let simulators: Simulators;
let control: SimulatorControl;
const children: ChildProcess[] = [];
let worker: ChildProcess;
let router: ChildProcess;

function start(entry: string, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: root,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: config.temporal.address,
      KAFKA_BROKERS: config.kafka.brokers.join(','),
      DATABASE_URL: config.postgres.url,
      TEMPORAL_TASK_QUEUE: `alerts-sync-${suffix}`,
      KAFKA_TOPIC_OFFENDER_EVENTS: topics.offenderEvents,
      KAFKA_TOPIC_DOMAIN_EVENTS: topics.domainEvents,
      KAFKA_TOPIC_DLQ: topics.dlq,
      KAFKA_CONSUMER_GROUP: `alerts-sync-router-${suffix}`,
      NOMIS_API_URL: simulators.urls.nomis,
      DPS_API_URL: simulators.urls.dps,
      HMPPS_AUTH_URL: simulators.urls.auth,
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Kept for the failure message; not echoed, so a green run stays quiet.
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  child.on('exit', (code) => {
    if (code !== 0 && code !== null) console.error(`${entry} exited ${code}:\n${output}`);
  });
  children.push(child);
  return child;
}

async function get(port: number, p: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${p}`, { signal: AbortSignal.timeout(5_000) });
  return { status: res.status, body: await res.text() };
}

/** Sum of every sample of `name` whose labels include all of `labels`. */
function sample(metrics: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

beforeAll(async () => {
  simulators = await startSimulators({
    nomisPort: 0,
    dpsPort: 0,
    authPort: 0,
    kafka: { ...kafkaConnectionOptions(config), topics },
    firstBookingId: randomInt(2_000_000, 2_000_000_000),
  });
  control = new SimulatorControl(simulators.urls);
  worker = start('workers/main.ts', { WORKER_HEALTH_PORT: String(workerPort), SHUTDOWN_GRACE: '10s' });
  router = start('clients/event-router.ts', { ROUTER_HEALTH_PORT: String(routerPort) });
});

afterAll(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  }
  await simulators?.close();
});

test('both processes are live, then ready once connected (the router once in its group)', async () => {
  await eventually(
    async () => ((await get(workerPort, '/health/liveness')).status === 200 ? true : undefined),
    'worker live',
  );
  await eventually(
    async () => ((await get(routerPort, '/health/liveness')).status === 200 ? true : undefined),
    'router live',
  );
  await eventually(
    async () => ((await get(workerPort, '/health/readiness')).status === 200 ? true : undefined),
    'worker ready',
    60_000,
  );
  await eventually(
    async () => ((await get(routerPort, '/health/readiness')).status === 200 ? true : undefined),
    'router ready',
    60_000,
  );
  expect((await get(workerPort, '/nothing')).status).toBe(404);
});

test('/metrics has the SDK metrics and the sync own, and they count an event through to its resync', async () => {
  const before = await get(workerPort, '/metrics');
  expect(before.status).toBe(200);
  expect(before.body).toContain('temporal_worker_task_slots_available');
  expect(before.body).toContain('alerts_sync_process_resident_memory_bytes');

  const prisonNumber = randomPrisonNumber();
  await control.createPrisoner({ offenderNo: prisonNumber, alerts: [{ alertCode: 'XA', date: '2024-01-10' }] });
  await control.newBooking(prisonNumber); // publishes prisoner.received NEW_ADMISSION: a resync

  const routerMetrics = await eventually(async () => {
    const { body } = await get(routerPort, '/metrics');
    const consumed = sample(body, 'alerts_sync_router_events_consumed_total', { topic: topics.domainEvents });
    return consumed >= 1 && sample(body, 'alerts_sync_router_sync_requests_total', { kind: 'resync' }) >= 1
      ? body
      : undefined;
  }, 'the router to count the event and its resync request');
  expect(routerMetrics).toContain('alerts_sync_router_consumer_lag{');
  expect(routerMetrics).toContain('alerts_sync_process_cpu_seconds_total');

  const workerMetrics = await eventually(
    async () => {
      const { body } = await get(workerPort, '/metrics');
      return sample(body, 'alerts_sync_workflows_total', { outcome: 'completed' }) >= 1 ? body : undefined;
    },
    'a completed workflow in the worker metrics',
    60_000,
  );
  expect(workerMetrics).toMatch(/alerts_sync_workflows_total\{[^}]*workflowType="prisoner\w+Workflow"/);
});

test('SIGTERM: the worker turns unready at once, lets the activity in hand finish, and exits 0 within its grace', async () => {
  // A NOMIS call slowed to 4 s: the resync's activity is in flight when the signal arrives.
  const prisonNumber = randomPrisonNumber();
  await control.createPrisoner({ offenderNo: prisonNumber, alerts: [{ alertCode: 'XA', date: '2024-01-10' }] });
  await control.setFaults([{ api: 'nomis', path: prisonNumber, latencyMs: 4_000, times: 1 }]);
  await control.newBooking(prisonNumber);
  await eventually(
    async () => ((await control.faults()).rules[0]?.fired ?? 0) > 0 || undefined,
    'the slowed NOMIS call to start',
  );

  const exited = once(worker, 'exit');
  const signalled = Date.now();
  worker.kill('SIGTERM');
  // Either a 503 or a closed port: both take the pod out of the service.
  await eventually(async () => {
    const probe = await get(workerPort, '/health/readiness').catch(() => ({ status: 503, body: '' }));
    return probe.status === 503 ? true : undefined;
  }, 'the worker to turn unready');
  const [code] = (await exited) as [number | null];
  const took = Date.now() - signalled;
  expect(code).toBe(0);
  // It waited for the slowed call rather than abandoning it, and still left well inside SHUTDOWN_GRACE (10s).
  expect(took).toBeGreaterThan(1_500);
  expect(took).toBeLessThan(10_000);
  await control.setFaults([]);
});

test('SIGTERM: the router leaves its group and exits 0', async () => {
  const exited = once(router, 'exit');
  router.kill('SIGTERM');
  await eventually(async () => {
    const probe = await get(routerPort, '/health/readiness').catch(() => ({ status: 503, body: '' }));
    return probe.status === 503 ? true : undefined;
  }, 'the router to turn unready');
  const [code] = (await exited) as [number | null];
  expect(code).toBe(0);
});
