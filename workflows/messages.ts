import { defineQuery, defineSignal } from '@temporalio/workflow';

export type AlertAction = 'CREATED' | 'UPDATED' | 'DELETED';

/** One alert changed on one side; the other side must follow. */
export type AlertChange =
  | { direction: 'NOMIS_TO_DPS'; action: AlertAction; bookingId: number; alertSeq: number; alertCode?: string }
  | { direction: 'DPS_TO_NOMIS'; action: AlertAction; dpsAlertId: string; alertCode: string };

interface RequestBase {
  /** The event that asked, e.g. "received (NEW_ADMISSION)"; shown in the Web UI. */
  reason: string;
  /** Identifies the event, so a duplicate delivery is recognised and not handled twice. */
  eventId?: string;
}

/** A prisoner-level change: NOMIS is authoritative, resync everything. */
export interface ResyncRequest extends RequestBase {
  kind: 'resync';
  /** Set by a merge: this prisoner was merged into the workflow's prisoner and must end with no alerts. */
  removedPrisonNumber?: string;
}

export interface AlertSyncRequest extends RequestBase {
  kind: 'alert';
  change: AlertChange;
  /** How many times it was put back because its mapping did not exist yet (events out of order). */
  deferrals?: number;
}

export type SyncRequest = ResyncRequest | AlertSyncRequest;

/** Every sync of a prisoner is requested through this signal, so they run one at a time, in order. */
export const syncRequestedSignal = defineSignal<[SyncRequest]>('syncRequested');

export interface PrisonerSyncProgress {
  prisonNumber: string;
  resyncPasses: number;
  alertSyncs: number;
  pendingRequests: number;
  duplicatesIgnored: number;
  current?: string;
}

export const prisonerSyncProgressQuery = defineQuery<PrisonerSyncProgress>('prisonerSyncProgress');
