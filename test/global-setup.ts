import fs from 'node:fs';
import { loadConfig } from '../common/config';
import { startInfra, stateDir, stopInfra } from '../infra/stack';
import { temporalServerSettings } from '../infra/temporal-server';
import { applyTestStackEnv, outagePostgresConfig, useExternalStack } from './helpers/env';

export default async function globalSetup(): Promise<void> {
  applyTestStackEnv();
  if (useExternalStack()) return;
  const config = loadConfig();
  // Left running by an interrupted run: stopped before its folder goes.
  await stopInfra(outagePostgresConfig(), ['postgres']);
  // A fresh stack every run: no workflow, topic or row from an earlier run can make a test pass.
  fs.rmSync(stateDir(config), { recursive: true, force: true });
  const temporal = temporalServerSettings(config).kind === 'server' ? 'the full Temporal server' : 'the dev server';
  console.log(`\nstarting the test stack in ${config.stackDir} (Temporal: ${temporal})`);
  await startInfra(config, undefined, (line) => console.log(`  ${line}`));
}
