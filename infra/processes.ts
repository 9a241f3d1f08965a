import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

// A tiny process supervisor: each service runs detached in its own process group, logs to a file and is
// tracked by a pid file, so `up` can return, `down` can stop it from another shell, and `up` twice is a no-op.

export interface ServiceSpec {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** Run as this user (postgres refuses to run as root); asked after prepare(), which may create the user. */
  runAs?: () => { uid?: number; gid?: number };
  /** Signal that asks the service for a clean, prompt shutdown. */
  stopSignal?: NodeJS.Signals;
  /** One-off preparation before the first start (format storage, initdb...). */
  prepare?: () => Promise<void>;
  /** Resolves true once the service answers real requests. */
  healthy: () => Promise<boolean>;
  startTimeoutMs?: number;
  /** Where the service can be reached, for the summary. */
  describe: () => string;
}

export interface ServiceState {
  name: string;
  pid?: number;
  running: boolean;
  logFile: string;
}

export class ProcessManager {
  constructor(private readonly stateDir: string) {}

  logFile(name: string): string {
    return path.join(this.stateDir, 'logs', `${name}.log`);
  }

  private pidFile(name: string): string {
    return path.join(this.stateDir, 'pids', `${name}.pid`);
  }

  state(name: string): ServiceState {
    const pid = this.readPid(name);
    return { name, pid, running: pid !== undefined && isAlive(pid), logFile: this.logFile(name) };
  }

  async start(spec: ServiceSpec): Promise<'started' | 'already-running'> {
    const current = this.state(spec.name);
    if (current.running && (await safeHealthy(spec))) return 'already-running';
    if (current.running && current.pid !== undefined) {
      // Alive but not answering: a half-dead leftover. Replace it rather than guess.
      await this.stopPid(current.pid, spec.stopSignal ?? 'SIGTERM');
    }
    fs.mkdirSync(path.dirname(this.logFile(spec.name)), { recursive: true });
    fs.mkdirSync(path.dirname(this.pidFile(spec.name)), { recursive: true });
    if (spec.prepare) await spec.prepare();
    const user = spec.runAs?.() ?? {};

    const log = fs.openSync(this.logFile(spec.name), 'a');
    fs.writeSync(log, `\n==== ${new Date().toISOString()} starting ${spec.command} ${spec.args.join(' ')}\n`);
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      detached: true,
      stdio: ['ignore', log, log],
      uid: user.uid,
      gid: user.gid,
    });
    fs.closeSync(log);
    if (child.pid === undefined) throw new Error(`${spec.name}: could not spawn ${spec.command}`);
    let exited: string | undefined;
    child.on('exit', (code, signal) => {
      exited = `exited with ${signal ?? `code ${code}`}`;
    });
    child.unref();
    fs.writeFileSync(this.pidFile(spec.name), String(child.pid));

    const deadline = Date.now() + (spec.startTimeoutMs ?? 120_000);
    while (Date.now() < deadline) {
      if (exited) {
        throw new Error(`${spec.name} ${exited} during start-up.\n${this.tail(spec.name)}`);
      }
      if (await safeHealthy(spec)) return 'started';
      await sleep(500);
    }
    throw new Error(`${spec.name} did not become healthy in time.\n${this.tail(spec.name)}`);
  }

  /** Starts in order, one at a time (two cores: parallel start-ups only slow each other), reporting each. */
  async startAll(
    specs: ServiceSpec[],
    report: (line: string) => void = () => undefined,
  ): Promise<Record<string, 'started' | 'already-running'>> {
    const results: Record<string, 'started' | 'already-running'> = {};
    for (const spec of specs) {
      const began = Date.now();
      const result = await this.start(spec);
      results[spec.name] = result;
      const seconds = ((Date.now() - began) / 1000).toFixed(1);
      report(`${spec.name.padEnd(10)} ${result.padEnd(15)} ${seconds.padStart(5)}s  ${spec.describe()}`);
    }
    return results;
  }

  /** Stops in reverse start order; returns the names that were running. */
  async stopAll(specs: ServiceSpec[]): Promise<string[]> {
    const stopped: string[] = [];
    for (const spec of [...specs].reverse()) {
      if (await this.stop(spec.name, spec.stopSignal)) stopped.push(spec.name);
    }
    return stopped;
  }

  async stop(name: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<boolean> {
    const pid = this.readPid(name);
    if (pid === undefined) return false;
    const wasRunning = isAlive(pid);
    if (wasRunning) await this.stopPid(pid, signal);
    fs.rmSync(this.pidFile(name), { force: true });
    return wasRunning;
  }

  tail(name: string, lines = 30): string {
    try {
      const text = fs.readFileSync(this.logFile(name), 'utf8').trimEnd().split('\n');
      return `--- last lines of ${this.logFile(name)} ---\n${text.slice(-lines).join('\n')}`;
    } catch {
      return `(no log at ${this.logFile(name)})`;
    }
  }

  private async stopPid(pid: number, signal: NodeJS.Signals): Promise<void> {
    signalGroup(pid, signal);
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (!isAlive(pid)) break;
      await sleep(200);
    }
    // Whatever is left of the group (children of a wrapper, a hung JVM) goes too.
    signalGroup(pid, 'SIGKILL');
  }

  private readPid(name: string): number | undefined {
    try {
      const pid = Number(fs.readFileSync(this.pidFile(name), 'utf8').trim());
      return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function safeHealthy(spec: ServiceSpec): Promise<boolean> {
  try {
    return await spec.healthy();
  } catch {
    return false;
  }
}
