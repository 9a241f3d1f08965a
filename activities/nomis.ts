import { ApplicationFailure, Context, log } from '@temporalio/activity';
import type { Db } from '../adapters/db';
import { findMappingByNomisId, findUnmappedNomisAlerts } from '../adapters/db';
import type { NomisApiClient } from '../adapters/nomis';
import type { DpsAlert, NomisAlert, ResynchroniseNomisAlertsResponse } from '../common/contract';
import { SYNC_AUDIT_MODULE } from '../common/contract';
import { nomisCreateFromDps, nomisUpdateFromDps } from './alert-fields';
import { classified, orNullIfGone } from './failures';
import type { SyncSwitches } from '../common/sync-switches';

const signal = () => Context.current().cancellationSignal;

/** A NOMIS alert no mapping row knows, written by a NOMIS user: its copy to DPS has not run yet. */
export interface UnsyncedNomisAlert {
  bookingId: number;
  alertSeq: number;
  alertCode: string;
}

export function createNomisActivities(deps: { nomis: NomisApiClient; db: Db; switches?: () => Promise<SyncSwitches> }) {
  return {
    /**
     * The DPS-driven resync's write (ADR004's future): NOMIS's current booking gets exactly these alerts, with
     * new sequences. Idempotent in effect: a repeat replaces the first attempt's alerts with equal ones.
     * With `guard`, NOMIS is looked at first: an alert a NOMIS user added since the resync began (not among the
     * `seenBefore` it read first, no mapping knows it, its copy to DPS has not run yet; not one the resync already
     * tried to copy) would be deleted by the replace, so the resync is told instead (non-retryable
     * NomisChangedDuringResync, naming them) to copy them to DPS and read DPS again. Alerts already there when the
     * resync began are NOMIS's own copies (a new booking's, a merge's) or changes queued before the resync: the
     * replace is meant to override them. None are looked for while NOMIS -> DPS is switched off.
     * Null when NOMIS holds no booking for the prisoner and `bookingsMovedAway` says why (contract §3).
     */
    async resynchroniseNomisAlerts(input: {
      prisonNumber: string;
      alerts: DpsAlert[];
      bookingsMovedAway?: boolean;
      guard?: { seenBefore: string[]; knownUnsynced: string[] };
    }): Promise<ResynchroniseNomisAlertsResponse | null> {
      const { prisonNumber } = input;
      if (input.guard && (await deps.switches?.())?.nomisToDps !== false) {
        const current = input.bookingsMovedAway
          ? await orNullIfGone(() => deps.nomis.getAlertsToMigrate(prisonNumber, signal()))
          : await classified(() => deps.nomis.getAlertsToMigrate(prisonNumber, signal()));
        const known = new Set([...input.guard.seenBefore, ...input.guard.knownUnsynced]);
        // DPS already holds an alert like it (e.g. NOMIS's copy onto a new booking): nothing to lose.
        const inDps = new Set(input.alerts.map((a) => `${a.alertCode.code}|${a.activeFrom}|${a.activeTo ?? ''}`));
        const byUsers = (current?.latestBookingAlerts ?? []).filter(
          (a) =>
            !a.audit.auditModuleName?.startsWith(SYNC_AUDIT_MODULE) &&
            !inDps.has(`${a.alertCode.code}|${a.date}|${a.expiryDate ?? ''}`),
        );
        const arrived = (await findUnmappedNomisAlerts(deps.db, byUsers))
          .map((a) => ({ bookingId: a.bookingId, alertSeq: a.alertSequence, alertCode: a.alertCode.code }))
          .filter((a) => !known.has(`${a.bookingId}/${a.alertSeq}`));
        if (arrived.length > 0) {
          throw ApplicationFailure.nonRetryable(
            `NOMIS alerts ${arrived.map((a) => `${a.bookingId}/${a.alertSeq} (${a.alertCode})`).join(', ')} of ${prisonNumber} are not in DPS yet: copying them there before replacing NOMIS`,
            'NomisChangedDuringResync',
            arrived,
          );
        }
      }
      const request = input.alerts.map(nomisCreateFromDps);
      const write = () => deps.nomis.resynchroniseAlerts(prisonNumber, request, signal());
      const created = input.bookingsMovedAway ? await orNullIfGone(write) : await classified(write);
      if (!created) {
        log.info('NOMIS holds no booking for the prisoner any more: nothing to resynchronise', { prisonNumber });
        return null;
      }
      if (created.length !== request.length) {
        throw new Error(
          `NOMIS resynchronise of ${prisonNumber} answered ${created.length} alerts for ${request.length} sent`,
        );
      }
      log.info('resynchronised NOMIS alerts from DPS', { prisonNumber, alertCount: created.length });
      return created;
    },

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
