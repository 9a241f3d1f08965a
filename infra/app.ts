import path from 'node:path';
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { Config } from '../common/config';
import { SYNC_TASK_QUEUE } from '../common/task-queues';
import type { ServiceSpec } from './processes';
import { REPO_ROOT, processManager } from './stack';

// The sync's own long-running processes, supervised like the infrastructure so `bin/start` can return.

export const APP_SERVICES: string[] = ['worker'];

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
    worker: () =>
      tsxService(
        'worker',
        'workers/main.ts',
        () => hasPollers(config, SYNC_TASK_QUEUE),
        () => `task queue ${SYNC_TASK_QUEUE}`,
      ),
  };
  return only.map((name) => {
    const spec = specs[name];
    if (!spec) throw new Error(`unknown app service ${name}`);
    return spec();
  });
}

export async function startApp(config: Config, only: string[], report: (line: string) => void): Promise<void> {
  const manager = processManager(config);
  for (const spec of appSpecs(config, only)) {
    const started = Date.now();
    const result = await manager.start(spec);
    report(
      `${spec.name.padEnd(9)} ${result.padEnd(15)} ${((Date.now() - started) / 1000).toFixed(1)}s  ${spec.describe()}`,
    );
  }
}

export async function stopApp(config: Config, only: string[]): Promise<string[]> {
  const manager = processManager(config);
  const stopped: string[] = [];
  for (const spec of appSpecs(config, only).reverse()) {
    if (await manager.stop(spec.name)) stopped.push(spec.name);
  }
  return stopped;
}

async function hasPollers(config: Config, taskQueue: string): Promise<boolean> {
  const connection = await Connection.connect({ address: config.temporal.address, connectTimeout: 2000 });
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
