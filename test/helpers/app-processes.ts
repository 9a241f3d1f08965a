import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import type { SimulatorUrls } from '../../simulators/control-client';
import { config, eventually } from './stack';

// The worker and the router as they run in a pod: real processes started from their entry points, probed over
// HTTP, stopped with SIGTERM as Kubernetes does or killed outright.

const ROOT = path.resolve(__dirname, '..', '..');

export type AppEntry = 'workers/main.ts' | 'clients/event-router.ts';

/** What every worker and router of one test deployment is told: where everything is, and its own names. */
export function appEnv(options: {
  temporalAddress: string;
  taskQueue: string;
  topics: { offenderEvents: string; domainEvents: string; dlq: string };
  consumerGroup: string;
  apis: SimulatorUrls;
}): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: options.temporalAddress,
    KAFKA_BROKERS: config.kafka.brokers.join(','),
    DATABASE_URL: config.postgres.url,
    TEMPORAL_TASK_QUEUE: options.taskQueue,
    KAFKA_TOPIC_OFFENDER_EVENTS: options.topics.offenderEvents,
    KAFKA_TOPIC_DOMAIN_EVENTS: options.topics.domainEvents,
    KAFKA_TOPIC_DLQ: options.topics.dlq,
    KAFKA_CONSUMER_GROUP: options.consumerGroup,
    NOMIS_API_URL: options.apis.nomis,
    DPS_API_URL: options.apis.dps,
    HMPPS_AUTH_URL: options.apis.auth,
  };
}

export class AppProcesses {
  private readonly children: ChildProcess[] = [];

  /** `env`: what every process gets on top of this one's environment (addresses, topics, task queue). */
  constructor(private readonly env: Record<string, string | undefined>) {}

  start(entry: AppEntry, env: Record<string, string> = {}): ChildProcess {
    const child = spawn(process.execPath, ['--import', 'tsx', entry], {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'warn', ...this.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Kept for the failure message; not echoed, so a green run stays quiet.
    let output = '';
    const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('exit', (code) => {
      if (code !== 0 && code !== null) console.error(`${entry} exited ${code}:\n${output}`);
    });
    this.children.push(child);
    return child;
  }

  /** SIGTERM to every process still running, and waits for each to exit. */
  async stopAll(): Promise<void> {
    await Promise.all(
      this.children.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        await exited;
      }),
    );
  }
}

export async function httpGet(port: number, p: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${p}`, { signal: AbortSignal.timeout(5_000) });
  return { status: res.status, body: await res.text() };
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
