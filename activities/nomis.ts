import { Context, log } from '@temporalio/activity';
import type { Db } from '../adapters/db';
import { findMappingByNomisId } from '../adapters/db';
import type { NomisApiClient } from '../adapters/nomis';
import type { DpsAlert, NomisAlert } from '../common/contract';
import { SYNC_AUDIT_MODULE } from '../common/contract';
import { nomisCreateFromDps, nomisUpdateFromDps } from './alert-fields';
import { classified, orNullIfGone } from './failures';

const signal = () => Context.current().cancellationSignal;

export function createNomisActivities(deps: { nomis: NomisApiClient; db: Db }) {
  return {
    /**
     * Idempotent: a read. A 404 (unknown prisoner, no booking) fails the run: an empty list would wipe DPS.
     * The one exception (contract §3): the event that asked says the prisoner's bookings went to someone else.
     */
    async getCurrentBookingAlerts(input: { prisonNumber: string; bookingsMovedAway?: boolean }): Promise<NomisAlert[]> {
      const read = input.bookingsMovedAway
        ? await orNullIfGone(() => deps.nomis.getAlertsToMigrate(input.prisonNumber, signal()))
        : await classified(() => deps.nomis.getAlertsToMigrate(input.prisonNumber, signal()));
      if (!read) {
        log.info('NOMIS holds no booking for the prisoner any more: no alerts', { prisonNumber: input.prisonNumber });
        return [];
      }
      const { latestBookingAlerts } = read;
      log.info('read NOMIS current booking alerts', {
        prisonNumber: input.prisonNumber,
        alertCount: latestBookingAlerts.length,
      });
      return latestBookingAlerts;
    },

    /**
     * Idempotent: a read. Whether the NOMIS alert is still on one of this prisoner's bookings — a booking move
     * or merge can hand it to another prisoner, whose alert a stale DPS change must not touch.
     */
    async isNomisAlertOfPrisoner(input: {
      prisonNumber: string;
      bookingId: number;
      alertSeq: number;
    }): Promise<boolean> {
      const alerts = await orNullIfGone(() => deps.nomis.getAlertsToMigrate(input.prisonNumber, signal()));
      if (!alerts) return false;
      return [...alerts.latestBookingAlerts, ...alerts.previousBookingsAlerts].some(
        (a) => a.bookingId === input.bookingId && a.alertSequence === input.alertSeq,
      );
    },

    /** Idempotent: a read; null when the alert is gone (a later delete event will follow). */
    async getNomisAlert(input: { bookingId: number; alertSeq: number }): Promise<NomisAlert | null> {
      return orNullIfGone(() => deps.nomis.getAlert(input.bookingId, input.alertSeq, signal()));
    },

    /**
     * Idempotent: an alert this sync already wrote on the current booking with the same code, date and comment,
     * and not mapped yet, is adopted instead of created again — the create succeeded before a crash.
     */
    async createNomisAlertFromDps(input: {
      prisonNumber: string;
      alert: DpsAlert;
    }): Promise<{ bookingId: number; alertSeq: number; adopted: boolean }> {
      const request = nomisCreateFromDps(input.alert);
      const current = await classified(() => deps.nomis.getAlertsToMigrate(input.prisonNumber, signal()));
      for (const candidate of current.latestBookingAlerts) {
        const same =
          candidate.alertCode.code === request.alertCode &&
          candidate.date === request.date &&
          (candidate.comment ?? null) === request.comment &&
          candidate.audit.auditModuleName?.startsWith(SYNC_AUDIT_MODULE);
        if (same && !(await findMappingByNomisId(deps.db, candidate.bookingId, candidate.alertSequence))) {
          log.info('adopted NOMIS alert created by an earlier attempt', {
            prisonNumber: input.prisonNumber,
            bookingId: candidate.bookingId,
            alertSeq: candidate.alertSequence,
          });
          return { bookingId: candidate.bookingId, alertSeq: candidate.alertSequence, adopted: true };
        }
      }
      const created = await classified(() => deps.nomis.createAlert(input.prisonNumber, request, signal()));
      log.info('created NOMIS alert', {
        prisonNumber: input.prisonNumber,
        bookingId: created.bookingId,
        alertSeq: created.alertSequence,
      });
      return { bookingId: created.bookingId, alertSeq: created.alertSequence, adopted: false };
    },

    /** Idempotent: a PUT of the whole alert. Null when NOMIS no longer has it. */
    async updateNomisAlertFromDps(input: {
      prisonNumber: string;
      bookingId: number;
      alertSeq: number;
      alert: DpsAlert;
    }): Promise<'updated' | 'gone'> {
      const result = await orNullIfGone(() =>
        deps.nomis.updateAlert(input.bookingId, input.alertSeq, nomisUpdateFromDps(input.alert), signal()),
      );
      log.info('updated NOMIS alert', {
        prisonNumber: input.prisonNumber,
        bookingId: input.bookingId,
        alertSeq: input.alertSeq,
        gone: !result,
      });
      return result ? 'updated' : 'gone';
    },

    /** Idempotent: NOMIS answers 204 when already gone. */
    async deleteNomisAlert(input: { prisonNumber: string; bookingId: number; alertSeq: number }): Promise<void> {
      await classified(() => deps.nomis.deleteAlert(input.bookingId, input.alertSeq, signal()));
      log.info('deleted NOMIS alert', input);
    },
  };
}
