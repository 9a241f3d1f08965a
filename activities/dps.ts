import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure, Context, log } from '@temporalio/activity';
import type { Db } from '../adapters/db';
import { findMappingByDpsAlertId, findUnmappedDpsAlertIds } from '../adapters/db';
import type { DpsAlertsApiClient } from '../adapters/dps';
import type { DpsAlert, NomisAlert, ResyncAlert, ResyncResponse } from '../common/contract';
import { codeAndDates, dpsCreateFromNomis, dpsSyncedFields, dpsUpdateFromNomis } from '../common/alert-fields';
import { ApiError } from '../adapters/http';
import { classified, orNullIfGone, toActivityFailure } from './failures';
import type { SyncSwitches } from '../common/sync-switches';

/** A DPS alert no mapping row knows: a DPS user's new alert whose copy to NOMIS has not run yet. */
export interface UnsyncedDpsAlert {
  dpsAlertId: string;
  alertCode: string;
}

const signal = () => Context.current().cancellationSignal;

/**
 * The look at DPS that guards the resync's replace, retried briefly in place on a transient failure: it shares
 * the replace's activity, so otherwise a flaky DPS would have to answer both calls in one attempt and the
 * replace's backoff would grow for the read's sake. A read; anything still failing goes to the retry policy.
 */
async function readBeforeWrite<T>(read: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (err) {
      if (!(err instanceof ApiError && err.retryable) || attempt >= READ_BEFORE_WRITE_TRIES)
        throw toActivityFailure(err);
      await sleep(100 * 2 ** attempt, undefined, { signal: signal() });
    }
  }
}
const READ_BEFORE_WRITE_TRIES = 3;

