import type { DataConverter } from '@temporalio/common';
import type { NativeConnection, WorkerOptions } from '@temporalio/worker';
import { Worker } from '@temporalio/worker';
import type { ActivityDeps } from '../activities';
import { clientOfWorker } from '../adapters/temporal';
import { createActivities } from '../activities';

/**
 * The workflow code every worker runs: bundled at start-up from here, or ahead of time from here by
 * workers/build-bundle.ts (the production image), so both run the same workflows.
 */
export const WORKFLOWS_PATH = require.resolve('../workflows');

/** Workflow interceptors: bundled with the workflows, so a pre-built bundle (build-bundle.ts) must name them too. */
export const WORKFLOW_INTERCEPTOR_MODULES = [require.resolve('../workflows/metrics-interceptor')];

export interface SyncWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** The activities' dependencies; their Temporal client is made here, on the worker's own connection. */
  deps: Omit<ActivityDeps, 'temporal'>;
  /** The payload codec (adapters/temporal.ts dataConverter): without it histories would hold plain alert text. */
  dataConverter: DataConverter;
  /**
   * A bundle written by workers/build-bundle.ts (env WORKFLOW_BUNDLE_PATH in the image). A worker that bundles at
   * start-up needs webpack and several seconds of CPU on every pod start; a pre-built bundle needs neither, and
   * every replica runs byte-identical workflow code. Unset: bundled from WORKFLOWS_PATH at start-up.
   */
  workflowBundlePath?: string;
  /** How long in-flight activities get to finish after shutdown() before they are cancelled (SHUTDOWN_GRACE). */
  shutdownGraceTime?: WorkerOptions['shutdownGraceTime'];
  /** WORKER_CACHED_WORKFLOWS (common/config.ts says why it is set); unset: the SDK's default. */
  maxCachedWorkflows?: number;
}

/** The sync worker: every workflow in workflows/ and every activity from createActivities(deps). */
export function createSyncWorker(options: SyncWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    ...workflowCode(options.workflowBundlePath),
    activities: createActivities({
      ...options.deps,
      temporal: clientOfWorker(options.connection, options.namespace, options.dataConverter),
    }),
    dataConverter: options.dataConverter,
    // Only when set: the SDK rejects an explicit undefined rather than applying its default.
    ...(options.shutdownGraceTime === undefined ? {} : { shutdownGraceTime: options.shutdownGraceTime }),
    ...(options.maxCachedWorkflows === undefined ? {} : { maxCachedWorkflows: options.maxCachedWorkflows }),
  });
}

function workflowCode(
  bundlePath: string | undefined,
): Pick<WorkerOptions, 'workflowsPath' | 'workflowBundle' | 'interceptors'> {
  return bundlePath
    ? { workflowBundle: { codePath: bundlePath } }
    : { workflowsPath: WORKFLOWS_PATH, interceptors: { workflowModules: WORKFLOW_INTERCEPTOR_MODULES } };
}
