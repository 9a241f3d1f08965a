import { Context, log } from '@temporalio/activity';
import type { DpsAlertsApiClient } from '../adapters/dps';
import type { ResyncAlert, ResyncResponse } from '../common/contract';
import { classified } from './failures';

export function createDpsActivities(deps: { dps: DpsAlertsApiClient }) {
  return {
    /** Idempotent: DPS replaces the prisoner's alerts, and the same body gives the same alerts. */
    async resyncDpsAlerts(input: { prisonNumber: string; alerts: ResyncAlert[] }): Promise<ResyncResponse> {
      const created = await classified(() =>
        deps.dps.resyncPrisonerAlerts(input.prisonNumber, input.alerts, Context.current().cancellationSignal),
      );
      if (created.length !== input.alerts.length) {
        throw new Error(
          `DPS resync of ${input.prisonNumber} answered ${created.length} alerts for ${input.alerts.length} sent`,
        );
      }
      log.info('resynced DPS alerts', { prisonNumber: input.prisonNumber, alertCount: created.length });
      return created;
    },
  };
}
