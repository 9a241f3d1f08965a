import { ApplicationFailure, log, patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { SyncActivities } from '../activities';
import type { MappingView } from '../activities/mappings';
import { lastWrittenBySync, sameAlert } from '../common/alerts';
import { alertDifferences } from '../common/alert-fields';
import { ALERT_API_ACTIVITY, DATABASE_ACTIVITY } from '../common/retry-policies';
import { SyncKind } from '../common/sync-kinds';
import type { AlertChange } from './messages';
import { isResetRun, syncThroughQueue } from './through-queue';
import { makeFindable } from './findable';

// Named by what the activities call and so how they retry, not by file: `api` reaches NOMIS and DPS
// (activities/nomis.ts, dps.ts), `db` the mapping table (activities/mappings.ts).
const api = proxyActivities<SyncActivities>(ALERT_API_ACTIVITY);
const db = proxyActivities<SyncActivities>(DATABASE_ACTIVITY);

type NomisChange = Extract<AlertChange, { direction: 'NOMIS_TO_DPS' }>;
type DpsChange = Extract<AlertChange, { direction: 'DPS_TO_NOMIS' }>;

export interface AlertSyncInput<C extends AlertChange> {
  prisonNumber: string;
  change: C;
  /** Last try for an update/delete whose mapping is missing: fail visibly instead of asking to be deferred. */
  finalAttempt: boolean;
  /** A DPS user's edit that arrived while a resync ran: the resync may have put NOMIS's text back over it. */
  duringResync?: boolean;
}

export type AlertSyncOutcome =
  | { outcome: 'created' | 'updated' | 'deleted'; dpsAlertId?: string; bookingId?: number; alertSeq?: number }
  | { outcome: 'skipped'; why: string }
  | { outcome: 'mapping-missing' }
  /** The DPS alert a DPS user changed is gone, and no delete of it has arrived (yet): ask again later. */
  | { outcome: 'source-missing' }
  /** Retried from the Web UI: handed to the prisoner's queue, where it runs as a run of its own. */
  | { outcome: 'requeued' };

/** A reset run hands the change to the prisoner's queue instead of applying it beside the queue's own syncs. */
async function requeue(input: AlertSyncInput<AlertChange>): Promise<AlertSyncOutcome> {
  await syncThroughQueue(input.prisonNumber, [
    { kind: 'alert', reason: `retry of ${workflowInfo().workflowId} (reset)`, change: input.change },
  ]);
  return { outcome: 'requeued' };
}

/**
 * A DPS user's change whose alert is gone, though no DPS user deleted it (their delete would have been seen
 * first): a resync replaced the prisoner's DPS alerts between the change and its copy. Fail visibly.
 */
function dpsAlertGone(input: AlertSyncInput<DpsChange>): AlertSyncOutcome {
  if (!input.finalAttempt) return { outcome: 'source-missing' };
  throw ApplicationFailure.nonRetryable(
    `${input.change.action} of DPS alert ${input.change.dpsAlertId} (${input.change.alertCode}) of ${input.prisonNumber} by a DPS user: the alert is gone from DPS and no DPS user deleted it — a resync replaced the prisoner's DPS alerts before the change reached NOMIS`,
    'DpsAlertGone',
  );
}

function mappingMissing(input: AlertSyncInput<AlertChange>, key: string): AlertSyncOutcome {
  if (!input.finalAttempt) return { outcome: 'mapping-missing' };
  throw ApplicationFailure.nonRetryable(
    `${input.change.action} of alert ${key} of ${input.prisonNumber}: no mapping after waiting for it (create event lost or failed?)`,
    'MappingNotFound',
  );
}

/** ADR002, NOMIS -> DPS: one NOMIS alert created, updated or deleted; DPS follows and the mapping is kept. */
export async function nomisAlertToDpsWorkflow(input: AlertSyncInput<NomisChange>): Promise<AlertSyncOutcome> {
  const { prisonNumber, change } = input;
  const { bookingId, alertSeq } = change;
  const key = `${bookingId}/${alertSeq}`;
  makeFindable(prisonNumber, SyncKind.nomisToDps);
  if (isResetRun()) return requeue(input);

  // 1. Where the alert is mapped to, if anywhere.
  const mapping = await db.findMappingByNomisAlert({ bookingId, alertSeq });
  if (change.action === 'CREATED') {
    if (mapping) return { outcome: 'skipped', why: `already mapped to DPS ${mapping.dpsAlertId} (duplicate event)` };
    // 2. The alert as NOMIS has it now; gone means a delete event follows.
    const alert = await api.getNomisAlert({ bookingId, alertSeq });
    if (!alert) return { outcome: 'skipped', why: `NOMIS alert ${key} no longer exists` };
    if (change.auditModuleOmitted && lastWrittenBySync(alert)) return ownWrite(key);
    if (alert.bookingSequence !== 1) return { outcome: 'skipped', why: `NOMIS alert ${key} is on a previous booking` };
    // 3. Create it in DPS (adopting one an interrupted attempt already created), 4. record the pair.
    const { dpsAlertId } = await api.createDpsAlertFromNomis({ prisonNumber, alert });
    await db.createAlertMapping({
      prisonNumber,
      dpsAlertId,
      nomisBookingId: bookingId,
      nomisAlertSequence: alertSeq,
      mappingType: 'NOMIS_CREATED',
    });
    log.info('NOMIS alert created in DPS', { prisonNumber, bookingId, alertSeq, dpsAlertId });
    return { outcome: 'created', dpsAlertId, bookingId, alertSeq };
  }
  if (change.action === 'DELETED' && patched(NOMIS_DELETE_CHECKS_NOMIS)) return copyNomisDelete(input, mapping);
  if (!mapping && change.action === 'UPDATED' && patched(UPDATE_OF_GONE_ALERT_CHECKS_NOMIS)) {
    // No mapping may mean its create has not been copied yet (wait for it), or that the alert is gone: deleted
    // (its delete follows) or replaced by a resync from DPS, which copied NOMIS users' edits before replacing.
    const alert = await api.getNomisAlert({ bookingId, alertSeq });
    if (!alert) return { outcome: 'skipped', why: `NOMIS alert ${key} no longer exists: nothing to copy` };
  }
  if (!mapping) return mappingMissing(input, key);
  if (change.action === 'UPDATED') {
    const alert = await api.getNomisAlert({ bookingId, alertSeq });
    if (!alert) return { outcome: 'skipped', why: `NOMIS alert ${key} no longer exists` };
    if (change.auditModuleOmitted && lastWrittenBySync(alert)) return ownWrite(key);
    const result = await api.updateDpsAlertFromNomis({ prisonNumber, dpsAlertId: mapping.dpsAlertId, alert });
    if (result === 'gone') return { outcome: 'skipped', why: `DPS alert ${mapping.dpsAlertId} no longer exists` };
    log.info('NOMIS alert update copied to DPS', { prisonNumber, bookingId, alertSeq, dpsAlertId: mapping.dpsAlertId });
    return { outcome: 'updated', dpsAlertId: mapping.dpsAlertId, bookingId, alertSeq };
  }
  await api.deleteDpsAlert({ prisonNumber, dpsAlertId: mapping.dpsAlertId });
  await db.deleteAlertMapping({ prisonNumber, dpsAlertId: mapping.dpsAlertId });
  log.info('NOMIS alert deletion copied to DPS', { prisonNumber, bookingId, alertSeq, dpsAlertId: mapping.dpsAlertId });
  return { outcome: 'deleted', dpsAlertId: mapping.dpsAlertId, bookingId, alertSeq };
}

/** An update without a mapping asks NOMIS whether the alert still exists (older runs waited for a mapping). */
const UPDATE_OF_GONE_ALERT_CHECKS_NOMIS = 'update-of-gone-alert-checks-nomis';

/** NOMIS deletes are checked against NOMIS itself (added with the "lose nothing" fixes; older runs did not). */
const NOMIS_DELETE_CHECKS_NOMIS = 'nomis-delete-checks-nomis';

function ownWrite(key: string): AlertSyncOutcome {
  return { outcome: 'skipped', why: `NOMIS alert ${key} was last written by this sync (its own change coming back)` };
}

/**
 * A NOMIS delete, copied only if NOMIS agrees: a redelivered delete, or one replayed after NOMIS gave the
 * sequence to a new alert, must not delete the alert that is there now.
 */
async function copyNomisDelete(
  input: AlertSyncInput<NomisChange>,
  mapping: MappingView | null,
): Promise<AlertSyncOutcome> {
  const { prisonNumber, change } = input;
  const { bookingId, alertSeq } = change;
  const key = `${bookingId}/${alertSeq}`;
  if (!mapping) {
    // Nothing in DPS to delete: the sync's own delete coming back, or a duplicate. Both sides agree already.
    return { outcome: 'skipped', why: `nothing is mapped to NOMIS alert ${key}: its delete was already copied` };
  }
  // 2. What NOMIS holds under the key now.
  const alert = await api.getNomisAlert({ bookingId, alertSeq });
  if (alert) {
    const copy = await api.getDpsAlert({ dpsAlertId: mapping.dpsAlertId });
    if (copy && sameAlert(alert, copy)) {
      return { outcome: 'skipped', why: `NOMIS still holds alert ${key}: the delete is a redelivery (duplicate)` };
    }
    // The key holds a newer alert (sequence reused): the delete was of the one mapped, which goes.
  }
  // 3. Delete the DPS copy, 4. and its mapping.
  await api.deleteDpsAlert({ prisonNumber, dpsAlertId: mapping.dpsAlertId });
  await db.deleteAlertMapping({ prisonNumber, dpsAlertId: mapping.dpsAlertId });
  log.info('NOMIS alert deletion copied to DPS', { prisonNumber, bookingId, alertSeq, dpsAlertId: mapping.dpsAlertId });
  return { outcome: 'deleted', dpsAlertId: mapping.dpsAlertId, bookingId, alertSeq };
}

/** ADR002, DPS -> NOMIS: one alert created, updated or deleted by a DPS user; NOMIS follows. */
export async function dpsAlertToNomisWorkflow(input: AlertSyncInput<DpsChange>): Promise<AlertSyncOutcome> {
  const { prisonNumber, change } = input;
  const { dpsAlertId } = change;
  makeFindable(prisonNumber, SyncKind.dpsToNomis);
  if (isResetRun()) return requeue(input);

  // 1. Where the alert is mapped to, if anywhere.
  const mapping = await db.findMappingByDpsAlert({ dpsAlertId });
  if (change.action === 'CREATED') {
    if (mapping)
      return {
        outcome: 'skipped',
        why: `already mapped to NOMIS ${mapping.nomisBookingId}/${mapping.nomisAlertSequence}`,
      };
    // 2. The alert as DPS has it now; gone means a delete event follows (or a resync removed it).
    const alert = await api.getDpsAlert({ dpsAlertId });
    if (!alert) return dpsAlertGone(input);
    // 3. Create it on the current NOMIS booking (adopting an interrupted attempt's), 4. record the pair.
    const { bookingId, alertSeq } = await api.createNomisAlertFromDps({ prisonNumber, alert });
    await db.createAlertMapping({
      prisonNumber,
      dpsAlertId,
      nomisBookingId: bookingId,
      nomisAlertSequence: alertSeq,
      mappingType: 'DPS_CREATED',
    });
    log.info('DPS alert created in NOMIS', { prisonNumber, dpsAlertId, bookingId, alertSeq });
    return { outcome: 'created', dpsAlertId, bookingId, alertSeq };
  }
  if (!mapping) {
    // A DPS user's create always reaches the queue before their delete, so a delete finding no mapping is a
    // second delivery of one already applied, or of an alert whose create never reached NOMIS (it failed
    // visibly, or the user's own delete superseded it): there is no NOMIS copy to delete either way.
    if (change.action === 'DELETED') {
      return { outcome: 'skipped', why: `DPS alert ${dpsAlertId} has no NOMIS copy to delete (duplicate delete)` };
    }
    return mappingMissing(input, dpsAlertId);
  }
  const { nomisBookingId: bookingId, nomisAlertSequence: alertSeq } = mapping;
  // 2. NOMIS is authoritative for whose alert it is: after a booking move it may be another prisoner's now.
  if (!(await api.isNomisAlertOfPrisoner({ prisonNumber, bookingId, alertSeq }))) {
    return {
      outcome: 'skipped',
      why: `NOMIS alert ${bookingId}/${alertSeq} is no longer on a booking of ${prisonNumber}`,
    };
  }
  if (change.action === 'UPDATED') {
    const alert = await api.getDpsAlert({ dpsAlertId });
    if (!alert) return dpsAlertGone(input);
    if (input.duringResync) {
      // DPS publishes no event for an edit that changes nothing, and NOMIS has not seen this one yet: if DPS
      // now equals NOMIS, the resync that ran meanwhile wrote NOMIS's copy over the user's edit.
      const nomis = await api.getNomisAlert({ bookingId, alertSeq });
      if (nomis && alertDifferences(nomis, alert).length === 0) {
        throw ApplicationFailure.nonRetryable(
          `edit of DPS alert ${dpsAlertId} (${change.alertCode}) of ${prisonNumber} by a DPS user: a resync that ran at the same time put NOMIS's copy back over it before it reached NOMIS`,
          'DpsEditOverwritten',
        );
      }
    }
    const result = await api.updateNomisAlertFromDps({ prisonNumber, bookingId, alertSeq, alert });
    if (result === 'gone') return { outcome: 'skipped', why: `NOMIS alert ${bookingId}/${alertSeq} no longer exists` };
    log.info('DPS alert update copied to NOMIS', { prisonNumber, dpsAlertId, bookingId, alertSeq });
    return { outcome: 'updated', dpsAlertId, bookingId, alertSeq };
  }
  await api.deleteNomisAlert({ prisonNumber, bookingId, alertSeq });
  await db.deleteAlertMapping({ prisonNumber, dpsAlertId });
  log.info('DPS alert deletion copied to NOMIS', { prisonNumber, dpsAlertId, bookingId, alertSeq });
  return { outcome: 'deleted', dpsAlertId, bookingId, alertSeq };
}
