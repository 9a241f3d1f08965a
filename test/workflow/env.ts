import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { bundleWorkflowCode, Runtime, DefaultLogger, Worker } from '@temporalio/worker';
import type { SyncActivities } from '../../activities';
import { createInPlaceResyncActivities } from '../../activities/in-place-resync';
import { SEARCH_ATTRIBUTES } from '../../common/search-attributes';
import { WORKFLOWS_PATH } from '../../workers/worker';

// Workflows with mocked activities on Temporal's time-skipping test server: the workflow logic in seconds, timers
// skipped. The server is the Java test server infra/provision.sh fetches from Maven Central (no download at test
// time); the e2e project keeps what only the real stack can show.

const TEST_SERVER = path.resolve(__dirname, '..', '..', '.stack', 'bin', 'temporal-test-server');

/** Only what a test's workflows call; a call to any other activity fails the test's workflow visibly. */
export type MockActivities = Partial<SyncActivities>;

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

export async function startTestEnvironment(): Promise<TestWorkflowEnvironment> {
  if (!fs.existsSync(TEST_SERVER)) {
    throw new Error(`${TEST_SERVER} is missing: run bash infra/provision.sh (bin/test does) to fetch it`);
  }
  // The worker's own logs would drown the test output; warnings and errors still show.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: TEST_SERVER } },
  });
  // The workflows set them, as on the stack (infra registers them there); every one is a Keyword.
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(
      SEARCH_ATTRIBUTES.map((sa) => [sa.name, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
    ),
  });
  return env;
}

/**
 * Runs `body` with a worker on its own task queue executing the real workflows with these activities. The
 * workflows are bundled once per test file.
 */
export async function withWorker<T>(
  env: TestWorkflowEnvironment,
  activities: MockActivities,
  body: (taskQueue: string) => Promise<T>,
): Promise<T> {
  bundle ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') });
  const taskQueue = `workflow-test-${randomUUID().slice(0, 8)}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: await bundle,
    activities: { ...inPlaceResyncOf(activities), ...activities },
  });
  return worker.runUntil(body(taskQueue));
}

/** As createActivities builds it: the in-place resync calls the very step activities the test gives. */
function inPlaceResyncOf(activities: MockActivities): MockActivities {
  const missing = (name: string) => () => Promise.reject(new Error(`${name} is not mocked in this test`));
  return createInPlaceResyncActivities({
    getCurrentBookingAlerts: activities.getCurrentBookingAlerts ?? missing('getCurrentBookingAlerts'),
    resyncDpsAlerts: activities.resyncDpsAlerts ?? missing('resyncDpsAlerts'),
    replaceMappings: activities.replaceMappings ?? missing('replaceMappings'),
    reportResyncFinished: activities.reportResyncFinished ?? missing('reportResyncFinished'),
  });
}
