import { createApiClients } from '../../adapters/clients';
import type { ApiClients } from '../../adapters/clients';
import { dataConverter } from '../../adapters/temporal';
import type { NativeConnection } from '@temporalio/worker';
import type { Simulators } from '../../simulators';
import { SimulatorControl } from '../../simulators/control-client';
import type { SyncWorkerOptions } from '../../workers/worker';
import { createSyncWorker } from '../../workers/worker';
import { AppProcesses, appEnv } from './app-processes';
import type { Harness, HarnessOptions } from './harness';
import { startHarness, startTestSimulators } from './harness';
import { config, uniqueSuffix, workerConnection } from './stack';

// The set-up the end-to-end files share: one harness per file, a deployment of real worker and router processes,
// the simulators' API clients and an in-process worker, each on names of the file's own.

/**
 * Starts the file's harness before its first test and closes it after its last; `use` receives it. Jest runs
 * after-all hooks in the order they are declared, so one that still needs the harness goes before this call.
 * `options` may be a function, read when the harness starts: after the before-all hooks declared above this call
 * (a proxy's port is known only once it listens).
 */
export function useHarness(
  name: string,
  use: (harness: Harness) => void,
  options: HarnessOptions | (() => HarnessOptions) = {},
): void {
  let harness: Harness | undefined;
  beforeAll(async () => {
    harness = await startHarness(name, typeof options === 'function' ? options() : options);
    use(harness);
  });
  afterAll(async () => {
    await harness?.close();
  });
}

export interface DeploymentNames {
  suffix: string;
  topics: { offenderEvents: string; domainEvents: string; dlq: string };
  taskQueue: string;
  consumerGroup: string;
}

/** Topics, task queue and consumer group of one test deployment, apart from every other file's. */
export function deploymentNames(prefix: string): DeploymentNames {
  const suffix = `${prefix}-${uniqueSuffix()}`;
  return {
    suffix,
    topics: {
      offenderEvents: `nomis.offender-events.${suffix}`,
      domainEvents: `hmpps.domain-events.${suffix}`,
      dlq: `alerts-sync.dlq.${suffix}`,
    },
    taskQueue: `alerts-sync-${suffix}`,
    consumerGroup: `alerts-sync-router-${suffix}`,
  };
}

export interface AppDeployment {
  simulators: Simulators;
  control: SimulatorControl;
  /** Starts the worker and router processes, told the deployment's names, the simulators and `temporalAddress`. */
  processes: AppProcesses;
}

/** Simulators on the deployment's topics, and the worker and router processes ready to start against them. */
export async function startAppDeployment(names: DeploymentNames, temporalAddress: string): Promise<AppDeployment> {
  const simulators = await startTestSimulators(names.topics);
  const { topics, taskQueue, consumerGroup } = names;
  return {
    simulators,
    control: new SimulatorControl(simulators.urls),
    processes: new AppProcesses(appEnv({ temporalAddress, taskQueue, topics, consumerGroup, apis: simulators.urls })),
  };
}

/** The product's NOMIS, DPS and Auth clients, pointed at the simulators. */
export function simulatorApiClients(urls: Simulators['urls'], timeoutMs: number): ApiClients {
  return createApiClients({ ...config.apis, nomisUrl: urls.nomis, dpsUrl: urls.dps, authUrl: urls.auth, timeoutMs });
}

/** A sync worker in this process on the test stack's Temporal, running until stop(), which closes its connection. */
export async function startTestWorker(
  options: Omit<SyncWorkerOptions, 'connection' | 'namespace' | 'dataConverter'>,
): Promise<{ connection: NativeConnection; stop: () => Promise<void> }> {
  const connection = await workerConnection();
  const worker = await createSyncWorker({
    connection,
    namespace: config.temporal.namespace,
    dataConverter: dataConverter(config),
    ...options,
  });
  const run = worker.run().finally(() => connection.close());
  return {
    connection,
    stop: async () => {
      worker.shutdown();
      await run;
    },
  };
}
