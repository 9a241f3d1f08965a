import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ResyncSource } from '../common/sync-switches';

export type AlertAction = 'CREATED' | 'UPDATED' | 'DELETED';

/** One alert changed on one side; the other side must follow. */
export type AlertChange =
  | {
      direction: 'NOMIS_TO_DPS';
      action: AlertAction;
      bookingId: number;
      alertSeq: number;
      alertCode?: string;
      /** The event did not say who wrote the change: the alert's own audit module decides (contract §1.1). */
      auditModuleOmitted?: boolean;
    }
  | { direction: 'DPS_TO_NOMIS'; action: AlertAction; dpsAlertId: string; alertCode: string };

interface RequestBase {
  /** The event that asked, e.g. "received (NEW_ADMISSION)"; shown in the Web UI. */
  reason: string;
  /** Identifies the event, so a duplicate delivery is recognised and not handled twice. */
  eventId?: string;
}

/** A prisoner-level change: resync everything from the authoritative side. */
export interface ResyncRequest extends RequestBase {
  kind: 'resync';
  /** DPS: NOMIS is made to match DPS (ADR004's future); NOMIS (or absent, as before the switch existed): DPS follows NOMIS. */
  source?: ResyncSource;
  /** Set by a merge: this prisoner was merged into the workflow's prisoner and must end with no alerts. */
  removedPrisonNumber?: string;
  /**
   * Set when the event says this prisoner's bookings went to someone else (the `from` of a booking move, the
   * removed side of a merge): a NOMIS 404 then means "no alerts any more", not a fault (contract §3).
   */
  bookingsMovedAway?: boolean;
  /**
   * A workflow waiting for this resync (a bulk batch): it gets resyncFinishedSignal when the resync ends, or, when
   * it asked for them `grouped`, resyncsFinishedSignal with other prisoners' reports that end about then.
   */
  notify?: { workflowId: string; grouped?: boolean };
  /**
   * Run a resync from NOMIS in the prisoner's workflow first, as local activities, and as a child run only if
   * that fails (prisoner-resync.ts resyncInPlace). Set by requestSync on every request since: 'one-activity' (all
   * three steps and the report to a waiting batch in one local activity) since it exists; `true` (a local activity
   * per step) on requests queued before. Absent on requests queued before either, and on the resync a failed
   * alert sync queues, whose run should stand on its own.
   */
  inPlace?: boolean | 'one-activity';
}

export interface AlertSyncRequest extends RequestBase {
  kind: 'alert';
  change: AlertChange;
  /** How many times it was put back because its mapping did not exist yet (events out of order). */
  deferrals?: number;
  /** A DPS user's edit that reached the queue while a resync of the prisoner was running, which may undo it. */
  duringResync?: boolean;
}

export type SyncRequest = ResyncRequest | AlertSyncRequest;

/**
 * The prisoner's queue (prisoner-sync.ts), by name: a client signals-with-start it by this name and these types,
 * so it need not import the workflow's module and everything that module imports.
 */
export const PRISONER_SYNC_WORKFLOW = 'prisonerSyncWorkflow';

export interface PrisonerSyncInput {
  prisonNumber: string;
  /** Requests carried over by continue-as-new (or given at start instead of by signal). */
  requests?: SyncRequest[];
  /** Event ids already handled by earlier runs of this chain. */
  handledEventIds?: string[];
  /** The starter set PrisonNumber and SyncKind (requestSync does; runs it started before it said so upserted them). */
  searchAttributesSetAtStart?: boolean;
}

/** Every sync of a prisoner is requested through this signal, so they run one at a time, in order. */
export const syncRequestedSignal = defineSignal<[SyncRequest]>('syncRequested');

/** Several requests for one prisoner at once, in order (the router, behind on a burst): each as if signalled alone. */
export const syncsRequestedSignal = defineSignal<[SyncRequest[]]>('syncsRequested');

export interface PrisonerSyncProgress {
  prisonNumber: string;
  resyncPasses: number;
  alertSyncs: number;
  pendingRequests: number;
  duplicatesIgnored: number;
  current?: string;
}

export const prisonerSyncProgressQuery = defineQuery<PrisonerSyncProgress>('prisonerSyncProgress');

/** Sent by a prisoner's workflow to whoever asked for a resync with `notify`, once that resync has ended. */
export interface ResyncFinished {
  prisonNumber: string;
  ok: boolean;
  alertCount?: number;
  /** The typed cause of a failed resync, e.g. "DpsBadRequest: ...". */
  failure?: string;
  /** The type alone, e.g. "DpsBadRequest". */
  failureType?: string;
  /**
   * The event ids of the waiter's own requests this resync answered: a waiter counts only a report of its own
   * request, never a late one meant for an earlier run of it.
   */
  eventIds?: string[];
}

export const resyncFinishedSignal = defineSignal<[ResyncFinished]>('resyncFinished');

/**
 * Several prisoners' reports to one waiter at once, each as if signalled alone: a worker groups the reports it
 * sends in the 50 ms after the first (activities/report-groups.ts), for a waiter that asked for it.
 */
export const resyncsFinishedSignal = defineSignal<[ResyncFinished[]]>('resyncsFinished');

/** A workflow waiting for a prisoner's resync (a batch), and the ids of its own requests that resync answers. */
export interface ResyncWaiter {
  workflowId: string;
  eventIds: string[];
  /** It takes its reports grouped (resyncsFinishedSignal). */
  grouped?: boolean;
}

/** One prisoner's outcome in a batch, as the batch records it (bulk_resync_items). */
export interface BulkResyncOutcomeRow {
  prisonNumber: string;
  status: 'DONE' | 'FAILED';
  failure?: string;
}

export interface BulkResyncFailure {
  prisonNumber: string;
  reason: string;
}

export interface BulkResyncProgress {
  batchId: string;
  /** Prisoners in the batch, including those skipped as done by an earlier run. */
  total: number;
  skipped: number;
  done: number;
  failed: number;
  running: number;
  pending: number;
  /** Epoch ms (workflow time) the batch started; the client derives the rate from it. */
  startedAt: number;
  finished: boolean;
  failures: BulkResyncFailure[];
}

export const bulkResyncProgressQuery = defineQuery<BulkResyncProgress>('bulkResyncProgress');
