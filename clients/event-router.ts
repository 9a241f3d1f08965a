import type { Connection } from '@temporalio/client';
import { logLevel } from 'kafkajs';
import type { Admin } from 'kafkajs';
import { startHealthServer, temporalReachability } from '../adapters/health-server';
import { kafkaClient } from '../adapters/kafka';
import type { PartitionLag } from '../adapters/metrics';
import { cached, createRegistry, createRouterMetrics, partitionLags } from '../adapters/metrics';
import { connectTemporal, temporalClient } from '../adapters/temporal';
import type { Config } from '../common/config';
import { assertReadyForProduction, loadConfig } from '../common/config';
import { createLogger } from '../common/logger';
import { describeSwitches } from '../common/sync-switches';
import { createDb, migrateLatest } from '../adapters/db';
import { LiveSwitches } from '../adapters/live-switches';
import { EventRouter } from './router/router';

// The Kafka event router: NOMIS and domain events in, Temporal workflow starts/signals out.

async function main(): Promise<void> {
  const config = loadConfig();
  assertReadyForProduction(config, ['database', 'encryption', 'temporal', 'kafka']);
  const logger = createLogger('router', config.logLevel);
  // The switches live in the database; the router reads them for every message (cached for a moment).
  const db = createDb(config.postgres.url, { min: 0, max: 2 });
  await migrateLatest(db);
  const switches = LiveSwitches.fromDatabase(
    db,
    config.temporal.taskQueue,
    config.switches.defaults,
    config.switches.cacheMs,
    (err) => logger.warn('could not read the sync switches; keeping the last ones read', { error: String(err) }),
  );
  let stopping = false;
  // Filled in as start-up proceeds; the probes read them from the start.
  const up: { connection?: Connection; router?: EventRouter } = {};
  const registry = createRegistry('router');
  const lagAdmin = kafkaClient(config, 'alerts-sync-router-lag', { logLevel: logLevel.NOTHING }).admin();
  const lag = cached(5_000, () => consumerLag(lagAdmin, config));
  const metrics = createRouterMetrics(registry, () => lag().catch(() => []));
  const temporalReachable = temporalReachability(() => up.connection);
  // Up before Temporal and Kafka are, so the liveness probe does not restart a router that is still waiting.
  const health = await startHealthServer({
    port: config.health.routerPort,
    live: () => true,
    ready: async () => {
      if (stopping) return { ready: false, why: 'shutting down' };
      if (!up.connection) return { ready: false, why: 'not connected to Temporal yet' };
      const reachable = await temporalReachable().catch((err: unknown) => {
        logger.warn('Temporal health check failed', { error: String(err) });
        return false;
      });
      if (!reachable) return { ready: false, why: 'Temporal not reachable' };
      if (!up.router?.hasJoinedGroup()) return { ready: false, why: `not a member of ${config.kafka.consumerGroup}` };
      return { ready: true };
    },
    metrics: () => registry.metrics(),
  });
  logger.info(`health and metrics on port ${health.port}`);
  const connection = (up.connection = await connectWithRetry(config, logger));
  const router = (up.router = new EventRouter({
    kafka: kafkaClient(config, 'alerts-sync-router', { logLevel: logLevel.WARN }),
    temporal: temporalClient(config, connection),
    taskQueue: config.temporal.taskQueue,
    groupId: config.kafka.consumerGroup,
    topics: config.kafka.topics,
    partitionsAtOnce: config.kafka.partitionsAtOnce,
    lanesPerPartition: config.kafka.lanesPerPartition,
    requestsPerSignal: config.kafka.requestsPerSignal,
    switches: () => switches.get(),
    logger,
    metrics,
  }));
  await router.start();
  const inForce = await switches.get();
  logger.info(`sync switches in force: ${describeSwitches(inForce)} (change them with npm run switches)`);

  const report = setInterval(() => logger.info('counters', router.snapshot()), 60_000);
  const shutdown = async (signal: string) => {
    if (stopping) return;
    // Readiness turns 503 from here on (the stopping flag), while the message in hand finishes.
    stopping = true;
    logger.info(`${signal} received, finishing the message in hand and leaving the consumer group`);
    clearInterval(report);
    await router.stop();
    await lagAdmin.disconnect().catch(() => undefined);
    await connection.close();
    await db.destroy();
    await health.close();
    process.exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void shutdown(signal));
}

async function consumerLag(admin: Admin, config: Config): Promise<PartitionLag[]> {
  await admin.connect(); // a no-op once connected
  const topics = [config.kafka.topics.offenderEvents, config.kafka.topics.domainEvents];
  const committed = await admin.fetchOffsets({ groupId: config.kafka.consumerGroup, topics });
  const lags = await Promise.all(
    topics.map(async (topic) =>
      partitionLags(
        topic,
        await admin.fetchTopicOffsets(topic),
        committed.find((c) => c.topic === topic)?.partitions ?? [],
      ),
    ),
  );
  return lags.flat();
}

async function connectWithRetry(config: Config, logger: ReturnType<typeof createLogger>): Promise<Connection> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await connectTemporal(config);
    } catch (err) {
      logger.warn(`Temporal at ${config.temporal.address} not reachable yet (attempt ${attempt})`, {
        error: String(err),
      });
      await new Promise((resolve) => setTimeout(resolve, Math.min(10_000, 500 * attempt)));
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
