import fs from 'node:fs';
import path from 'node:path';
import type { Connection, ConnectionOptions } from '@temporalio/client';
import { connectTemporal } from '../../adapters/temporal';
import type { Config } from '../../common/config';
import { PRISON_NUMBER, SEARCH_ATTRIBUTES } from '../../common/search-attributes';
import type { ServiceSpec } from '../processes';
import type { TemporalKind, TemporalServerSettings } from '../temporal-server';
import { temporalServerSettings } from '../temporal-server';
import {
  TEMPORAL_BIN,
  TEMPORAL_SCHEMA_DIR,
  TEMPORAL_SERVER_BIN,
  TEMPORAL_SQL_TOOL,
  TEMPORAL_UI_BIN,
  httpOk,
  installedVersion,
  processManager,
  requireFile,
  stateDir,
} from './paths';
import { DYNAMIC_CONFIG, serverConfig, serverPorts, uiConfig, writeConfigFile } from './temporal-server-config';
import { registerNamespaceAndSearchAttributes, setupSchema } from './temporal-server-setup';

/** The dev server by default; the full server on PostgreSQL with STACK_TEMPORAL=server (docs/temporal-server.md). */
export function temporalSpec(config: Config, settings = temporalServerSettings(config)): ServiceSpec {
  return settings.kind === 'server' ? temporalServerSpec(config, settings) : temporalDevSpec(config, settings);
}

/**
 * What makes the dev server keep up with a bulk resync (docs/temporal-server.md, "Dev server tuning"). SQLite's
 * write-ahead log with synchronous=normal commits without an fsync per transaction: still safe if a process dies,
 * may lose the last moments of history if the machine itself loses power, which a development stack can afford.
 * Eager activity execution hands a workflow task's first activity straight back to the worker that scheduled it,
 * and eager workflow start a new workflow's first task to the worker whose activity started it (a bulk batch's);
 * one task queue partition lets the one local worker's polls meet every task at once (sync match).
 */
const DEV_SERVER_TUNING: ReadonlyArray<readonly [string, string]> = [
  ['--sqlite-pragma', 'journal_mode=wal'],
  ['--sqlite-pragma', 'synchronous=normal'],
  ['--dynamic-config-value', 'system.enableActivityEagerExecution=true'],
  ['--dynamic-config-value', 'system.enableEagerWorkflowStart=true'],
  ['--dynamic-config-value', 'matching.numTaskqueueReadPartitions=1'],
  ['--dynamic-config-value', 'matching.numTaskqueueWritePartitions=1'],
];

function temporalDevSpec(config: Config, settings: TemporalServerSettings): ServiceSpec {
  const dir = path.join(stateDir(config), 'temporal');
  const { port, uiPort, namespace } = config.temporal;
  return {
    name: 'temporal',
    command: requireFile(TEMPORAL_BIN, 'the Temporal CLI (run infra/provision.sh)'),
    args: [
      'server',
      'start-dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--ui-port',
      String(uiPort),
      // SQLite file: workflow history survives a restart of the dev server.
      '--db-filename',
      path.join(dir, 'temporal.db'),
      ...DEV_SERVER_TUNING.flatMap(([flag, value]) => [flag, value]),
      '--namespace',
      namespace,
      '--log-level',
      'warn',
      ...SEARCH_ATTRIBUTES.flatMap((sa) => ['--search-attribute', `${sa.name}=${sa.type}`]),
      ...(settings.codecEndpoint ? ['--ui-codec-endpoint', settings.codecEndpoint] : []),
    ],
    prepare: async () => {
      fs.mkdirSync(dir, { recursive: true });
      // The dev server serves its own Web UI, on the port a full server's separate UI may still hold.
      await processManager(config).stop('temporal-ui');
    },
    healthy: async () =>
      (await httpOk(config.temporal.uiUrl)) &&
      (await withStackConnection(config, settings, (connection) => temporalReady(config, settings, connection))),
    describe: () =>
      `Temporal gRPC ${config.temporal.address} (namespace ${namespace}), Web UI ${config.temporal.uiUrl}`,
  };
}

