import { appEnv as deploymentEnv, httpGet } from '../../infra/app-processes';
import { config, eventually } from './stack';

// The worker and the router as real processes live in infra/app-processes.ts (the benchmark starts them too);
// what is here binds them to the test stack and waits the tests' way.

export { AppProcesses, httpGet } from '../../infra/app-processes';
export type { AppEntry } from '../../infra/app-processes';

/** What every worker and router of one test deployment is told, on the test stack's Kafka and database. */
export function appEnv(options: Omit<Parameters<typeof deploymentEnv>[0], 'config'>): Record<string, string> {
  return deploymentEnv({ ...options, config });
}

/** Waits for a process's health endpoint (`liveness` or `readiness`) to answer 200. */
export function untilHealthy(port: number, probe: 'liveness' | 'readiness', what: string, timeoutMs = 60_000) {
  return eventually(
    async () => ((await httpGet(port, `/health/${probe}`)).status === 200 ? true : undefined),
    what,
    timeoutMs,
  );
}

/** Waits for the readiness probe to fail, as it must at once on SIGTERM: a 503 or a closed port. */
export function untilUnready(port: number, what: string) {
  return eventually(async () => {
    const probe = await httpGet(port, '/health/readiness').catch(() => ({ status: 503, body: '' }));
    return probe.status === 503 ? true : undefined;
  }, what);
}
