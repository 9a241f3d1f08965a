import { Connection } from '@temporalio/client';
import { logLevel } from 'kafkajs';
import { kafkaClient } from '../adapters/kafka';
import { temporalClient, temporalConnectionOptions } from '../adapters/temporal';
import type { Config } from '../common/config';
import { assertReadyForProduction, loadConfig } from '../common/config';
import { createLogger } from '../common/logger';
import { EventRouter } from './router/event-router';

// The Kafka event router: NOMIS and domain events in, Temporal workflow starts/signals out.

async function main(): Promise<void> {
  const config = loadConfig();
  assertReadyForProduction(config, ['encryption', 'temporal', 'kafka']);
  const logger = createLogger('router', config.logLevel);
  const connection = await connectWithRetry(config, logger);
  const router = new EventRouter({
    kafka: kafkaClient(config, 'alerts-sync-router', { logLevel: logLevel.WARN }),
    temporal: temporalClient(config, connection),
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

async function connectWithRetry(config: Config, logger: ReturnType<typeof createLogger>): Promise<Connection> {
  const options = temporalConnectionOptions(config);
  for (let attempt = 1; ; attempt++) {
    try {
      return await Connection.connect(options);
    } catch (err) {
      logger.warn(`Temporal at ${options.address} not reachable yet (attempt ${attempt})`, { error: String(err) });
      await new Promise((resolve) => setTimeout(resolve, Math.min(10_000, 500 * attempt)));
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
