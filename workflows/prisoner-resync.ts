import { log, proxyActivities, setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import type { SyncActivities } from '../activities';
import { toResyncAlert } from '../common/alerts';
import { DPS_RESYNC_ACTIVITY, MAPPING_WRITE_ACTIVITY, NOMIS_READ_ACTIVITY } from '../common/retry-policies';
import { PRISON_NUMBER, SYNC_KIND } from '../common/search-attributes';
import { SyncKind } from '../common/sync-kinds';

const nomis = proxyActivities<SyncActivities>(NOMIS_READ_ACTIVITY);
const dps = proxyActivities<SyncActivities>(DPS_RESYNC_ACTIVITY);
const mappings = proxyActivities<SyncActivities>(MAPPING_WRITE_ACTIVITY);

export interface PrisonerResyncInput {
  prisonNumber: string;
  /** The events that asked for this resync (several coalesce into one). */
  reasons: string[];
  /** Prisoners merged into this one: they end with no DPS alerts and no mappings. */
  removedPrisonNumbers: string[];
}

export interface ResyncPassSummary {
  reasons: string[];
  alertCount: number;
  removedPrisonNumbers: string[];
}

/**
 * ADR004's universal resync of one prisoner: NOMIS is authoritative after any prisoner-level change.
 * Run as a child of the prisoner's prisonerSyncWorkflow, which guarantees one at a time per prisoner.
 */
export async function prisonerResyncWorkflow(input: PrisonerResyncInput): Promise<ResyncPassSummary> {
  const { prisonNumber, reasons, removedPrisonNumbers } = input;
  const merge = removedPrisonNumbers.length > 0;
  upsertSearchAttributes([
    { key: PRISON_NUMBER, value: prisonNumber },
    { key: SYNC_KIND, value: merge ? SyncKind.merge : SyncKind.resync },
  ]);
  setCurrentDetails(
    merge
      ? `merging ${removedPrisonNumbers.join(', ')} into ${prisonNumber}`
      : `resyncing ${prisonNumber} (${reasons.join('; ')})`,
  );

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
  log.info('prisoner resynced', { prisonNumber, alertCount: created.length, reasons, removedPrisonNumbers });
  setCurrentDetails(`done: ${created.length} alerts`);
  return { reasons, alertCount: created.length, removedPrisonNumbers };
}
