import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Client } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import type { ApiClients } from '../../adapters/clients';
import type { Db } from '../../adapters/db';
import { listPrisonerMappings } from '../../adapters/db';
import { readInvariantViolations } from '../../adapters/sync-check';
import { dataConverter, requestResync } from '../../adapters/temporal';
import { prisonerSyncWorkflowId } from '../../common/ids';
import { startSimulators } from '../../simulators';
import type { Simulators } from '../../simulators';
import { SimulatorControl } from '../../simulators/control-client';
import type { PrisonerSyncResult } from '../../workflows/prisoner-sync';
import { createSyncWorker } from '../../workers/worker';
import { simulatorApiClients, startTestWorker } from '../helpers/e2e';
import { randomPrisonNumber } from '../helpers/prisoners';
import { config, migratedDb, temporalClient, uniqueSuffix } from '../helpers/stack';

// The production image's way of running workflows (Dockerfile): `npm run build:workflows` writes the bundle to
// WORKFLOW_BUNDLE_PATH at build time, and the worker starts from that file instead of bundling workflows/. This
// test builds it the same way and runs a prisoner's resync (prisonerSyncWorkflow and its prisonerResyncWorkflow
// child) on a worker started from it, against the real stack.

const repoRoot = path.resolve(__dirname, '..', '..');
const taskQueue = `workflow-bundle-${uniqueSuffix()}`;

let dir: string;
let bundlePath: string;
let simulators: Simulators;
let control: SimulatorControl;
let apis: ApiClients;
let db: Db;
let temporal: { client: Client; close: () => Promise<void> };
let connection: NativeConnection;
let worker: Awaited<ReturnType<typeof startTestWorker>>;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'workflow-bundle-'));
  bundlePath = path.join(dir, 'workflow-bundle.js');
  await promisify(execFile)('npm', ['run', '--silent', 'build:workflows'], {
    cwd: repoRoot,
    env: { ...process.env, WORKFLOW_BUNDLE_PATH: bundlePath },
  });

  simulators = await startSimulators({ nomisPort: 0, dpsPort: 0, authPort: 0, kafka: null });
  control = new SimulatorControl(simulators.urls);
  apis = simulatorApiClients(simulators.urls, 5_000);
  db = await migratedDb();
  temporal = await temporalClient();
  worker = await startTestWorker({
    taskQueue,
    deps: { db, nomis: apis.nomis, dps: apis.dps },
    workflowBundlePath: bundlePath,
  });
  connection = worker.connection;
}, 180_000);

afterAll(async () => {
  await worker?.stop();
  await temporal?.close();
  await apis?.close();
  await simulators?.close();
  await db?.destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('a worker started from the pre-built bundle runs a prisoner resync to completion', async () => {
  const prisonNumber = randomPrisonNumber();
  await control.createPrisoner({
    offenderNo: prisonNumber,
    alerts: [
      { alertCode: 'XA', date: '2024-01-10', comment: 'set fire to cell' },
      { alertCode: 'HA', date: '2024-02-01', comment: 'ACCT opened' },
    ],
  });

  await requestResync(temporal.client, taskQueue, prisonNumber, 'workflow bundle test');
  const result: PrisonerSyncResult = await temporal.client.workflow
    .getHandle(prisonerSyncWorkflowId(prisonNumber))
    .result();

  expect(result.prisonNumber).toBe(prisonNumber);
  expect(result.failedResyncs).toEqual([]);
  expect(result.passes).toEqual([expect.objectContaining({ alertCount: 2, reasons: ['workflow bundle test'] })]);
  const dpsAlerts = await apis.dps.getPrisonerAlerts(prisonNumber);
  expect(dpsAlerts.map((alert) => alert.alertCode.code).sort()).toEqual(['HA', 'XA']);
  expect(await listPrisonerMappings(db, prisonNumber)).toHaveLength(2);
  expect((await readInvariantViolations({ ...apis, db }, prisonNumber)).violations).toEqual([]);
});

test('a worker given a bundle path runs that file, never workflows/ (a missing bundle stops it)', async () => {
  const missing = path.join(dir, 'no-such-bundle.js');
  await expect(
    createSyncWorker({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: `${taskQueue}-missing`,
      deps: { db, nomis: apis.nomis, dps: apis.dps },
      dataConverter: dataConverter(config),
      workflowBundlePath: missing,
    }),
  ).rejects.toThrow(/ENOENT/);
});
