import path from 'node:path';
import { parseCommandLine, runCommand, UsageError } from '../common/cli-args';
import { loadConfig } from '../common/config';
import type { Config } from '../common/config';
import type { InfraService } from './stack';
import {
  INFRA_SERVICES,
  REPO_ROOT,
  infraSpecs,
  processManager,
  redact,
  startInfra,
  stateDir,
  stopInfra,
} from './stack';
import { bootstrapDemo, demoInstructions } from '../clients/demo';
import { APP_SERVICES, appSpecs, startApp, stopApp } from './app';

// `tsx infra/cli.ts up|down|status [service...]` — the stack (Temporal, Kafka, PostgreSQL) and, with
// `up --app`, the sync's own processes. Everything is detached; `down` stops it from any shell.

const SERVICES = [...INFRA_SERVICES, ...APP_SERVICES].join('|');
const USAGE = `usage: node --import tsx infra/cli.ts <up|down|status> [--app] [${SERVICES} ...]
  up       start the infrastructure, or the services named; with --app the sync's own processes too
  down     stop what is running (the app first), or the services named
  status   what is running`;

const COMMANDS = ['up', 'down', 'status'];

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommandLine(argv, { app: { type: 'boolean' } }, true);
  const [command, ...names] = positionals;
  if (command === undefined || !COMMANDS.includes(command)) {
    throw new UsageError(command === undefined ? 'give a command' : `unknown command "${command}"`);
  }
  const withApp = values.app ?? false;
  const unknown = names.filter((n) => !(INFRA_SERVICES as string[]).includes(n) && !APP_SERVICES.includes(n));
  if (unknown.length > 0) throw new UsageError(`unknown service: ${unknown.join(', ')}`);
  const config = loadConfig();
  const infra = (
    names.length ? names.filter((n) => (INFRA_SERVICES as string[]).includes(n)) : INFRA_SERVICES
  ) as InfraService[];
  const app = names.length ? names.filter((n) => APP_SERVICES.includes(n)) : withApp ? APP_SERVICES : [];
  const print = (line: string) => console.log(`  ${line}`);

  switch (command) {
    case 'up':
      console.log(`Starting in ${path.relative(REPO_ROOT, stateDir(config)) || '.'} ...`);
      await startInfra(config, infra, print);
      const started = await startApp(config, app, print);
      if (started.simulators === 'started' && started.worker && started.router) {
        // Fresh simulators hold only NOMIS data: bring DPS in step so the demo starts from a synced state.
        for (const line of await bootstrapDemo(config)) print(line);
      }
      summary(config);
      if (app.includes('simulators')) console.log(`\n${demoInstructions(config)}`);
      return;
    case 'down': {
      // App first: the worker and router shut down gracefully while Temporal and Kafka are still there.
      const stopped = [
        ...(await stopApp(config, names.length ? app : APP_SERVICES)),
        ...(await stopInfra(config, infra)),
      ];
      console.log(stopped.length ? `stopped: ${stopped.join(', ')}` : 'nothing was running');
      return;
    }
    case 'status':
      status(config);
      return;
  }
}

function status(config: Config): void {
  const manager = processManager(config);
  for (const spec of [...infraSpecs(config), ...appSpecs(config)]) {
    const state = manager.state(spec.name);
    const where = state.running ? spec.describe() : '';
    console.log(
      `  ${spec.name.padEnd(10)} ${state.running ? `running (pid ${state.pid})` : 'stopped'.padEnd(20)} ${where}`,
    );
  }
}

function summary(config: Config): void {
  const manager = processManager(config);
  console.log(`
Temporal Web UI:   ${config.temporal.uiUrl}
Temporal gRPC:     ${config.temporal.address} (namespace ${config.temporal.namespace})
Kafka bootstrap:   ${config.kafka.brokers.join(',')}
PostgreSQL:        ${redact(config.postgres.url)}${config.postgres.embedded ? ' (embedded)' : ' (external)'}
Logs:              ${path.dirname(manager.logFile('x'))}/<service>.log
Stop everything:   bin/stop`);
}

runCommand('infra/cli.ts', USAGE, () => main(process.argv.slice(2)));
