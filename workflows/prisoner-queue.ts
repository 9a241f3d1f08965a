import type { ResyncSource } from '../common/sync-switches';
import type { AlertSyncRequest, ResyncRequest, SyncRequest } from './messages';

// The rules of one prisoner's queue (prisoner-sync.ts drives it): which requests are duplicates, what runs next,
// what a resync covers, which queued changes a user's delete supersedes, and what continue-as-new carries. Plain
// data in, plain data out, no Temporal API: test/unit/prisoner-queue.test.ts checks every rule in milliseconds.

/** Keeps the duplicate filter's memory bounded across a long chain of runs. */
export const MAX_REMEMBERED_EVENT_IDS = 200;

/** What the queue runs next. */
export type NextStep =
  | { kind: 'alert'; request: AlertSyncRequest }
  | {
      kind: 'resync';
      /** Changes queued before the resync that it would overwrite: they run first, in order. */
      alertSyncsFirst: AlertSyncRequest[];
      /** One resync per source asked for, the latest request's source last (the switch flipped between them). */
      resyncs: Array<{ source: ResyncSource; requests: ResyncRequest[] }>;
    };

export class PrisonerQueue {
  private readonly requests: SyncRequest[];
  private readonly handled: Set<string>;
  duplicatesIgnored = 0;
  /** NOMIS -> DPS alert changes made redundant by a resync queued after them. */
  absorbed = 0;

  constructor(requests: readonly SyncRequest[] = [], handledEventIds: readonly string[] = []) {
    this.requests = [...requests];
    this.handled = new Set(handledEventIds);
    for (const request of this.requests) if (request.eventId) this.handled.add(request.eventId);
  }

  get length(): number {
    return this.requests.length;
  }

  /**
   * Queues a request unless its event was handled already (false: a duplicate). A DPS user's edit is marked as
   * one a resync may have overwritten when `resyncMayOverwrite` says so (asked only for such edits).
   */
  receive(request: SyncRequest, resyncMayOverwrite: () => boolean): boolean {
    if (request.eventId && this.handled.has(request.eventId)) {
      this.duplicatesIgnored++;
      return false;
    }
    if (request.eventId) this.handled.add(request.eventId);
    this.requests.push(isDpsEdit(request) && resyncMayOverwrite() ? duringResync(request) : request);
    return true;
  }

  /**
   * The next step. Every resync request waiting becomes ONE resync (one per source, if the resync source switch
   * flipped between them), which reads its source afresh. The alert changes queued before it on its source's
   * side are covered by it and dropped (absorbed); those from the other side run first — otherwise the resync
   * would delete a user's new alert that its source does not have yet.
   */
  next(): NextStep | undefined {
    const lastResync = this.requests.map((r) => r.kind).lastIndexOf('resync');
    if (lastResync < 0) {
      const request = this.requests.shift();
      return request && { kind: 'alert', request: request as AlertSyncRequest };
    }
    const batch = this.requests.splice(0, lastResync + 1);
    const resyncRequests = batch.filter((r): r is ResyncRequest => r.kind === 'resync');
    const sources = sourcesInOrder(resyncRequests);
    // With both sources queued (the switch flipped), every change runs first.
    const covered = sources.length === 1 ? (sources[0] === 'DPS' ? 'DPS_TO_NOMIS' : 'NOMIS_TO_DPS') : undefined;
    const alertSyncsFirst: AlertSyncRequest[] = [];
    for (const request of batch) {
      if (request.kind !== 'alert') continue;
      if (request.change.direction === covered) this.absorbed++;
      else alertSyncsFirst.push(request);
    }
    return {
      kind: 'resync',
      alertSyncsFirst,
      resyncs: sources.map((source) => ({
        source,
        requests: resyncRequests.filter((r) => (r.source ?? 'NOMIS') === source),
      })),
    };
  }

  /** A resync from NOMIS starts: the DPS edits queued behind it were made before it writes DPS, so it may overwrite them. */
  resyncFromNomisStarted(): void {
    for (let i = 0; i < this.requests.length; i++) {
      const request = this.requests[i];
      if (isDpsEdit(request)) this.requests[i] = duringResync(request);
    }
  }

