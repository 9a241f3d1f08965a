import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { BATCH_ID_PATTERN, bulkResyncWorkflowId } from '../common/ids';
import { SYNC_KIND } from '../common/search-attributes';
import { SyncKind } from '../common/sync-kinds';
import type { BulkResyncInput, BulkResyncReport } from '../workflows/bulk-resync';
import { bulkResyncWorkflow } from '../workflows/bulk-resync';
import type { BulkResyncProgress } from '../workflows/messages';
import { bulkResyncProgressQuery } from '../workflows/messages';
import type { ResyncSource } from '../common/sync-switches';

// Starting, re-attaching to and watching bulk resync batches; the CLI (bulk-resync.ts) and the tests use it.

export interface BatchRequest {
  /** Names the batch; by default derived from what is resynced, so the same command is the same batch. */
  batchId?: string;
  prisonNumbers?: string[];
  prisonId?: string;
  concurrency: number;
  ratePerSecond: number;
  redo?: boolean;
  /** Which side the resyncs copy from; by default the resync source switched on as each is queued. */
  source?: ResyncSource;
  /** Tuning for tests and very large batches; see BulkResyncInput. */
  failuresKept?: number;
  livenessCheckEvery?: Duration;
}

export type BatchHandle = WorkflowHandle<typeof bulkResyncWorkflow>;

export function defaultBatchId(request: Pick<BatchRequest, 'prisonNumbers' | 'prisonId' | 'source'>): string {
  // A batch told to copy from one side is another batch than the same prisoners from the other side.
  const from = request.source ? `-from-${request.source.toLowerCase()}` : '';
  if (request.prisonId) return `prison-${request.prisonId}${from}`;
  const sorted = [...new Set(request.prisonNumbers ?? [])].sort();
  return `list-${sorted.length}-${createHash('sha256').update(sorted.join(',')).digest('hex').slice(0, 10)}${from}`;
}

/** Starts the batch, or — when a run of the same batch is still going — attaches to that run instead. */
export async function startOrAttachBatch(
  client: Client,
  taskQueue: string,
  request: BatchRequest,
): Promise<{ handle: BatchHandle; batchId: string; attached: boolean }> {
  const batchId = request.batchId ?? defaultBatchId(request);
  if (!BATCH_ID_PATTERN.test(batchId)) {
    throw new Error(
      `batch id "${batchId}" must be 1-80 letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
  }
  const what =
    (request.prisonId ? `every prisoner at ${request.prisonId}` : `${request.prisonNumbers?.length} prisoners`) +
    (request.source ? ` from ${request.source}` : '');
  const input: BulkResyncInput = {
    batchId,
    prisonNumbers: request.prisonId ? undefined : request.prisonNumbers,
    prisonId: request.prisonId,
    concurrency: request.concurrency,
    ratePerSecond: request.ratePerSecond,
    redo: request.redo,
    ...(request.source ? { source: request.source } : {}),
    ...(request.failuresKept === undefined ? {} : { failuresKept: request.failuresKept }),
    ...(request.livenessCheckEvery === undefined ? {} : { livenessCheckEvery: request.livenessCheckEvery }),
  };
  try {
    const handle = await client.workflow.start(bulkResyncWorkflow, {
      workflowId: bulkResyncWorkflowId(batchId),
      taskQueue,
      args: [input],
      typedSearchAttributes: [{ key: SYNC_KIND, value: SyncKind.bulkResync }],
      staticSummary: `bulk resync ${batchId}: ${what}, ${request.concurrency} at once, ${request.ratePerSecond}/s`,
    });
    return { handle, batchId, attached: false };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    return { handle: attachBatch(client, batchId), batchId, attached: true };
  }
}

export function attachBatch(client: Client, batchId: string): BatchHandle {
  return client.workflow.getHandle<typeof bulkResyncWorkflow>(bulkResyncWorkflowId(batchId));
}

/** Polls the batch's progress until it ends; returns its report (throws if the batch itself failed). */
export async function watchBatch(
  handle: BatchHandle,
  onProgress: (progress: BulkResyncProgress) => void,
  intervalMs = 1_000,
): Promise<BulkResyncReport> {
  let ended = false;
  const result = handle.result().finally(() => (ended = true));
  result.catch(() => undefined); // awaited below; this only stops an unhandled rejection while we poll
  while (!ended) {
    try {
      onProgress(await handle.query(bulkResyncProgressQuery));
    } catch {
      // Not answerable yet (no worker has picked the batch up) or just ended: try again, or fall through.
    }
    await Promise.race([result.catch(() => undefined), sleep(intervalMs)]);
  }
  return result;
}

const BAR_WIDTH = 30;

/** One line: bar, counts, rate and time left. */
export function renderProgress(progress: BulkResyncProgress, now: number): string {
  if (progress.startedAt === 0) return 'preparing the batch (listing prisoners, skipping those done before) ...';
  const toDo = progress.total - progress.skipped;
  const finished = progress.done + progress.failed;
  const filled = toDo === 0 ? BAR_WIDTH : Math.round((finished / toDo) * BAR_WIDTH);
  const seconds = Math.max(0.001, (now - progress.startedAt) / 1000);
  const rate = finished / seconds;
  const left = progress.pending + progress.running;
  const eta = rate > 0 && left > 0 ? ` eta ${formatSeconds(left / rate)}` : '';
  return (
    `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${finished}/${toDo}` +
    ` done ${progress.done} failed ${progress.failed} running ${progress.running}` +
    ` ${rate.toFixed(1)}/s${eta}` +
    (progress.skipped ? ` (skipped ${progress.skipped} done before)` : '')
  );
}

export function formatReport(report: BulkResyncReport): string {
  const seconds = (report.finishedAt - report.startedAt) / 1000;
  const lines = [
    `batch ${report.batchId} finished in ${formatSeconds(seconds)}: ${report.total} prisoners, ` +
      `${report.done} resynced, ${report.failed} failed, ${report.skipped} skipped (done by an earlier run)`,
  ];
  if (report.failures.length > 0) {
    lines.push('failed:');
    for (const failure of report.failures) lines.push(`  ${failure.prisonNumber}  ${failure.reason}`);
    const more = report.failed - report.failures.length;
    if (more > 0) {
      lines.push(
        `  … and ${more} more (every failure is in the table bulk_resync_items, batch_id '${report.batchId}')`,
      );
    }
  }
  return lines.join('\n');
}

function formatSeconds(seconds: number): string {
  const s = Math.round(seconds);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}
