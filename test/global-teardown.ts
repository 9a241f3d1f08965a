import { loadConfig } from '../common/config';
import { stopInfra } from '../infra/stack';
import { outagePostgresConfig, useExternalStack } from './helpers/env';

export default async function globalTeardown(): Promise<void> {
  // The outage test stops its own in its after-all hook, unless the run was cut short.
  await stopInfra(outagePostgresConfig(), ['postgres']);
  if (useExternalStack() || process.env.KEEP_TEST_STACK === '1') return;
  const stopped = await stopInfra(loadConfig());
  console.log(`test stack stopped: ${stopped.join(', ')}`);
}
