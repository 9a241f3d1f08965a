import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import type { Config } from '../common/config';
import type { SimulatorUrls } from '../simulators/control-client';

// The worker and the router as they run in a pod: real processes started from their entry points, probed over
// HTTP, stopped with SIGTERM as Kubernetes does or killed outright. The e2e tests and the benchmark share it.

const ROOT = path.resolve(__dirname, '..');

export type AppEntry = 'workers/main.ts' | 'clients/event-router.ts';

/** What every worker and router of one deployment is told: where everything is, and its own names. */
export function appEnv(options: {
  /** Kafka brokers and the database come from here. */
  config: Config;
  temporalAddress: string;
  taskQueue: string;
  topics: { offenderEvents: string; domainEvents: string; dlq: string };
  consumerGroup: string;
  apis: SimulatorUrls;
}): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: options.temporalAddress,
    KAFKA_BROKERS: options.config.kafka.brokers.join(','),
    DATABASE_URL: options.config.postgres.url,
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

/** The worker's memory settings as the Helm chart sets them (deploy/helm/alerts-sync: worker.heapLimitMiB, .mallocArenas). */
export function chartWorkerMemoryEnv(): { NODE_OPTIONS: string; MALLOC_ARENA_MAX: string } {
  const file = path.join('deploy', 'helm', 'alerts-sync', 'values.yaml');
  const values: unknown = parse(readFileSync(path.join(ROOT, file), 'utf8'));
  const worker = (values as { worker?: Record<string, unknown> }).worker ?? {};
  const { heapLimitMiB, mallocArenas } = worker;
  if (typeof heapLimitMiB !== 'number' || typeof mallocArenas !== 'number')
    throw new Error(`${file}: worker.heapLimitMiB and worker.mallocArenas must be numbers`);
  return { NODE_OPTIONS: `--max-old-space-size=${heapLimitMiB}`, MALLOC_ARENA_MAX: String(mallocArenas) };
}

/** Where `npm run build:dist` (tsconfig.build.json) puts an entry's JavaScript. */
export function compiledEntry(entry: AppEntry): string {
  return path.join('dist', entry.replace(/\.ts$/, '.js'));
}

export class AppProcesses {
  private readonly children: ChildProcess[] = [];

  /** `env`: what every process gets on top of this one's environment (addresses, topics, task queue). */
  constructor(private readonly env: Record<string, string | undefined>) {}

  /** The whole environment a process started with `env` gets, so a caller can check what it will be told. */
  environment(env: Record<string, string> = {}): Record<string, string | undefined> {
    return { ...process.env, LOG_LEVEL: 'warn', ...this.env, ...env };
  }

  /**
   * Node itself runs the entry (no npm or shell in between), so `child.pid` is the process doing the work. `dist`:
   * the compiled JavaScript from `npm run build:dist`, as the image runs it (tsx's compiler costs memory).
   */
  start(entry: AppEntry, env: Record<string, string> = {}, from: 'source' | 'dist' = 'source'): ChildProcess {
    const args = from === 'dist' ? ['--enable-source-maps', compiledEntry(entry)] : ['--import', 'tsx', entry];
    // The chart's memory settings for the worker, so a benchmark measures the memory a pod would use.
    const image: Record<string, string> = from === 'dist' && entry === 'workers/main.ts' ? chartWorkerMemoryEnv() : {};
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: this.environment({ ...image, ...env }),
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
