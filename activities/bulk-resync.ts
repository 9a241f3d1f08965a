import { Context, log } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Db } from '../adapters/db';
import { findBulkResyncDone, forgetBulkResync, recordBulkResyncOutcomes } from '../adapters/db';
import type { NomisApiClient } from '../adapters/nomis';
import { requestSync } from '../adapters/temporal';
import { mapConcurrently } from '../common/concurrency';
import { batchResyncEventId, prisonerSyncWorkflowId } from '../common/ids';
import type { BulkResyncOutcomeRow, ResyncFinished, SyncRequest } from '../workflows/messages';
import { resyncFinishedSignal, resyncsFinishedSignal } from '../workflows/messages';
import { classified } from './failures';
import { ReportGroups } from './report-groups';
import type { ResyncSource, SyncSwitches } from '../common/sync-switches';

/** How many signal-with-starts one activity has in flight at once. */
const REQUESTS_IN_FLIGHT = 20;
/**
 * How long a report waits for others to the same batch, to go with them in one signal. A batch keeps dozens of
 * resyncs in flight, so its window loses little to the wait; at 60 resyncs/s a signal carries two or three.
 */
const REPORT_LINGER_MS = 50;

// Longer than 80 lines as a whole: a factory of several activities sharing its dependencies, each one short.
export function createBulkResyncActivities(deps: {
  db: Db;
  nomis: NomisApiClient;
  temporal: Client;
  switches?: () => Promise<SyncSwitches>;
  reportsGrouped?: boolean;
}) {
  const tell = async (
    workflowId: string,
    prisonNumber: string,
    signal: (handle: ReturnType<Client['workflow']['getHandle']>) => Promise<void>,
  ): Promise<void> => {
    try {
      await signal(deps.temporal.workflow.getHandle(workflowId));
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      log.warn('the workflow that asked for a resync has gone: not told', { workflowId, prisonNumber });
    }
  };
  const reportGroups = new ReportGroups<ResyncFinished>(
    (workflowId, reports) =>
      tell(workflowId, reports.map((r) => r.prisonNumber).join(', '), (handle) =>
        handle.signal(resyncsFinishedSignal, reports),
      ),
    REPORT_LINGER_MS,
  );
  return {
    /** Read-only: every prisoner NOMIS has in prison at `prisonId` now, page by page. */
    async listPrisonersAtPrison(input: { prisonId: string; pageSize: number }): Promise<string[]> {
      const prisonNumbers: string[] = [];
      for (let page = 0; ; page++) {
        const result = await classified(() =>
          deps.nomis.getActivePrisonerIds(
            { page, size: input.pageSize, prisonId: input.prisonId },
            Context.current().cancellationSignal,
          ),
        );
        prisonNumbers.push(...result.content.map((p) => p.offenderNo));
        Context.current().heartbeat({ page, found: prisonNumbers.length });
        if (page + 1 >= result.totalPages) break;
      }
      log.info('listed prisoners at prison', { prisonId: input.prisonId, count: prisonNumbers.length });
      return prisonNumbers;
    },

    /** Read-only unless `redo`, which forgets the batch's past outcomes (a delete: safe to repeat). */
    async findDoneInEarlierRuns(input: { batchId: string; prisonNumbers: string[]; redo: boolean }): Promise<string[]> {
      if (input.redo) {
        const forgotten = await forgetBulkResync(deps.db, input.batchId);
        log.info('bulk resync redo: earlier outcomes forgotten', { batchId: input.batchId, forgotten });
        return [];
      }
      return [...(await findBulkResyncDone(deps.db, input.batchId, input.prisonNumbers))];
    },

    /**
     * Queues a resync on each prisoner's workflow (signal-with-start), asking it to report back to the batch:
     * from `source`, or else from the resync source switched on now. Idempotent: the event id is fixed per
     * (batch run, prisoner), so a retried call is ignored as a duplicate.
     */
    async requestBatchResyncs(input: {
      batchWorkflowId: string;
      runKey: string;
      reason: string;
      prisonNumbers: string[];
      source?: ResyncSource;
      /** The batch takes its prisoners' reports grouped (resyncsFinishedSignal). */
      groupedReports?: boolean;
    }): Promise<void> {
      const { taskQueue } = Context.current().info;
      const source = input.source ?? (await deps.switches?.())?.resyncSource ?? 'NOMIS';
      const grouped = input.groupedReports === true && deps.reportsGrouped !== false;
      await mapConcurrently(input.prisonNumbers, REQUESTS_IN_FLIGHT, (prisonNumber) =>
        requestSync(
          deps.temporal,
          taskQueue,
          prisonNumber,
          {
            kind: 'resync',
            reason: input.reason,
            eventId: batchResyncEventId(input.runKey, prisonNumber),
            notify: { workflowId: input.batchWorkflowId, ...(grouped ? { grouped } : {}) },
            ...(source === 'DPS' ? { source } : {}),
          },
          { startEagerly: true },
        ),
      );
    },

    /** Idempotent by the request's event id: queues one sync on the prisoner's own workflow. */
    async requestPrisonerSync(input: { prisonNumber: string; request: SyncRequest }): Promise<void> {
      await requestSync(deps.temporal, Context.current().info.taskQueue, input.prisonNumber, input.request);
      log.info('sync queued on the prisoner workflow', {
        prisonNumber: input.prisonNumber,
        reason: input.request.reason,
      });
    },

    /**
     * Tells the workflow that asked for a resync (a batch) how it ended; one that has gone away no longer needs to
     * know. From the prisoner's workflow task, as a local activity: a signal from workflow code would cost that
     * workflow a command, its events and a second workflow task before it can close. `grouped`: with the other
     * reports this worker sends that waiter about then, in one signal (report-groups.ts).
     */
    async reportResyncFinished(input: {
      workflowId: string;
      finished: ResyncFinished;
      grouped?: boolean;
    }): Promise<void> {
      const { workflowId, finished } = input;
      if (input.grouped) return reportGroups.report(workflowId, finished);
      return tell(workflowId, finished.prisonNumber, (handle) => handle.signal(resyncFinishedSignal, finished));
    },

    /** Read-only: which of these prisoners' workflows are not running (and so will never report). */
    async findClosedPrisonerSyncs(input: {
      prisonNumbers: string[];
    }): Promise<Array<{ prisonNumber: string; status: string }>> {
      const statuses = await mapConcurrently(input.prisonNumbers, REQUESTS_IN_FLIGHT, async (prisonNumber) => {
        try {
          const run = await deps.temporal.workflow.getHandle(prisonerSyncWorkflowId(prisonNumber)).describe();
          return { prisonNumber, status: run.status.name };
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) return { prisonNumber, status: 'NOT_FOUND' };
          throw err;
        }
      });
      return statuses.filter((s) => s.status !== 'RUNNING');
    },

    /** Upsert by (batch, prisoner). */
    async recordBatchOutcomes(input: { batchId: string; outcomes: BulkResyncOutcomeRow[] }): Promise<void> {
      await recordBulkResyncOutcomes(deps.db, input.batchId, input.outcomes);
    },
  };
}
