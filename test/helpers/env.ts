import type { Config } from '../../common/config';
import { loadConfig } from '../../common/config';

// The test suite runs its own stack on its own ports and state folder, beside any running dev stack.
// STACK_EXTERNAL=1 reuses whatever stack the environment points at instead (for debugging a live stack).
// STACK_TEMPORAL=server runs the whole suite on the full Temporal server instead of the dev server.
const TEST_STACK_ENV: Record<string, string> = {
  STACK_DIR: '.stack/test',
  TEMPORAL_PORT: '17233',
  TEMPORAL_UI_PORT: '18233',
  KAFKA_PORT: '19092',
  KAFKA_CONTROLLER_PORT: '19093',
  POSTGRES_PORT: '15433',
};

export function useExternalStack(): boolean {
  return process.env.STACK_EXTERNAL === '1';
}

export function applyTestStackEnv(): void {
  if (useExternalStack()) return;
  Object.assign(process.env, TEST_STACK_ENV);
  // Settings that point at someone else's services: the test stack runs its own.
  for (const name of ['TEMPORAL_ADDRESS', 'KAFKA_BROKERS', 'DATABASE_URL', 'TEMPORAL_DATABASE_URL']) {
    delete process.env[name];
  }
}

/**
 * The database-outage test's own PostgreSQL, which it stops and starts (test/e2e/database-outage.test.ts): a fixed
 * port beside the test stack's, outside the range the OS hands out, so nothing else takes it while it is down; a
 * folder inside the test stack's, so a new run's global set-up stops what an interrupted one left and removes it.
 */
export function outagePostgresConfig(): Config {
  return loadConfig({
    ...process.env,
    DATABASE_URL: undefined,
    STACK_DIR: '.stack/test/outage-postgres',
    POSTGRES_PORT: '15434',
  });
}
