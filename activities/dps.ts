import { Context, log } from '@temporalio/activity';
import type { Db } from '../adapters/db';
import { findMappingByDpsAlertId } from '../adapters/db';
import type { DpsAlertsApiClient } from '../adapters/dps';
import type { DpsAlert, NomisAlert, ResyncAlert, ResyncResponse } from '../common/contract';
import { dpsCreateFromNomis, dpsUpdateFromNomis } from './alert-fields';
import { classified, orNullIfGone } from './failures';

const signal = () => Context.current().cancellationSignal;

export function createDpsActivities(deps: { dps: DpsAlertsApiClient; db: Db }) {
  return {
    /** Idempotent: DPS replaces the prisoner's alerts, and the same body gives the same alerts. */
    async resyncDpsAlerts(input: { prisonNumber: string; alerts: ResyncAlert[] }): Promise<ResyncResponse> {
      const created = await classified(() => deps.dps.resyncPrisonerAlerts(input.prisonNumber, input.alerts, signal()));
      if (created.length !== input.alerts.length) {
        throw new Error(
          `DPS resync of ${input.prisonNumber} answered ${created.length} alerts for ${input.alerts.length} sent`,
        );
      }
      log.info('resynced DPS alerts', { prisonNumber: input.prisonNumber, alertCount: created.length });
      return created;
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
