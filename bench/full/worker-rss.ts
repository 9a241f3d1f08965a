import { readFile, readlink, realpath } from 'node:fs/promises';
import { compiledEntry } from '../../infra/app-processes';

// The worker's memory, read from the kernel rather than asked of the process, so sampling costs it nothing.

export const RSS_INTERVAL_MS = 200;
export const MiB = 1024 * 1024;

export class RssSampler {
  peakBytes = 0;
  samples = 0;
  private phasePeak = 0;
  private timer?: NodeJS.Timeout;

  constructor(readonly pid: number) {}

  start(): void {
    this.timer = setInterval(() => void this.sample(), RSS_INTERVAL_MS);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The peak since the previous call: what one phase cost. */
  takePhasePeak(): number {
    const peak = this.phasePeak;
    this.phasePeak = 0;
    return peak;
  }

  private async sample(): Promise<void> {
    const status = await readFile(`/proc/${this.pid}/status`, 'utf8').catch(() => undefined);
    const kib = status?.match(/^VmRSS:\s+(\d+) kB$/m)?.[1];
    if (kib === undefined) return;
    const bytes = Number(kib) * 1024;
    this.samples++;
    this.peakBytes = Math.max(this.peakBytes, bytes);
    this.phasePeak = Math.max(this.phasePeak, bytes);
  }
}

/** The pid must be node itself running the worker's entry: a wrapper's RSS would say nothing about the worker. */
export async function assertIsWorkerProcess(pid: number): Promise<void> {
  const exe = await readlink(`/proc/${pid}/exe`);
  const node = await realpath(process.execPath);
  const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
  if (exe !== node || !cmdline.some((arg) => arg.endsWith(compiledEntry('workers/main.ts')))) {
    throw new Error(`pid ${pid} is ${exe} ${cmdline.join(' ')}, not node running the compiled workers/main.ts`);
  }
}
