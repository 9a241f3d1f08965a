import { getExternalWorkflowHandle, log, proxyLocalActivities } from '@temporalio/workflow';
import type { SyncActivities } from '../activities';
import { LOCAL_TEMPORAL_REQUEST } from '../common/retry-policies';
import type { ResyncFinished, ResyncRequest, ResyncWaiter } from './messages';
import { resyncFinishedSignal } from './messages';
import type { InPlaceRun } from './prisoner-resync';

// What the prisoner's queue does with the marks a resync request carries: whether it runs in place, and who is
// waiting to be told how it ended (a bulk batch, a run an operator reset).

const report = proxyLocalActivities<SyncActivities>(LOCAL_TEMPORAL_REQUEST);

/** Whether the requests' resync runs in place first, and how: their mark says (data, so histories replay). */
export function inPlaceRun(requests: ResyncRequest[]): InPlaceRun | undefined {
  if (requests.every((r) => r.inPlace === 'one-activity')) return { as: 'one-activity', waiters: waitersOf(requests) };
  if (requests.every((r) => r.inPlace)) return { as: 'steps' };
  return undefined;
}

/** Who asked to be told how the requests' resync ended, each with the ids of its own requests. */
function waitersOf(requests: ResyncRequest[]): ResyncWaiter[] {
  const workflowIds = new Set(requests.flatMap((r) => (r.notify ? [r.notify.workflowId] : [])));
  return [...workflowIds].map((workflowId) => {
    const own = requests.filter((r) => r.notify?.workflowId === workflowId);
    return {
      workflowId,
      eventIds: own.flatMap((r) => (r.eventId ? [r.eventId] : [])),
      ...(own.some((r) => r.notify?.grouped) ? { grouped: true } : {}),
    };
  });
}

/** Tells each waiting batch how its resync ended; a batch that has gone away no longer needs to know. */
export async function notifyWaiters(
  prisonNumber: string,
  requests: ResyncRequest[],
  finished: ResyncFinished,
): Promise<void> {
  // Requests marked inPlace are from since the waiter is told by a local activity (see reportResyncFinished).
  const byLocalActivity = requests.every((r) => r.inPlace);
  for (const { workflowId, eventIds, grouped } of waitersOf(requests)) {
    if (byLocalActivity) {
      await report.reportResyncFinished.executeWithOptions(
        { ...LOCAL_TEMPORAL_REQUEST, summary: `tell ${workflowId} the resync of ${prisonNumber} ended` },
        [{ workflowId, finished: { ...finished, eventIds }, ...(grouped ? { grouped } : {}) }],
      );
      continue;
    }
    try {
      await getExternalWorkflowHandle(workflowId).signal(resyncFinishedSignal, { ...finished, eventIds });
    } catch (err) {
      log.warn('could not report a resync to the workflow that asked for it', {
        prisonNumber,
        workflowId,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }
}
