import fs from 'node:fs';
import path from 'node:path';
import type { Kafka } from 'kafkajs';
import { logLevel } from 'kafkajs';
import { kafkaClient } from '../../adapters/kafka';
import { EventRouter } from '../../clients/router/router';
import { prisonerSyncWorkflowId } from '../../common/ids';
import { createLogger } from '../../common/logger';
import { loadConfig } from '../../common/config';
import type { Config } from '../../common/config';
import type { ServiceSpec } from '../../infra/processes';
import { kafkaSaslSslSettings, kafkaSpec, processManager, stateDir } from '../../infra/stack';
import { makeServerCertificates } from '../helpers/certs';
import { randomPrisonNumber } from '../helpers/prisoners';
import { config, eventually, temporalClient, uniqueSuffix } from '../helpers/stack';

// A second Kafka broker beside the suite's, with a SASL_SSL listener from STACK_KAFKA_SASL_SSL_PORT and
// certificates made here, reached only through the product's own settings (loadConfig + kafkaClient). Its ports
// sit 100 above the suite's broker, so it disturbs nothing the other files use.

const dir = path.join(stateDir(config), 'kafka-tls');
const certsDir = path.join(dir, 'certs');
const plaintextPort = config.kafka.port + 100;
const saslSslPort = plaintextPort + 2;
const USER = 'alerts';
const PASSWORD = 'alerts-test-secret';

function brokerEnv(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    ...process.env,
    STACK_DIR: dir,
    KAFKA_PORT: String(plaintextPort),
    KAFKA_CONTROLLER_PORT: String(plaintextPort + 1),
    STACK_KAFKA_SASL_SSL_PORT: String(saslSslPort),
    STACK_KAFKA_TLS_DIR: certsDir,
    KAFKA_BROKERS: `127.0.0.1:${saslSslPort}`,
    KAFKA_SSL: 'on',
    KAFKA_SSL_CA: path.join(certsDir, 'ca.pem'),
    KAFKA_SSL_CERT: undefined,
    KAFKA_SSL_KEY: undefined,
    KAFKA_SASL_MECHANISM: 'scram-sha-512',
    KAFKA_SASL_USERNAME: USER,
    KAFKA_SASL_PASSWORD: PASSWORD,
    ...overrides,
  };
}

/** A client that gives up at once: a refusal should fail the test, not wait out kafkajs's retries. */
function client(clientConfig: Config): Kafka {
  return kafkaClient(clientConfig, `kafka-sasl-ssl-test-${uniqueSuffix()}`, {
    retry: { retries: 0 },
    connectionTimeout: 5000,
    // The refusals are expected; the assertions report them.
    logLevel: logLevel.NOTHING,
  });
}

async function roundTrip(clientConfig: Config): Promise<string> {
  const kafka = kafkaClient(clientConfig, `kafka-sasl-ssl-test-${uniqueSuffix()}`);
  const topic = `sasl-ssl-${uniqueSuffix()}`;
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
  const producer = kafka.producer();
  const consumer = kafka.consumer({ groupId: `sasl-ssl-${uniqueSuffix()}` });
  await Promise.all([producer.connect(), consumer.connect()]);
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    const received = new Promise<string>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          resolve(message.value?.toString() ?? '');
        },
      });
    });
    const sent = `hello over ${clientConfig.kafka.sasl?.mechanism ?? 'no sasl'}`;
    await producer.send({ topic, messages: [{ key: 'A1234BC', value: sent }] });
    return await received;
  } finally {
    await Promise.all([producer.disconnect(), consumer.disconnect()]);
  }
}

async function connectAdmin(clientConfig: Config): Promise<void> {
  const admin = client(clientConfig).admin();
  try {
    await admin.connect();
    await admin.listTopics();
  } finally {
    await admin.disconnect();
  }
}

let specs: ServiceSpec[] = [];

beforeAll(async () => {
  makeServerCertificates(certsDir);
  const env = brokerEnv();
  const brokerConfig = loadConfig(env);
  specs = [kafkaSpec(brokerConfig, kafkaSaslSslSettings(brokerConfig, env))];
  const manager = processManager(brokerConfig);
  await manager.stopAll(specs);
  // The SCRAM credentials go in when the storage is formatted: a fresh data directory every run.
  fs.rmSync(path.join(dir, 'kafka'), { recursive: true, force: true });
  // The health check itself connects with the settings above: SCRAM-SHA-512 over SASL_SSL.
  await manager.startAll(specs);
}, 120_000);

