import {
  ActivityFailure,
  ApplicationFailure,
  ChildWorkflowFailure,
  executeChild,
  log,
  proxyActivities,
  setCurrentDetails,
  uuid4,
} from '@temporalio/workflow';
import type { SyncActivities } from '../activities';
import type { UnsyncedNomisChange } from '../common/unsynced-nomis-changes';
import { unsyncedChangeKey } from '../common/unsynced-nomis-changes';
import { dpsAlertAsResyncAlert } from '../common/alert-fields';
import { mergedDpsAlerts } from '../common/alerts';
import { alertSyncWorkflowId } from '../common/ids';
import {
  DPS_READ_ACTIVITY,
  DPS_RESYNC_ACTIVITY,
  MAPPING_WRITE_ACTIVITY,
  NOMIS_RESYNC_ACTIVITY,
} from '../common/retry-policies';
import { SyncKind } from '../common/sync-kinds';
import { nomisAlertToDpsWorkflow } from './alert-sync';
import type { PrisonerResyncInput, ResyncPassSummary } from './prisoner-resync';
import { failureType } from './prisoner-resync';
import { isResetRun, syncThroughQueue } from './through-queue';
import { makeFindable } from './findable';

const dpsRead = proxyActivities<SyncActivities>(DPS_READ_ACTIVITY);
const dpsWrite = proxyActivities<SyncActivities>(DPS_RESYNC_ACTIVITY);
const nomis = proxyActivities<SyncActivities>(NOMIS_RESYNC_ACTIVITY);
const mappings = proxyActivities<SyncActivities>(MAPPING_WRITE_ACTIVITY);

/** How often a resync reads DPS again because a user changed one side under it. */
const MAX_READS = 5;

/**
 * ADR004's future: the universal resync reversed. DPS is authoritative; the prisoner's current NOMIS booking is
 * made to hold exactly the prisoner's DPS alerts (`POST /prisoners/{offenderNo}/alerts/resynchronise`), and the
 * mappings are replaced in one transaction. A merge first gives the retained prisoner, in DPS, the removed
 * prisoners' active alerts of codes it has no active alert of, and empties the removed prisoners in DPS.
 * Run as a child of the prisoner's prisonerSyncWorkflow, like the NOMIS-driven resync, so one at a time.
 */
export async function resyncFromDpsWorkflow(input: PrisonerResyncInput): Promise<ResyncPassSummary> {
  const { prisonNumber, reasons, removedPrisonNumbers } = input;
  const merge = removedPrisonNumbers.length > 0;
  makeFindable(prisonNumber, merge ? SyncKind.mergeFromDps : SyncKind.resyncFromDps);
  setCurrentDetails(
    merge
      ? `merging ${removedPrisonNumbers.join(', ')} into ${prisonNumber}, from DPS`
      : `resyncing NOMIS from DPS for ${prisonNumber} (${reasons.join('; ')})`,
  );

  if (isResetRun()) {
    // Retried from the Web UI: the prisoner's queue runs it, after whatever is syncing the prisoner now.
    const retry = `retry of ${input.reasons.join('; ')} (reset)`;
    const report = await syncThroughQueue(prisonNumber, [
      {
        kind: 'resync',
        source: 'DPS',
        reason: retry,
        ...(input.bookingsMovedAway ? { bookingsMovedAway: true } : {}),
      },
      // One request per merged-away prisoner: the queue coalesces them into one merge from DPS.
      ...removedPrisonNumbers.map((removed) => ({
        kind: 'resync' as const,
        source: 'DPS' as const,
        reason: retry,
        removedPrisonNumber: removed,
      })),
    ]);
    return { reasons, alertCount: report.alertCount ?? 0, removedPrisonNumbers };
  }

  // NOMIS users' changes already copied to DPS by this resync (or tried: a refusal fails visibly on its own).
  const pushed = new Set<string>();
  for (let read = 1; ; read++) {
    try {
      const alertCount = await resyncOnce(input, pushed);
      log.info('prisoner resynced from DPS', { prisonNumber, alertCount, reasons, removedPrisonNumbers });
      setCurrentDetails(`done: NOMIS holds ${alertCount} alerts from DPS`);
      return { reasons, alertCount, removedPrisonNumbers };
    } catch (err) {
      const type = failureType(err);
      if (read >= MAX_READS || (type !== 'NomisChangedDuringResync' && type !== 'DpsChangedDuringResync')) throw err;
      log.warn('NOMIS or DPS changed under the resync from DPS; reading DPS again', { prisonNumber, read, type });
      // NOMIS users' changes the replace would have overridden: copy each to DPS first (its own visible run), so
      // that the next read of DPS has them and NOMIS keeps them. A DPS user's change needs no copy: the next read
      // of DPS has it.
      for (const change of unsyncedNomisChangesIn(err)) {
        const key = unsyncedChangeKey(change);
        if (pushed.has(key)) continue;
        pushed.add(key);
        await copyNomisChangeToDps(prisonNumber, change);
      }
    }
  }
}

