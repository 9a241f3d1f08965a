import { ApplicationFailure, condition, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { SyncActivities } from '../activities';
import { TEMPORAL_REQUEST_ACTIVITY } from '../common/retry-policies';
import type { ResyncFinished, SyncRequest } from './messages';
import { resyncFinishedSignal } from './messages';

// A run an operator retried with the Web UI's Reset starts again outside the prisoner's queue, beside whatever
// else is syncing that prisoner. Such a run does not do the work itself: it queues it on the prisoner's own
// workflow, like every other sync, and (for a resync) waits for that queue to report how it went.

// Named by what it calls, Temporal (activities/bulk-resync.ts requestPrisonerSync), and so how it retries.
const temporal = proxyActivities<SyncActivities>(TEMPORAL_REQUEST_ACTIVITY);

/** A reset keeps the run id the execution started with and gives the new run another one. */
export function isResetRun(): boolean {
  const info = workflowInfo();
  return info.runId !== info.originalExecutionRunId;
}

/** Queues the requests on the prisoner's workflow and waits until it reports the resync that answered them. */
export async function syncThroughQueue(prisonNumber: string, requests: SyncRequest[]): Promise<ResyncFinished> {
  const { workflowId, runId } = workflowInfo();
  const eventIds = requests.map((_, i) => `retry:${runId}:${i}`);
  let finished: ResyncFinished | undefined;
  setHandler(resyncFinishedSignal, (report) => {
    if (report.eventIds?.some((id) => eventIds.includes(id))) finished = report;
  });
  for (const [i, request] of requests.entries()) {
    await temporal.requestPrisonerSync.executeWithOptions(
      { ...TEMPORAL_REQUEST_ACTIVITY, summary: `queue on prisoner-sync-${prisonNumber}: ${request.reason}` },
      [
        {
          prisonNumber,
          request: {
            ...request,
            eventId: eventIds[i],
            ...(request.kind === 'resync' ? { notify: { workflowId } } : {}),
          },
        },
      ],
    );
  }
  if (!requests.some((r) => r.kind === 'resync')) return { prisonNumber, ok: true };
  await condition(() => finished !== undefined);
  const report = finished as ResyncFinished;
  if (!report.ok) {
    throw ApplicationFailure.nonRetryable(report.failure ?? 'resync failed', report.failureType ?? 'ResyncFailed');
  }
  return report;
}
