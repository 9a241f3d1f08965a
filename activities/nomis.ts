import { Context, log } from '@temporalio/activity';
import type { NomisApiClient } from '../adapters/nomis';
import type { NomisAlert } from '../common/contract';
import { classified } from './failures';

export function createNomisActivities(deps: { nomis: NomisApiClient }) {
  return {
    /** Idempotent: a read. A 404 (unknown prisoner, no booking) fails the run: an empty list would wipe DPS. */
    async getCurrentBookingAlerts(input: { prisonNumber: string }): Promise<NomisAlert[]> {
      const { latestBookingAlerts } = await classified(() =>
        deps.nomis.getAlertsToMigrate(input.prisonNumber, Context.current().cancellationSignal),
      );
      log.info('read NOMIS current booking alerts', {
        prisonNumber: input.prisonNumber,
        alertCount: latestBookingAlerts.length,
      });
      return latestBookingAlerts;
    },
  };
}