// Longer than 80 lines as a whole: a factory of several activities sharing its dependencies, each one short.
export function createDpsActivities(deps: { dps: DpsAlertsApiClient; db: Db; switches?: () => Promise<SyncSwitches> }) {
  /** Unmapped DPS alerts that are not already among NOMIS's (a resync's own alerts before their mappings). */
  async function unsyncedDpsAlerts(prisonNumber: string, nomisAlerts: ResyncAlert[]): Promise<UnsyncedDpsAlert[]> {
    if ((await deps.switches?.())?.dpsToNomis === false) return [];
    const inNomis = new Set(nomisAlerts.map(codeAndDates));
    const alerts = (await readBeforeWrite(() => deps.dps.getPrisonerAlerts(prisonNumber, signal()))).filter(
      (a) => !inNomis.has(codeAndDates(dpsSyncedFields(a))),
    );
    const unmapped = new Set(
      await findUnmappedDpsAlertIds(
        deps.db,
        alerts.map((a) => a.alertUuid),
      ),
    );
    return alerts
      .filter((a) => unmapped.has(a.alertUuid))
      .map((a) => ({ dpsAlertId: a.alertUuid, alertCode: a.alertCode.code }));
  }

  return {
    /**
     * Idempotent: DPS replaces the prisoner's alerts, and the same body gives the same alerts. With `guard`, DPS
     * is looked at first: a DPS user's alert that no mapping knows and NOMIS does not hold (its copy to NOMIS has
     * not run yet; not one the resync already tried to copy) would be deleted by the replace, so the resync is
     * told instead (non-retryable DpsChangedDuringResync, naming them in its details) to copy them and read
     * NOMIS again. None are looked for while DPS -> NOMIS is switched off: then DPS follows NOMIS alone.
     */
    async resyncDpsAlerts(input: {
      prisonNumber: string;
      alerts: ResyncAlert[];
      guard?: { knownUnsynced: string[] };
    }): Promise<ResyncResponse> {
      if (input.guard) {
        const known = new Set(input.guard.knownUnsynced);
        const arrived = (await unsyncedDpsAlerts(input.prisonNumber, input.alerts)).filter(
          (a) => !known.has(a.dpsAlertId),
        );
        if (arrived.length > 0) {
          throw ApplicationFailure.nonRetryable(
            `DPS alerts ${arrived.map((a) => `${a.dpsAlertId} (${a.alertCode})`).join(', ')} of ${input.prisonNumber} are not in NOMIS yet: copying them there before replacing DPS`,
            'DpsChangedDuringResync',
            arrived,
          );
        }
      }
      const created = await classified(() => deps.dps.resyncPrisonerAlerts(input.prisonNumber, input.alerts, signal()));
      if (created.length !== input.alerts.length) {
        throw new Error(
          `DPS resync of ${input.prisonNumber} answered ${created.length} alerts for ${input.alerts.length} sent`,
        );
      }
      log.info('resynced DPS alerts', { prisonNumber: input.prisonNumber, alertCount: created.length });
      return created;
    },

    /** Idempotent: a read of all the prisoner's DPS alerts, active and inactive (the DPS-driven resync's source). */
    async getPrisonerDpsAlerts(input: { prisonNumber: string }): Promise<DpsAlert[]> {
      const alerts = await classified(() => deps.dps.getPrisonerAlerts(input.prisonNumber, signal()));
      log.info('read DPS alerts', { prisonNumber: input.prisonNumber, alertCount: alerts.length });
      return alerts;
    },

    /** Idempotent: a read; null when the alert is gone (a later delete event will follow). */
    async getDpsAlert(input: { dpsAlertId: string }): Promise<DpsAlert | null> {
      return orNullIfGone(() => deps.dps.getAlert(input.dpsAlertId, signal()));
    },

    /**
     * Idempotent: an unmapped DPS alert of the prisoner with the same code, start date and creation audit is the
     * one an earlier attempt created before it could record the mapping — adopt it rather than create twice.
     */
    async createDpsAlertFromNomis(input: {
      prisonNumber: string;
      alert: NomisAlert;
    }): Promise<{ dpsAlertId: string; adopted: boolean }> {
      const request = dpsCreateFromNomis(input.alert);
      const existing = await classified(() => deps.dps.getPrisonerAlerts(input.prisonNumber, signal()));
      for (const candidate of existing) {
        const same =
          candidate.alertCode.code === request.alertCode &&
          candidate.activeFrom === request.activeFrom &&
          candidate.createdBy === request.createdBy &&
          candidate.createdAt.slice(0, 16) === request.createdAt.slice(0, 16);
        if (same && !(await findMappingByDpsAlertId(deps.db, candidate.alertUuid))) {
          log.info('adopted DPS alert created by an earlier attempt', {
            prisonNumber: input.prisonNumber,
            dpsAlertId: candidate.alertUuid,
          });
          return { dpsAlertId: candidate.alertUuid, adopted: true };
        }
      }
      const created = await classified(() => deps.dps.createAlert(input.prisonNumber, request, signal()));
      log.info('created DPS alert', { prisonNumber: input.prisonNumber, dpsAlertId: created.alertUuid });
      return { dpsAlertId: created.alertUuid, adopted: false };
    },

    /** Idempotent: a PUT of the synced fields. */
    async updateDpsAlertFromNomis(input: {
      prisonNumber: string;
      dpsAlertId: string;
      alert: NomisAlert;
    }): Promise<'updated' | 'gone'> {
      const updated = await orNullIfGone(() =>
        deps.dps.updateAlert(input.dpsAlertId, dpsUpdateFromNomis(input.alert), signal()),
      );
      if (!updated) return 'gone';
      log.info('updated DPS alert', { prisonNumber: input.prisonNumber, dpsAlertId: input.dpsAlertId });
      return 'updated';
    },

    /** Idempotent: DPS's 404 "already gone" counts as done. */
    async deleteDpsAlert(input: { prisonNumber: string; dpsAlertId: string }): Promise<void> {
      await classified(() => deps.dps.deleteAlert(input.dpsAlertId, signal()));
      log.info('deleted DPS alert', input);
    },
  };
}
