import type { ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { once } from 'node:events';
import type { SimulatorControl } from '../../simulators/control-client';
import type { AppDeployment } from '../helpers/e2e';
import { deploymentNames, startAppDeployment } from '../helpers/e2e';
import { httpGet, untilHealthy, untilUnready } from '../helpers/app-processes';
import { randomPrisonNumber } from '../helpers/prisoners';
import { config, eventually } from '../helpers/stack';

// The worker and the router as they run in a pod: real processes, probed and scraped over HTTP, and stopped
// with SIGTERM as Kubernetes does.

jest.setTimeout(120_000);

const names = deploymentNames('health');
const { topics } = names;
const workerPort = randomInt(41_000, 42_000);
const routerPort = workerPort + 1000;
let deployment: AppDeployment;
let control: SimulatorControl;
let worker: ChildProcess;
let router: ChildProcess;

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
  deployment = await startAppDeployment(names, config.temporal.address);
  control = deployment.control;
  const { processes } = deployment;
  worker = processes.start('workers/main.ts', { WORKER_HEALTH_PORT: String(workerPort), SHUTDOWN_GRACE: '10s' });
  router = processes.start('clients/event-router.ts', { ROUTER_HEALTH_PORT: String(routerPort) });
});

afterAll(async () => {
  await deployment?.processes.stopAll();
  await deployment?.simulators.close();
});

test('both processes are live, then ready once connected (the router once in its group)', async () => {
  await untilHealthy(workerPort, 'liveness', 'worker live');
  await untilHealthy(routerPort, 'liveness', 'router live');
  await untilHealthy(workerPort, 'readiness', 'worker ready');
  await untilHealthy(routerPort, 'readiness', 'router ready');
  expect((await httpGet(workerPort, '/nothing')).status).toBe(404);
});

test('/metrics has the SDK metrics and the sync own, and they count an event through to its resync', async () => {
  const before = await httpGet(workerPort, '/metrics');
  expect(before.status).toBe(200);
  expect(before.body).toContain('temporal_worker_task_slots_available');
  expect(before.body).toContain('alerts_sync_process_resident_memory_bytes');

  const prisonNumber = randomPrisonNumber();
  await control.createPrisoner({ offenderNo: prisonNumber, alerts: [{ alertCode: 'XA', date: '2024-01-10' }] });
  await control.newBooking(prisonNumber); // publishes prisoner.received NEW_ADMISSION: a resync

  const routerMetrics = await eventually(async () => {
    const { body } = await httpGet(routerPort, '/metrics');
    const consumed = sample(body, 'alerts_sync_router_events_consumed_total', { topic: topics.domainEvents });
    return consumed >= 1 && sample(body, 'alerts_sync_router_sync_requests_total', { kind: 'resync' }) >= 1
      ? body
      : undefined;
  }, 'the router to count the event and its resync request');
  expect(routerMetrics).toContain('alerts_sync_router_consumer_lag{');
  expect(routerMetrics).toContain('alerts_sync_process_cpu_seconds_total');

  const workerMetrics = await eventually(
    async () => {
      const { body } = await httpGet(workerPort, '/metrics');
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
  await untilUnready(workerPort, 'the worker to turn unready');
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
  await untilUnready(routerPort, 'the router to turn unready');
  const [code] = (await exited) as [number | null];
  expect(code).toBe(0);
});
