import { Client, Connection } from '@temporalio/client';
import { Kafka, logLevel } from 'kafkajs';
import { loadConfig } from '../common/config';
import { createLogger } from '../common/logger';
import { EventRouter } from './router/event-router';

// The Kafka event router: NOMIS and domain events in, Temporal workflow starts/signals out.

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger('router', config.logLevel);
  const connection = await connectWithRetry(config.temporal.address, logger);
  const router = new EventRouter({
    kafka: new Kafka({ clientId: 'alerts-sync-router', brokers: config.kafka.brokers, logLevel: logLevel.WARN }),
    temporal: new Client({ connection, namespace: config.temporal.namespace }),
    taskQueue: config.temporal.taskQueue,
    groupId: config.kafka.consumerGroup,
    topics: config.kafka.topics,
    directions: config.directions,
    logger,
  });
  await router.start();
  for (const [direction, on] of Object.entries(config.directions)) {
    if (!on) logger.warn(`alert-level ${direction} sync is switched OFF: its events will be skipped and counted`);
  }

  const report = setInterval(() => logger.info('counters', router.snapshot()), 60_000);
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal} received, finishing the message in hand and leaving the consumer group`);
    clearInterval(report);
    await router.stop();
    await connection.close();
    process.exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void shutdown(signal));
}

async function connectWithRetry(address: string, logger: ReturnType<typeof createLogger>): Promise<Connection> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await Connection.connect({ address });
    } catch (err) {
      logger.warn(`Temporal at ${address} not reachable yet (attempt ${attempt})`, { error: String(err) });
      await new Promise((resolve) => setTimeout(resolve, Math.min(10_000, 500 * attempt)));
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
