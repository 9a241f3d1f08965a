import { readFile } from 'node:fs/promises';
import { connectClient } from '../adapters/temporal';
import { loadConfig } from '../common/config';
import { prisonNumber as prisonNumberSchema } from '../common/contract';
import { parseCommandLine, positiveNumber, resyncSourceOption, runCommand, UsageError } from '../common/cli-args';
import type { BulkResyncProgress } from '../workflows/messages';
import type { BatchHandle, BatchRequest } from './bulk-batch';
import { attachBatch, formatReport, renderProgress, startOrAttachBatch, watchBatch } from './bulk-batch';

const USAGE = `usage: npm run bulk-resync -- [prisonNumber ...] [--file FILE] [--prison PRISON_ID] [options]
       npm run bulk-resync -- --attach BATCH_ID

Resyncs many prisoners as one durable Temporal batch; the batch goes on if this program exits.
  --file FILE         prison numbers, one per line (blank lines and # comments ignored)
  --prison ID         every prisoner NOMIS has at that prison now
  --batch NAME        the batch's name (default: derived from the prisoners, so the same command is the same batch)
  --concurrency N     prisoners resyncing at once (default BULK_RESYNC_CONCURRENCY or 20)
  --rate N            resyncs started per second at most (default BULK_RESYNC_RATE or 10)
  --redo              also resync prisoners an earlier run of this batch already did
  --from nomis|dps    which side the resyncs copy from (default: the resync source switched on, npm run switches)
  --attach BATCH_ID   watch a batch started earlier
  --detach            start the batch and exit without watching it
  -h, --help          this text`;

interface Options {
  request: Omit<BatchRequest, 'prisonNumbers'> & { prisonNumbers: string[] };
  files: string[];
  attach?: string;
  detach: boolean;
}

function parseOptions(argv: string[], defaults: { concurrency: number; ratePerSecond: number }): Options {
  // A repeated option takes its last value: a command can be rerun with an option added to change it.
  const { values, positionals } = parseCommandLine(
    argv,
    {
      file: { type: 'string', multiple: true },
      prison: { type: 'string' },
      batch: { type: 'string' },
      concurrency: { type: 'string' },
      rate: { type: 'string' },
      redo: { type: 'boolean' },
      from: { type: 'string' },
      attach: { type: 'string' },
      detach: { type: 'boolean' },
    },
    true,
  );
  const request: Options['request'] = { ...defaults, prisonNumbers: positionals };
  if (values.prison !== undefined) request.prisonId = values.prison;
  if (values.batch !== undefined) request.batchId = values.batch;
  if (values.concurrency !== undefined) {
    request.concurrency = Math.ceil(positiveNumber('--concurrency', values.concurrency));
  }
  if (values.rate !== undefined) request.ratePerSecond = positiveNumber('--rate', values.rate);
  if (values.redo) request.redo = true;
  if (values.from !== undefined) request.source = resyncSourceOption(values.from);
  return { request, files: values.file ?? [], attach: values.attach, detach: values.detach ?? false };
}

async function readPrisonNumberFile(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`--file ${path}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  });
  return text
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter((line) => line !== '');
}

function checkPrisonNumbers(prisonNumbers: string[]): void {
  const bad = prisonNumbers.filter((p) => !prisonNumberSchema.safeParse(p).success);
  if (bad.length > 0) {
    const shown = bad.slice(0, 10).join(', ') + (bad.length > 10 ? ` and ${bad.length - 10} more` : '');
    throw new UsageError(`not prison numbers (like A1234BC): ${shown}`);
  }
}

/** A bar redrawn in place on a terminal; elsewhere (logs, CI) a line when something changed, every 2 s at most. */
function progressPrinter(): { show: (progress: BulkResyncProgress) => void; end: () => void } {
  const tty = process.stdout.isTTY;
  let lastLine = '';
  let lastPrintedAt = 0;
  return {
    show(progress) {
      const line = renderProgress(progress, Date.now());
      if (tty) process.stdout.write(`\r\x1b[K${line}`);
      else if (line !== lastLine && Date.now() - lastPrintedAt >= 2_000) {
        console.log(line);
        lastPrintedAt = Date.now();
      }
      lastLine = line;
    },
    end() {
      if (tty && lastLine) process.stdout.write('\n');
    },
  };
}

async function main(argv: string[]): Promise<void> {
  const config = loadConfig();
  const options = parseOptions(argv, config.bulkResync);
  const { request } = options;
  for (const file of options.files) request.prisonNumbers.push(...(await readPrisonNumberFile(file)));
  if (!options.attach) {
    if (request.prisonId && request.prisonNumbers.length > 0) {
      throw new UsageError('give prison numbers or --prison, not both');
    }
    if (!request.prisonId && request.prisonNumbers.length === 0) throw new UsageError('nothing to resync');
    checkPrisonNumbers(request.prisonNumbers);
  }

  const { client, close } = await connectClient(config);
  try {
    let handle: BatchHandle;
    let batchId: string;
    if (options.attach) {
      batchId = options.attach;
      handle = attachBatch(client, batchId);
      await handle.describe(); // fails clearly when there is no such batch
      console.log(`attached to batch ${batchId}`);
    } else {
      const started = await startOrAttachBatch(client, config.temporal.taskQueue, request);
      ({ handle, batchId } = started);
      console.log(
        started.attached
          ? `batch ${batchId} is already running: attached to it (its own settings apply)`
          : `started batch ${batchId}`,
      );
    }
    const ui = `${config.temporal.uiUrl}/namespaces/${config.temporal.namespace}/workflows/${handle.workflowId}`;
    console.log(`Web UI: ${ui}`);
    if (options.detach) {
      console.log(`watch it again with: npm run bulk-resync -- --attach ${batchId}`);
      return;
    }
    const printer = progressPrinter();
    const report = await watchBatch(handle, printer.show).finally(printer.end);
    console.log(formatReport(report));
    if (report.failed > 0) process.exitCode = 1;
  } finally {
    await close();
  }
}

runCommand('bulk-resync', USAGE, () => main(process.argv.slice(2)));