async function resyncOnce(input: PrisonerResyncInput, pushed: Set<string>): Promise<number> {
  const { prisonNumber, removedPrisonNumbers } = input;
  // 1. What DPS holds: the prisoner's alerts, and for a merge the removed prisoners' too.
  const own = await dpsRead.getPrisonerDpsAlerts.executeWithOptions(
    { ...DPS_READ_ACTIVITY, summary: `read DPS alerts of ${prisonNumber}` },
    [{ prisonNumber }],
  );
  const removed = [];
  for (const removedPrisonNumber of removedPrisonNumbers) {
    removed.push(
      await dpsRead.getPrisonerDpsAlerts.executeWithOptions(
        { ...DPS_READ_ACTIVITY, summary: `read DPS alerts of merged-away ${removedPrisonNumber}` },
        [{ prisonNumber: removedPrisonNumber }],
      ),
    );
  }
  const alerts = mergedDpsAlerts(own, removed);
  // 2. NOMIS's current booking gets exactly these — unless it holds a NOMIS user's alert whose copy to DPS has
  //    not run yet, which the replace would delete: then NomisChangedDuringResync names them, to copy first.
  const written = await nomis.resynchroniseNomisAlerts.executeWithOptions(
    { ...NOMIS_RESYNC_ACTIVITY, summary: `resync ${alerts.length} alerts from DPS to NOMIS for ${prisonNumber}` },
    [
      {
        prisonNumber,
        alerts,
        guard: { knownUnsynced: [...pushed] },
        ...(input.bookingsMovedAway ? { bookingsMovedAway: true } : {}),
      },
    ],
  );
  if (!written) {
    // NOMIS holds no booking for the prisoner any more, and the event said their bookings went elsewhere
    // (contract §3): no booking, so no alerts in DPS either (contract §6).
    await dpsWrite.resyncDpsAlerts.executeWithOptions(
      { ...DPS_RESYNC_ACTIVITY, summary: `remove all DPS alerts of ${prisonNumber}: NOMIS holds no booking` },
      [{ prisonNumber, alerts: [] }],
    );
    await replaceMappings(input, []);
    return 0;
  }
  let pairs = alerts.map((alert, i) => ({
    dpsAlertId: alert.alertUuid,
    nomisBookingId: written[i]!.bookingId,
    nomisAlertSequence: written[i]!.alertSequence,
  }));
  if (removed.length > 0) {
    // 3. A merge: DPS's retained prisoner takes the union too (an alert that survives keeps its history), and
    //    the removed prisoners end with none. The guard stops the replace deleting a DPS user's new alert.
    const created = await dpsWrite.resyncDpsAlerts.executeWithOptions(
      { ...DPS_RESYNC_ACTIVITY, summary: `give ${prisonNumber} the merged ${alerts.length} alerts in DPS` },
      [
        {
          prisonNumber,
          alerts: alerts.map((alert, i) => dpsAlertAsResyncAlert(alert, written[i]!)),
          guard: { knownUnsynced: [] },
        },
      ],
    );
    pairs = created.map((c) => ({
      dpsAlertId: c.alertUuid,
      nomisBookingId: c.offenderBookId,
      nomisAlertSequence: c.alertSeq,
    }));
    for (const removedPrisonNumber of removedPrisonNumbers) {
      await dpsWrite.resyncDpsAlerts.executeWithOptions(
        { ...DPS_RESYNC_ACTIVITY, summary: `remove all DPS alerts of merged-away ${removedPrisonNumber}` },
        [{ prisonNumber: removedPrisonNumber, alerts: [] }],
      );
    }
  }
  // 4. The prisoner's mappings replaced (a merge's removed prisoners' deleted) in one transaction (contract §5).
  await replaceMappings(input, pairs);
  return pairs.length;
}

