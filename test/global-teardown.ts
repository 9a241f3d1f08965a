import { loadConfig } from '../common/config';
import { stopInfra } from '../infra/stack';
import { useExternalStack } from './helpers/env';

export default async function globalTeardown(): Promise<void> {
  if (useExternalStack() || process.env.KEEP_TEST_STACK === '1') return;
  const stopped = await stopInfra(loadConfig());
  console.log(`test stack stopped: ${stopped.join(', ')}`);
}
