import type { Config } from '../common/config';
import type { ServiceSpec } from './processes';
import { kafkaSpec } from './stack/kafka';
import { processManager } from './stack/paths';
import { postgresSpec } from './stack/postgres';
import { temporalSpec, temporalUiSpec } from './stack/temporal';
import { temporalServerSettings } from './temporal-server';

// The local stack, one file per service under infra/stack/; this file decides which run and in what order.
export { kafkaSaslSslSettings, kafkaSpec } from './stack/kafka';
export { REPO_ROOT, TEMPORAL_SERVER_BIN, httpOk, processManager, redact, stateDir } from './stack/paths';
export { unreachableForPostgres } from './stack/postgres';
export { temporalSpec, temporalUiSpec } from './stack/temporal';

export type InfraService = 'temporal' | 'temporal-ui' | 'kafka' | 'postgres';
/** temporal-ui is a process of its own only with the full server; the dev server serves its Web UI itself. */
export const INFRA_SERVICES: InfraService[] = ['postgres', 'temporal', 'temporal-ui', 'kafka'];

/**
 * The services this configuration runs. `anyKind` adds temporal-ui in dev mode too, for stopping: a stack started
 * with STACK_TEMPORAL=server must stop whole from a shell without it.
 */
export function infraSpecs(
  config: Config,
  only: InfraService[] = INFRA_SERVICES,
  { anyKind = false }: { anyKind?: boolean } = {},
): ServiceSpec[] {
  const settings = temporalServerSettings(config);
  const specs: Record<InfraService, () => ServiceSpec> = {
    postgres: () => postgresSpec(config),
    temporal: () => temporalSpec(config, settings),
    'temporal-ui': () => temporalUiSpec(config, settings),
    kafka: () => kafkaSpec(config),
  };
  return only
    .filter((name) => name !== 'postgres' || config.postgres.embedded)
    .filter((name) => name !== 'temporal-ui' || settings.kind === 'server' || anyKind)
    .map((name) => specs[name]());
}

export async function startInfra(
  config: Config,
  only: InfraService[] = INFRA_SERVICES,
  report: (line: string) => void = () => undefined,
): Promise<void> {
  await processManager(config).startAll(infraSpecs(config, only), report);
}

/** Reverse order: clients of a service stop before it. */
export function stopInfra(config: Config, only: InfraService[] = INFRA_SERVICES): Promise<string[]> {
  return processManager(config).stopAll(infraSpecs(config, only, { anyKind: true }));
}
