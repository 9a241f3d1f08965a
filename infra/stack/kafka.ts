import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { logLevel } from 'kafkajs';
import { kafkaClient } from '../../adapters/kafka';
import type { Config } from '../../common/config';
import { ConfigError } from '../../common/config';
import type { ServiceSpec } from '../processes';
import { KAFKA_LIBS, REPO_ROOT, requireFile, stateDir } from './paths';

/**
 * The broker's optional SASL_SSL listener (docs/kafka-security.md). Stack settings, like STACK_TEMPORAL_TLS_DIR, so
 * they are read here rather than in common/config; the one SASL user is the one the clients are configured with.
 */
interface KafkaSaslSslSettings {
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
  return `# written by infra/stack/kafka.ts on every start
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