function temporalServerSpec(config: Config, settings: TemporalServerSettings): ServiceSpec {
  const dir = path.join(stateDir(config), 'temporal-server');
  const configFile = path.join(dir, 'config.yaml');
  const dynamicConfigFile = path.join(dir, 'dynamic-config.yaml');
  const { tls, databases } = settings;
  // The shard count is fixed when the database is first set up; the server ignores a different setting later.
  let shards = `${settings.historyShards} history shards`;
  return {
    name: 'temporal',
    // Checked in prepare(), not here, so `down` and `status` work without the binaries.
    command: TEMPORAL_SERVER_BIN,
    args: ['--config-file', configFile, '--allow-no-auth', 'start'],
    prepare: async () => {
      const build = 'run STACK_TEMPORAL=server infra/provision.sh';
      requireFile(TEMPORAL_SERVER_BIN, `the Temporal server (${build})`);
      requireFile(TEMPORAL_SQL_TOOL, `temporal-sql-tool (${build})`);
      for (const file of tls ? [tls.caFile, tls.certFile, tls.keyFile] : []) {
        requireFile(file, 'a file of STACK_TEMPORAL_TLS_DIR');
      }
      writeConfigFile(dynamicConfigFile, DYNAMIC_CONFIG);
      writeConfigFile(configFile, serverConfig(config, settings, dynamicConfigFile));
      await setupSchema(settings, TEMPORAL_SQL_TOOL, TEMPORAL_SCHEMA_DIR);
    },
    healthy: () =>
      withStackConnection(config, settings, async (connection) => {
        const { historyShardCount, persistenceStore } = await connection.workflowService.getClusterInfo({});
        if (!isKind('server', persistenceStore)) return false;
        await registerNamespaceAndSearchAttributes(connection, config.temporal.namespace);
        if (historyShardCount !== settings.historyShards) {
          shards = `${historyShardCount} history shards, as when its database was created: TEMPORAL_HISTORY_SHARDS=${settings.historyShards} ignored`;
        }
        return temporalReady(config, settings, connection);
      }),
    describe: () =>
      `Temporal server ${installedVersion(TEMPORAL_SERVER_BIN)} gRPC ${config.temporal.address}` +
      `${tls ? (tls.requireClientAuth ? ' (mTLS)' : ' (TLS)') : ''} (namespace ${config.temporal.namespace}, ` +
      `${shards}, PostgreSQL ${databases.default.host}:${databases.default.port}/` +
      `${databases.default.database}), metrics http://127.0.0.1:${serverPorts(config.temporal.port).metrics}/metrics`,
  };
}

/** The full server's Web UI, a process of its own as in a deployment. */
export function temporalUiSpec(config: Config, settings = temporalServerSettings(config)): ServiceSpec {
  const dir = path.join(stateDir(config), 'temporal-ui');
  const { uiUrl, namespace } = config.temporal;
  return {
    name: 'temporal-ui',
    command: TEMPORAL_UI_BIN,
    // The UI server reads <root>/<config>/<env>.yaml.
    args: ['--root', dir, '--config', 'config', '--env', 'stack', 'start'],
    prepare: async () => {
      requireFile(TEMPORAL_UI_BIN, 'the Temporal Web UI server (run STACK_TEMPORAL=server infra/provision.sh)');
      writeConfigFile(path.join(dir, 'config', 'stack.yaml'), uiConfig(config, settings));
    },
    // An API call proves the UI reaches the frontend too (through TLS when the frontend serves it).
    healthy: () => httpOk(`${uiUrl}/api/v1/namespaces/${encodeURIComponent(namespace)}`),
    describe: () =>
      `Temporal Web UI ${uiUrl} (${installedVersion(TEMPORAL_UI_BIN)})` +
      (settings.codecEndpoint ? `, codec ${settings.codecEndpoint}` : ''),
  };
}

/** The kind asked for, with the namespace and the search attributes the workers' workflows set on every run. */
async function temporalReady(
  config: Config,
  settings: TemporalServerSettings,
  connection: Connection,
): Promise<boolean> {
  const { namespace } = config.temporal;
  if (!isKind(settings.kind, (await connection.workflowService.getClusterInfo({})).persistenceStore)) return false;
  await connection.workflowService.describeNamespace({ namespace });
  const attributes = await connection.operatorService.listSearchAttributes({ namespace });
  if (!SEARCH_ATTRIBUTES.every((sa) => sa.name in (attributes.customAttributes ?? {}))) return false;
  if (settings.kind === 'server') {
    // The full server reads a new namespace and search attribute aliases from the database into caches it
    // refreshes every few seconds; a visibility query by one proves this frontend already knows both.
    await connection.workflowService.countWorkflowExecutions({
      namespace,
      query: `${PRISON_NUMBER.name} = 'health-check'`,
    });
  }
  return true;
}

/**
 * After STACK_TEMPORAL changes, the other kind may still hold the port: reported unhealthy, `up` replaces it
 * rather than keep a server that is not the one asked for.
 */
function isKind(kind: TemporalKind, persistenceStore: string | null | undefined): boolean {
  return (persistenceStore === 'postgres12') === (kind === 'server');
}

async function withStackConnection<T>(
  config: Config,
  settings: TemporalServerSettings,
  use: (connection: Connection) => Promise<T>,
): Promise<T> {
  const connection = await connectTemporal(config, { ...stackTlsFallback(config, settings), connectTimeout: 2000 });
  try {
    return await use(connection);
  } finally {
    await connection.close();
  }
}

/**
 * The product's own connection settings (TEMPORAL_TLS*, TEMPORAL_API_KEY) stand. When the stack serves TLS and those
 * are unset, its own checks use the stack's certificates, so `up` works before the environment is set for the workers.
 */
function stackTlsFallback(config: Config, settings: TemporalServerSettings): Pick<ConnectionOptions, 'tls'> {
  const tls = settings.kind === 'server' ? settings.tls : undefined;
  if (!tls || config.temporal.tls.enabled) return {};
  return {
    tls: {
      serverNameOverride: tls.serverName,
      serverRootCACertificate: fs.readFileSync(tls.caFile),
      clientCertPair: tls.requireClientAuth
        ? { crt: fs.readFileSync(tls.clientCertFile), key: fs.readFileSync(tls.clientKeyFile) }
        : undefined,
    },
  };
}
