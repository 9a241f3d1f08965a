import { ApplicationFailure, Context, log } from '@temporalio/activity';
import type { Db } from '../adapters/db';
import { findMappingByNomisId, listPrisonerMappings } from '../adapters/db';
import type { NomisApiClient } from '../adapters/nomis';
import type { DpsAlert, NomisAlert, ResynchroniseNomisAlertsResponse } from '../common/contract';
import { SYNC_AUDIT_MODULE } from '../common/contract';
import type { UnsyncedNomisChange } from '../common/unsynced-nomis-changes';
import { unsyncedChangeKey, unsyncedNomisChanges } from '../common/unsynced-nomis-changes';
import { nomisCreateFromDps, nomisUpdateFromDps } from '../common/alert-fields';
import { classified, orNullIfGone } from './failures';
import type { SyncSwitches } from '../common/sync-switches';

const signal = () => Context.current().cancellationSignal;

// Longer than 80 lines as a whole: a factory of several activities sharing its dependencies, each one short.
export function createNomisActivities(deps: { nomis: NomisApiClient; db: Db; switches?: () => Promise<SyncSwitches> }) {
  /** NOMIS users' changes to the prisoner that DPS (`dpsAlerts`) does not have yet: reads NOMIS and the mappings. */
  async function nomisChangesNotInDps(prisonNumber: string, dpsAlerts: DpsAlert[]): Promise<UnsyncedNomisChange[]> {
    const now = await orNullIfGone(() => deps.nomis.getAlertsToMigrate(prisonNumber, signal()));
    const current = now?.latestBookingAlerts ?? [];
    const previous = now?.previousBookingsAlerts ?? [];
    const mappings = await listPrisonerMappings(deps.db, prisonNumber);
    const onCurrent = new Set(current.map((a) => `${a.bookingId}/${a.alertSequence}`));
    const elsewhere = new Map<string, NomisAlert | null>();
    for (const m of mappings) {
      const key = `${m.nomisBookingId}/${m.nomisAlertSequence}`;
      if (m.nomisBookingId !== current[0]?.bookingId || onCurrent.has(key)) continue;
      elsewhere.set(
        key,
        await orNullIfGone(() => deps.nomis.getAlert(m.nomisBookingId, m.nomisAlertSequence, signal())),
      );
    }
    return unsyncedNomisChanges({ current, previous, dpsAlerts, mappings, elsewhere });
  }

  return {
    /**
     * The DPS-driven resync's write (ADR004's future): NOMIS's current booking gets exactly these alerts, with
     * new sequences. Idempotent in effect: a repeat replaces the first attempt's alerts with equal ones.
     * With `guard`, NOMIS is looked at first: what NOMIS users created, edited or deleted that the sync has not
     * copied to DPS yet (common/unsynced-nomis-changes.ts) would be overridden by the replace, so the resync is
     * told instead (non-retryable NomisChangedDuringResync, naming them; not those it already tried to copy) to
     * copy them to DPS and read DPS again. None are looked for while NOMIS -> DPS is switched off.
     * Null when NOMIS holds no booking for the prisoner and `bookingsMovedAway` says why (contract §3).
     */
    async resynchroniseNomisAlerts(input: {
      prisonNumber: string;
      alerts: DpsAlert[];
      bookingsMovedAway?: boolean;
      guard?: { knownUnsynced: string[] };
    }): Promise<ResynchroniseNomisAlertsResponse | null> {
      const { prisonNumber } = input;
      if (input.guard && (await deps.switches?.())?.nomisToDps !== false) {
        const known = new Set(input.guard.knownUnsynced);
        const arrived = (await nomisChangesNotInDps(prisonNumber, input.alerts)).filter(
          (c) => !known.has(unsyncedChangeKey(c)),
        );
        if (arrived.length > 0) {
          throw ApplicationFailure.nonRetryable(
            `NOMIS users' changes to ${prisonNumber} are not in DPS yet: ${arrived.map((c) => `${c.action} ${c.bookingId}/${c.alertSeq} (${c.alertCode})`).join(', ')}; copying them there before replacing NOMIS`,
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
      // In request order, one for one: the mappings pair them by position.
      if (created.length !== request.length || created.some((c, i) => c.alertCode.code !== request[i]!.alertCode)) {
        throw new Error(
          `NOMIS resynchronise of ${prisonNumber} answered ${created.map((c) => c.alertCode.code).join(',')} for ${request.map((r) => r.alertCode).join(',')} sent`,
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
