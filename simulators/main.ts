import { kafkaConnectionOptions } from '../adapters/kafka';
import { loadConfig } from '../common/config';
import { createLogger } from '../common/logger';
import type { Logger } from '../common/logger';
import type { SimLog } from './events';
import { startSimulators } from './index';
import { createRng, seedFromEnv } from './random';
import { seedDemoPrisoners } from './seed';

// The simulators as a process for the dev stack: NOMIS, DPS and HMPPS Auth on the configured ports, publishing
// to the configured Kafka topics. SIM_SEED_DEMO=0 starts empty; SIM_DEMO_PRISONERS sets how many to seed;
// SIM_RANDOM_SEED makes fault injection repeatable; SIM_HOST changes the bind address.

async function main(): Promise<void> {
  const config = loadConfig();
  const loggers = new Map<string, Logger>();
  const log: SimLog = (component, message) => {
    let logger = loggers.get(component);
    if (!logger) loggers.set(component, (logger = createLogger(component, config.logLevel)));
    logger.info(message);
  };
  const randomSeed = seedFromEnv();
  const simulators = await startSimulators({
    host: process.env.SIM_HOST || '127.0.0.1',
    nomisPort: config.simulators.nomisPort,
    dpsPort: config.simulators.dpsPort,
    authPort: config.simulators.authPort,
    // SIM_KAFKA=0 runs the simulators without Kafka (events are then only logged and kept in memory).
    kafka:
      process.env.SIM_KAFKA === '0'
        ? null
        : {
            ...kafkaConnectionOptions(config),
            topics: {
              offenderEvents: config.kafka.topics.offenderEvents,
              domainEvents: config.kafka.topics.domainEvents,
            },
          },
    randomSeed,
    log,
  });
  simulators.events.onPublish((event) =>
    log('events', `${event.value.eventType as string} key=${event.key} ${JSON.stringify(event.value)}`),
  );
  log(
    'sim',
    `NOMIS ${simulators.urls.nomis}, DPS ${simulators.urls.dps}, auth ${simulators.urls.auth} (fault seed ${randomSeed})`,
  );

  if (process.env.SIM_SEED_DEMO !== '0') {
    const count = Number(process.env.SIM_DEMO_PRISONERS || 20);
    if (!Number.isInteger(count) || count < 0) throw new Error(`SIM_DEMO_PRISONERS must be a whole number`);
    const created = await seedDemoPrisoners(simulators.nomis, count, createRng(1));
    log('nomis', `seeded ${created.length} demo prisoners (see: node --import tsx simulators/cli.ts help)`);
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log('sim', `${signal}: shutting down`);
    simulators.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log('sim', `shutdown failed: ${String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