function replaceMappings(
  input: PrisonerResyncInput,
  pairs: Array<{ dpsAlertId: string; nomisBookingId: number; nomisAlertSequence: number }>,
) {
  return mappings.replaceMappings.executeWithOptions(
    { ...MAPPING_WRITE_ACTIVITY, summary: `replace ${pairs.length} mappings of ${input.prisonNumber}` },
    [
      {
        prisonNumber: input.prisonNumber,
        mappingType: 'DPS_CREATED',
        removedPrisonNumbers: input.removedPrisonNumbers,
        mappings: pairs,
      },
    ],
  );
}

/** A NOMIS user's change, copied to DPS as its event would: a child run of its own, failing visibly. */
async function copyNomisChangeToDps(prisonNumber: string, change: UnsyncedNomisChange): Promise<void> {
  const key = `nomis-${change.bookingId}-${change.alertSeq}`;
  try {
    await executeChild(nomisAlertToDpsWorkflow, {
      workflowId: alertSyncWorkflowId(prisonNumber, `${key}-${change.action.toLowerCase()}`, uuid4().slice(0, 8)),
      args: [
        {
          prisonNumber,
          change: {
            direction: 'NOMIS_TO_DPS',
            action: change.action,
            bookingId: change.bookingId,
            alertSeq: change.alertSeq,
            alertCode: change.alertCode,
          },
          finalAttempt: true,
        },
      ],
      staticSummary: `NOMIS alert ${change.bookingId}/${change.alertSeq} ${change.alertCode} ${change.action.toLowerCase()} by a NOMIS user, copied before the resync from DPS (${prisonNumber})`,
    });
  } catch (err) {
    // Its own failed run shows why; DPS stays authoritative for the resync.
    if (!(err instanceof ChildWorkflowFailure)) throw err;
    log.warn('could not copy a NOMIS user change to DPS before the resync from DPS', { prisonNumber, key });
  }
}

/** The NOMIS users' changes a NomisChangedDuringResync failure names (its details). */
function unsyncedNomisChangesIn(err: unknown): UnsyncedNomisChange[] {
  if (!(err instanceof ActivityFailure && err.cause instanceof ApplicationFailure)) return [];
  if (err.cause.type !== 'NomisChangedDuringResync') return [];
  const [listed] = err.cause.details ?? [];
  return Array.isArray(listed) ? listed.filter(isUnsyncedNomisChange) : [];
}

function isUnsyncedNomisChange(value: unknown): value is UnsyncedNomisChange {
  const change = value as Partial<UnsyncedNomisChange> | null;
  return (
    (change?.action === 'CREATED' || change?.action === 'UPDATED' || change?.action === 'DELETED') &&
    typeof change.bookingId === 'number' &&
    typeof change.alertSeq === 'number' &&
    typeof change.alertCode === 'string'
  );
}
