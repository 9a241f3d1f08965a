import {
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SyncActivities } from '../activities';
import { toResyncAlert } from '../common/alerts';
import { DPS_RESYNC_ACTIVITY, MAPPING_WRITE_ACTIVITY, NOMIS_READ_ACTIVITY } from '../common/retry-policies';
import { PRISON_NUMBER, SYNC_KIND } from '../common/search-attributes';
import { SyncKind } from '../common/sync-kinds';
import type { ResyncProgress, ResyncRequest } from './messages';
import { resyncProgressQuery, resyncRequestedSignal } from './messages';

const nomis = proxyActivities<SyncActivities>(NOMIS_READ_ACTIVITY);
const dps = proxyActivities<SyncActivities>(DPS_RESYNC_ACTIVITY);
const mappings = proxyActivities<SyncActivities>(MAPPING_WRITE_ACTIVITY);

export interface PrisonerResyncInput {
  prisonNumber: string;
  /** Requests carried over by continue-as-new (or given at start instead of by signal). */
  requests?: ResyncRequest[];
  /** Event ids already handled by earlier runs of this chain. */
  handledEventIds?: string[];
}

export interface ResyncPassSummary {
  reasons: string[];
  alertCount: number;
  removedPrisonNumbers: string[];
}

export interface PrisonerResyncResult {
  prisonNumber: string;
  passes: ResyncPassSummary[];
  duplicatesIgnored: number;
}

/** Keeps the duplicate filter's memory bounded across a long chain of runs. */
const MAX_REMEMBERED_EVENT_IDS = 200;

/**
 * ADR004's universal resync, for one prisoner: NOMIS is authoritative after any prisoner-level change.
 * One workflow per prison number (see common/ids.ts): requests that arrive while a pass is running are
 * coalesced into one more pass after it, which reads NOMIS again — so no change is missed and two resyncs
 * of a prisoner never run side by side. A merge is a pass that also empties the removed prisoner.
 */
export async function prisonerResyncWorkflow(input: PrisonerResyncInput): Promise<PrisonerResyncResult> {
  const { prisonNumber } = input;
  const pending: ResyncRequest[] = [...(input.requests ?? [])];
  const handled = new Set(input.handledEventIds ?? []);
  const passes: ResyncPassSummary[] = [];
  let duplicatesIgnored = 0;
  let current: string | undefined;

  setHandler(resyncRequestedSignal, (request) => {
    if (request.eventId && handled.has(request.eventId)) {
      duplicatesIgnored++;
      log.info('duplicate resync request ignored', { prisonNumber, eventId: request.eventId });
      return;
    }
    if (request.eventId) handled.add(request.eventId);
    pending.push(request);
  });
  setHandler(
    resyncProgressQuery,
    (): ResyncProgress => ({
      prisonNumber,
      passesDone: passes.length,
      pendingRequests: pending.length,
      duplicatesIgnored,
      current,
    }),
  );
  for (const request of pending) if (request.eventId) handled.add(request.eventId);

  // Requests arrive as the signal of signal-with-start, delivered as soon as the handler is set.
  await condition(() => pending.length > 0, '1 minute');

  while (pending.length > 0) {
    const batch = pending.splice(0);
    const removedPrisonNumbers = [
      ...new Set(batch.flatMap((r) => (r.removedPrisonNumber ? [r.removedPrisonNumber] : []))),
    ];
    const reasons = batch.map((r) => r.reason);
    current = removedPrisonNumbers.length
      ? `merging ${removedPrisonNumbers.join(', ')} into ${prisonNumber}`
      : `resyncing ${prisonNumber} (${reasons.join('; ')})`;
    setCurrentDetails(current);
    upsertSearchAttributes([
      { key: PRISON_NUMBER, value: prisonNumber },
      { key: SYNC_KIND, value: removedPrisonNumbers.length ? SyncKind.merge : SyncKind.resync },
    ]);

    // 1. Every alert on the prisoner's current NOMIS booking (a 404 fails the run: never resync "nothing").
    const nomisAlerts = await nomis.getCurrentBookingAlerts.executeWithOptions(
      { ...NOMIS_READ_ACTIVITY, summary: `read NOMIS alerts of ${prisonNumber}` },
      [{ prisonNumber }],
    );
    // 2. Replace the prisoner's DPS alerts with them; a merge's removed prisoner gets none.
    const created = await dps.resyncDpsAlerts.executeWithOptions(
      { ...DPS_RESYNC_ACTIVITY, summary: `resync ${nomisAlerts.length} alerts to DPS for ${prisonNumber}` },
      [{ prisonNumber, alerts: nomisAlerts.map(toResyncAlert) }],
    );
    for (const removed of removedPrisonNumbers) {
      await dps.resyncDpsAlerts.executeWithOptions(
        { ...DPS_RESYNC_ACTIVITY, summary: `remove all DPS alerts of merged-away ${removed}` },
        [{ prisonNumber: removed, alerts: [] }],
      );
    }
    // 3 + 4. Delete the old mappings and create the new ones, in one transaction (contract §5).
    await mappings.replaceMappings.executeWithOptions(
      { ...MAPPING_WRITE_ACTIVITY, summary: `replace ${created.length} mappings of ${prisonNumber}` },
      [
        {
          prisonNumber,
          mappingType: 'RESYNC',
          removedPrisonNumbers,
          mappings: created.map((c) => ({
            dpsAlertId: c.alertUuid,
            nomisBookingId: c.offenderBookId,
            nomisAlertSequence: c.alertSeq,
          })),
        },
      ],
    );

    passes.push({ reasons, alertCount: created.length, removedPrisonNumbers });
    log.info('prisoner resynced', { prisonNumber, alertCount: created.length, reasons, removedPrisonNumbers });
    current = undefined;

    if (workflowInfo().continueAsNewSuggested && pending.length > 0) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof prisonerResyncWorkflow>({
        prisonNumber,
        requests: pending,
        handledEventIds: [...handled].slice(-MAX_REMEMBERED_EVENT_IDS),
      });
    }
  }
  setCurrentDetails(`done: ${passes.length} pass(es), last ${passes.at(-1)?.alertCount ?? 0} alerts`);
  await condition(allHandlersFinished);
  return { prisonNumber, passes, duplicatesIgnored };
}
