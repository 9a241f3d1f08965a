import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { logLevel } from 'kafkajs';
import { kafkaClient } from '../adapters/kafka';
import { connectTemporal } from '../adapters/temporal';
import type { Config } from '../common/config';
import type { ServiceSpec } from './processes';
import { REPO_ROOT, httpOk, processManager } from './stack';

// The sync's own long-running processes, supervised like the infrastructure so `bin/start` can return.

// Order matters: the simulators are the APIs the worker calls; the router feeds the worker.
export const APP_SERVICES: string[] = ['simulators', 'codec-server', 'worker', 'router'];

function tsxService(name: string, entry: string, healthy: () => Promise<boolean>, describe: () => string): ServiceSpec {
  return {
    name,
    command: process.execPath,
    args: ['--import', 'tsx', path.join(REPO_ROOT, entry)],
    cwd: REPO_ROOT,
    healthy,
    describe,
    startTimeoutMs: 90_000,
  };
}

export function appSpecs(config: Config, only: string[] = APP_SERVICES): ServiceSpec[] {
  const specs: Record<string, () => ServiceSpec> = {
    simulators: () =>
      tsxService(
        'simulators',
        'simulators/main.ts',
        () => httpOk(`${config.apis.nomisUrl}/__sim/state`),
        () => `NOMIS ${config.apis.nomisUrl}, DPS ${config.apis.dpsUrl}, HMPPS Auth ${config.apis.authUrl}`,
      ),
    'codec-server': () =>
      tsxService(
        'codec-server',
        'clients/codec-server.ts',
        () => httpOk(`${config.codecServer.url}/health/readiness`),
        () =>
          `${config.codecServer.url} (the Web UI's codec endpoint: decrypts payloads for ${config.codecServer.corsOrigins.join(', ')})`,
      ),
    router: () =>
      tsxService(
        'router',
        'clients/event-router.ts',
        () => consumerGroupStable(config),
        () =>
          `consumer group ${config.kafka.consumerGroup} on ${config.kafka.topics.offenderEvents}, ${config.kafka.topics.domainEvents}`,
      ),
    worker: () =>
      tsxService(
        'worker',
        'workers/main.ts',
        () => hasPollers(config, config.temporal.taskQueue),
        () => `task queue ${config.temporal.taskQueue}`,
      ),
  };
  return only.map((name) => {
    const spec = specs[name];
    if (!spec) throw new Error(`unknown app service ${name}`);
    return spec();
  });
}

export function startApp(
  config: Config,
  only: string[],
  report: (line: string) => void,
): Promise<Record<string, 'started' | 'already-running'>> {
  return processManager(config).startAll(appSpecs(config, only), report);
}

export function stopApp(config: Config, only: string[]): Promise<string[]> {
  return processManager(config).stopAll(appSpecs(config, only));
}

async function hasPollers(config: Config, taskQueue: string): Promise<boolean> {
  const connection = await connectTemporal(config, { connectTimeout: 2000 });
  try {
    const response = await connection.workflowService.describeTaskQueue({
      namespace: config.temporal.namespace,
      taskQueue: { name: taskQueue },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    return (response.pollers?.length ?? 0) > 0;
  } finally {
    await connection.close();
  }
}

async function consumerGroupStable(config: Config): Promise<boolean> {
  const admin = kafkaClient(config, 'alerts-sync-health', { logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([config.kafka.consumerGroup]);
    return groups[0]?.state === 'Stable' && groups[0].members.length > 0;
  } finally {
    await admin.disconnect();
  }
}