  /**
   * What a DPS user's later delete, queued behind `request`, makes redundant before it runs: the request itself
   * (a change to the alert the user then deleted: the delete is their last word), or, for a delete, the earlier
   * changes of the alert put back to wait for it (it was gone already), which leave the queue. Empty: run it.
   */
  supersededBy(request: AlertSyncRequest): { runIt: boolean; superseded: AlertSyncRequest[] } {
    const { change } = request;
    if (change.direction !== 'DPS_TO_NOMIS') return { runIt: true, superseded: [] };
    if (change.action !== 'DELETED') {
      const deleteQueued = this.requests.some(
        (r) => isDpsChangeOf(r, change.dpsAlertId) && r.change.action === 'DELETED',
      );
      return deleteQueued ? { runIt: false, superseded: [request] } : { runIt: true, superseded: [] };
    }
    const superseded: AlertSyncRequest[] = [];
    for (let i = this.requests.length - 1; i >= 0; i--) {
      const waiting = this.requests[i];
      if (!isDpsChangeOf(waiting, change.dpsAlertId) || waiting.change.action === 'DELETED') continue;
      this.requests.splice(i, 1);
      superseded.push(waiting);
    }
    return { runIt: true, superseded };
  }

  /**
   * Puts back a change that came out of order (its create, or the user's delete, may be queued behind it).
   * True when nothing else is queued, so the queue should give that time to land before trying it again.
   */
  defer(request: AlertSyncRequest): boolean {
    this.requests.push({ ...request, deferrals: (request.deferrals ?? 0) + 1 });
    return this.requests.length === 1;
  }

  /** A resync behind everything queued (after an alert sync failed: it brings both systems back in step). */
  queueResync(reason: string, source: ResyncSource): void {
    this.requests.push({ kind: 'resync', reason, ...(source === 'DPS' ? { source } : {}) });
  }

  /** What the next run of the chain starts with after continue-as-new. */
  carryOver(): { requests: SyncRequest[]; handledEventIds: string[] } {
    return { requests: [...this.requests], handledEventIds: [...this.handled].slice(-MAX_REMEMBERED_EVENT_IDS) };
  }
}

/**
 * An in-place resync holds the workflow task until its last step, so what users sent meanwhile is delivered
 * only in the next task. Told the history length where the last in-place resync ended, this says whether a
 * request arrives in the first task after it (sent while it ran, or just after, which the edit's check tells
 * apart).
 */
export class InPlaceResyncWatch {
  private endedAt: number | undefined;
  private firstTaskAfter: number | undefined;

  ended(historyLength: number): void {
    this.endedAt = historyLength;
    this.firstTaskAfter = undefined;
  }

  sentDuring(historyLength: number): boolean {
    if (this.endedAt === undefined || historyLength <= this.endedAt) return false;
    this.firstTaskAfter ??= historyLength;
    return historyLength === this.firstTaskAfter;
  }
}

function isDpsEdit(request: SyncRequest | undefined): request is AlertSyncRequest {
  return (
    request?.kind === 'alert' && request.change.direction === 'DPS_TO_NOMIS' && request.change.action === 'UPDATED'
  );
}

function isDpsChangeOf(
  request: SyncRequest | undefined,
  dpsAlertId: string,
): request is AlertSyncRequest & { change: { direction: 'DPS_TO_NOMIS' } } {
  return (
    request?.kind === 'alert' && request.change.direction === 'DPS_TO_NOMIS' && request.change.dpsAlertId === dpsAlertId
  );
}

function duringResync(request: AlertSyncRequest): AlertSyncRequest {
  return { ...request, duringResync: true };
}

/** Each source the requests ask for once, ordered so that the latest request's source comes last. */
export function sourcesInOrder(requests: ResyncRequest[]): ResyncSource[] {
  const last = new Map<ResyncSource, number>();
  requests.forEach((r, i) => last.set(r.source ?? 'NOMIS', i));
  return [...last.entries()].sort((a, b) => a[1] - b[1]).map(([source]) => source);
}
