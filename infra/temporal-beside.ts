import path from 'node:path';
import type { Config } from '../common/config';
import { loadConfig } from '../common/config';
import type { TemporalKind } from './temporal-server';
import { temporalServerSettings } from './temporal-server';
import { processManager, stateDir, temporalSpec, temporalUiSpec } from './stack';

// A second Temporal beside a running stack, for tests and benchmarks that need a server of a given kind (the full
// server for scale-out and TLS, both kinds to compare): its own ports, `portOffset` above the stack's, its own
// state folder and, for the full server, its own databases on the stack's PostgreSQL. Kafka and PostgreSQL stay
// the stack's.

export interface TemporalBesideOptions {
  /** Names the state folder and the databases; unique among the servers beside one stack. */
  name: string;
  kind: TemporalKind;
  portOffset: number;
  /** The full server's Web UI server as well (the dev server always serves its own). */
  withUi?: boolean;
  /** More settings, e.g. STACK_TEMPORAL_TLS_DIR; `undefined` removes one. */
  env?: Record<string, string | undefined>;
}

export interface TemporalBeside {
  /** The product's settings for reaching this server: TEMPORAL_ADDRESS and the rest as the stack's. */
  config: Config;
  /** The environment it was started with, for child processes that should use it. */
  env: Record<string, string | undefined>;
  stop(): Promise<void>;
}

export function temporalBesideEnv(
  stack: Config,
  { name, kind, portOffset, env = {} }: TemporalBesideOptions,
  base: NodeJS.ProcessEnv = process.env,
): Record<string, string | undefined> {
  const database = new URL(stack.postgres.url);
  database.pathname = `/temporal_${name.replace(/[^a-z0-9]/gi, '_')}`;
  return {
    ...base,
    STACK_DIR: path.join(stateDir(stack), name),
    TEMPORAL_PORT: String(stack.temporal.port + portOffset),
    TEMPORAL_UI_PORT: String(stack.temporal.uiPort + portOffset),
    TEMPORAL_ADDRESS: undefined,
    STACK_TEMPORAL: kind,
    TEMPORAL_DATABASE_URL: kind === 'server' ? database.toString() : undefined,
    // The stack's own PostgreSQL and Kafka, wherever the stack found them.
    DATABASE_URL: stack.postgres.url,
    KAFKA_BROKERS: stack.kafka.brokers.join(','),
    ...env,
  };
}

/** Starts it (or finds it already running after an interrupted run: start is idempotent) and waits until healthy. */
export async function startTemporalBeside(stack: Config, options: TemporalBesideOptions): Promise<TemporalBeside> {
  const env = temporalBesideEnv(stack, options);
  const config = loadConfig(env);
  const settings = temporalServerSettings(config, env);
  const specs = [temporalSpec(config, settings)];
  if (options.withUi && settings.kind === 'server') specs.push(temporalUiSpec(config, settings));
  const manager = processManager(config);
  await manager.startAll(specs);
  return { config, env, stop: async () => void (await manager.stopAll(specs)) };
}
