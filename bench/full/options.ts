import { parseCommandLine, positiveNumber, UsageError } from '../../common/cli-args';

// The full benchmark's command line and the targets its figures are held to (issue 11's).

export const LATENCY_EVENTS_PER_SECOND = 20;
/** Prison numbers are one letter, four digits, two letters: a phase numbers its prisoners 0000-9999. */
const MAX_PRISONERS_PER_PHASE = 10_000;

export interface Target {
  text: string;
  met: (value: number) => boolean;
}

export const TARGETS = {
  bulk: { text: '>= 60 resyncs/s', met: (v) => v >= 60 },
  latency: { text: 'p99 < 1000 ms at 20 ev/s', met: (v) => v < 1000 },
  router: { text: '>= 500 ev/s', met: (v) => v >= 500 },
  rss: { text: '< 300 MiB', met: (v) => v < 300 },
} as const satisfies Record<string, Target>;

export interface Options {
  batch: number;
  baselinePrisoners: number;
  latencySeconds: number;
  burstEvents: number;
  burstPrisoners: number;
  concurrency: number;
  rate: number;
  json?: string;
}

export const USAGE = `usage: npm run bench -- [--batch 10000] [--baseline-prisoners 2000] [--latency-seconds 30]
    [--burst-events 5000] [--burst-prisoners 1000] [--concurrency 40] [--rate 1000] [--json FILE]`;

export function parseOptions(argv: string[]): Options {
  const { values } = parseCommandLine(argv, {
    batch: { type: 'string', default: '10000' },
    'baseline-prisoners': { type: 'string', default: '2000' },
    'latency-seconds': { type: 'string', default: '30' },
    'burst-events': { type: 'string', default: '5000' },
    'burst-prisoners': { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '40' },
    rate: { type: 'string', default: '1000' },
    json: { type: 'string' },
  });
  const positive = (name: string, raw: string, integer = true): number => positiveNumber(`--${name}`, raw, { integer });
  const options: Options = {
    batch: positive('batch', values.batch),
    baselinePrisoners: positive('baseline-prisoners', values['baseline-prisoners']),
    latencySeconds: positive('latency-seconds', values['latency-seconds'], false),
    burstEvents: positive('burst-events', values['burst-events']),
    burstPrisoners: positive('burst-prisoners', values['burst-prisoners']),
    concurrency: positive('concurrency', values.concurrency),
    rate: positive('rate', values.rate, false),
    json: values.json,
  };
  const latencyPrisoners = Math.round(options.latencySeconds * LATENCY_EVENTS_PER_SECOND);
  for (const [name, n] of [
    ['--batch', options.batch],
    ['--baseline-prisoners', options.baselinePrisoners],
    ['--latency-seconds x 20', latencyPrisoners],
    ['--burst-prisoners', options.burstPrisoners],
  ] as const) {
    if (n > MAX_PRISONERS_PER_PHASE)
      throw new UsageError(`${name} gives ${n} prisoners; at most ${MAX_PRISONERS_PER_PHASE}`);
  }
  if (options.burstPrisoners > options.burstEvents) {
    throw new UsageError('--burst-prisoners must not exceed --burst-events');
  }
  return options;
}

/** The options as one command line, for the report. */
export function optionsLine(options: Options): string {
  return (
    `--batch ${options.batch} --baseline-prisoners ${options.baselinePrisoners} ` +
    `--latency-seconds ${options.latencySeconds} --burst-events ${options.burstEvents} ` +
    `--burst-prisoners ${options.burstPrisoners} --concurrency ${options.concurrency} --rate ${options.rate}`
  );
}
