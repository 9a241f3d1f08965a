import { defineQuery, defineSignal } from '@temporalio/workflow';

/** Why a prisoner is being resynced; several requests arriving during one pass are coalesced into the next. */
export interface ResyncRequest {
  /** The event that asked, e.g. "prisoner.received NEW_ADMISSION"; shown in the Web UI. */
  reason: string;
  /** Identifies the event, so a duplicate delivery is recognised and not resynced twice. */
  eventId?: string;
  /** Set by a merge: this prisoner was merged into the workflow's prisoner and must end with no alerts. */
  removedPrisonNumber?: string;
}

export const resyncRequestedSignal = defineSignal<[ResyncRequest]>('resyncRequested');

export interface ResyncProgress {
  prisonNumber: string;
  passesDone: number;
  pendingRequests: number;
  duplicatesIgnored: number;
  current?: string;
}

export const resyncProgressQuery = defineQuery<ResyncProgress>('resyncProgress');