afterAll(async () => {
  if (specs.length > 0) await processManager(loadConfig(brokerEnv())).stopAll(specs);
});

test('a producer and a consumer round trip over SASL_SSL with SCRAM-SHA-512', async () => {
  expect(await roundTrip(loadConfig(brokerEnv()))).toBe('hello over scram-sha-512');
});

test('a producer and a consumer round trip over SASL_SSL with SCRAM-SHA-256', async () => {
  expect(await roundTrip(loadConfig(brokerEnv({ KAFKA_SASL_MECHANISM: 'scram-sha-256' })))).toBe(
    'hello over scram-sha-256',
  );
});

test('a producer and a consumer round trip over SASL_SSL with PLAIN', async () => {
  expect(await roundTrip(loadConfig(brokerEnv({ KAFKA_SASL_MECHANISM: 'plain' })))).toBe('hello over plain');
});

test('a wrong password is refused, with SCRAM and with PLAIN', async () => {
  for (const mechanism of ['scram-sha-512', 'plain']) {
    const wrong = loadConfig(brokerEnv({ KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_PASSWORD: 'not-the-password' }));
    await expect(connectAdmin(wrong)).rejects.toThrow(/SASL .*authentication failed/i);
  }
});

test('a client that does not trust the CA is refused', async () => {
  // KAFKA_SSL=on without KAFKA_SSL_CA: Node's own root certificates, which do not include the test's CA. The broker
  // sends only its own certificate, so Node reports the chain as unverifiable rather than self-signed.
  const untrusted = loadConfig(brokerEnv({ KAFKA_SSL_CA: undefined }));
  await expect(connectAdmin(untrusted)).rejects.toThrow(
    /unable to verify the first certificate|self[- ]signed certificate/i,
  );
});

test('a client without TLS gets no answer from the SASL_SSL listener', async () => {
  const plaintext = loadConfig(brokerEnv({ KAFKA_SSL: 'off', KAFKA_SSL_CA: undefined }));
  await expect(connectAdmin(plaintext)).rejects.toThrow();
});

test('the PLAINTEXT listener is still there for the stack itself', async () => {
  const plaintext = loadConfig(
    brokerEnv({
      KAFKA_BROKERS: `127.0.0.1:${plaintextPort}`,
      KAFKA_SSL: 'off',
      KAFKA_SSL_CA: undefined,
      KAFKA_SASL_MECHANISM: undefined,
    }),
  );
  await connectAdmin(plaintext);
});

test("the event router consumes over SASL_SSL and starts the prisoner's sync", async () => {
  const routerConfig = loadConfig(brokerEnv());
  const suffix = uniqueSuffix();
  const topics = {
    offenderEvents: `nomis.offender-events.sasl-ssl-${suffix}`,
    domainEvents: `hmpps.domain-events.sasl-ssl-${suffix}`,
    dlq: `alerts-sync.dlq.sasl-ssl-${suffix}`,
  };
  const kafka = kafkaClient(routerConfig, `router-sasl-ssl-${suffix}`);
  const temporal = await temporalClient();
  // No worker polls this queue: the workflow the router starts is proof enough that the event got through.
  const router = new EventRouter({
    kafka,
    temporal: temporal.client,
    taskQueue: `alerts-sync-sasl-ssl-${suffix}`,
    groupId: `alerts-sync-router-sasl-ssl-${suffix}`,
    topics,
    switches: async () => config.switches.defaults,
    logger: createLogger('router', 'warn'),
  });
  const producer = kafka.producer();
  const prisonNumber = randomPrisonNumber();
  const handle = temporal.client.workflow.getHandle(prisonerSyncWorkflowId(prisonNumber));
  await router.start();
  try {
    await producer.connect();
    await producer.send({
      topic: topics.offenderEvents,
      messages: [
        {
          key: prisonNumber,
          value: JSON.stringify({
            eventType: 'ALERT-INSERTED',
            eventDatetime: '2024-06-20T11:00:00',
            offenderIdDisplay: prisonNumber,
            bookingId: 1,
            alertSeq: 1,
            auditModuleName: 'OIDALERT',
          }),
        },
      ],
    });
    const description = await eventually(() => handle.describe(), `the sync workflow of ${prisonNumber}`);
    expect(description.taskQueue).toBe(`alerts-sync-sasl-ssl-${suffix}`);
  } finally {
    await producer.disconnect();
    await router.stop();
    await handle.terminate('kafka-sasl-ssl test done').catch(() => undefined);
    await temporal.close();
  }
});
