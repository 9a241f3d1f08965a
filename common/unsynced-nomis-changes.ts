import { lastWrittenBySync, sameAlert } from './alerts';
import type { DpsAlert, NomisAlert } from './contract';
import { alertDifferences, codeAndDates, dpsSyncedFields, nomisSyncedFields } from './alert-fields';

// What a resync from DPS would override on NOMIS's side that NOMIS users did and the sync has not copied to DPS
// yet (their events still on the way): it copies these first, so that the replace loses none of them. Pure, so
// the rules are unit-tested; the activity does the reading.

export interface UnsyncedNomisChange {
  action: 'CREATED' | 'UPDATED' | 'DELETED';
  bookingId: number;
  alertSeq: number;
  alertCode: string;
}

export interface NomisSideOfResync {
  /** The prisoner's current booking's alerts now. */
  current: NomisAlert[];
  /** Their previous bookings' alerts now (NOMIS copies active ones onto a new booking, and a merge's). */
  previous: NomisAlert[];
  /** The DPS alerts the resync would write. */
  dpsAlerts: DpsAlert[];
  /** The prisoner's mapping rows. */
  mappings: Array<{ dpsAlertId: string; nomisBookingId: number; nomisAlertSequence: number }>;
  /** For each NOMIS alert mapped to the current booking and gone from it: what NOMIS holds under its key now. */
  elsewhere: Map<string, NomisAlert | null>;
}

const byUser = (alert: NomisAlert) => !lastWrittenBySync(alert);
const key = (bookingId: number, alertSeq: number) => `${bookingId}/${alertSeq}`;
const dated = (alert: NomisAlert) => codeAndDates(nomisSyncedFields(alert));

export function unsyncedNomisChanges(side: NomisSideOfResync): UnsyncedNomisChange[] {
  const changes: UnsyncedNomisChange[] = [];
  const mappingByNomis = new Map(side.mappings.map((m) => [key(m.nomisBookingId, m.nomisAlertSequence), m]));
  const dpsById = new Map(side.dpsAlerts.map((a) => [a.alertUuid, a]));
  const inDps = new Set(side.dpsAlerts.map((a) => codeAndDates(dpsSyncedFields(a))));
  const onPrevious = new Set(side.previous.map((a) => `${dated(a)}|${a.comment}`));
  const change = (action: UnsyncedNomisChange['action'], alert: NomisAlert) =>
    changes.push({
      action,
      bookingId: alert.bookingId,
      alertSeq: alert.alertSequence,
      alertCode: alert.alertCode.code,
    });

  // The booking DPS was last brought in step with is still the current one: an alert on it that no mapping
  // knows is new since. Otherwise the current booking is another (a new admission, a recall, a booking moved
  // here), whose alerts are what the resync is meant to override.
  const mappedBookings = new Set(side.mappings.map((m) => m.nomisBookingId));
  const sameBooking = (alert: NomisAlert) => side.mappings.length === 0 || mappedBookings.has(alert.bookingId);
  for (const alert of side.current) {
    const mapping = mappingByNomis.get(key(alert.bookingId, alert.alertSequence));
    if (!mapping) {
      // New and not in DPS: a NOMIS user's, unless DPS has one like it or it is NOMIS's own copy of an alert
      // of an earlier booking (onto a new booking, or by a merge).
      const likeDps = inDps.has(dated(alert));
      const copied = onPrevious.has(`${dated(alert)}|${alert.comment}`);
      if (byUser(alert) && sameBooking(alert) && !likeDps && !copied) change('CREATED', alert);
      continue;
    }
    // Mapped, and a NOMIS user changed it after DPS's copy last changed: an edit on its way to DPS.
    const copy = dpsById.get(mapping.dpsAlertId);
    const modified = alert.audit.modifyDatetime;
    if (!copy || !modified || !byUser(alert) || alertDifferences(alert, copy).length === 0) continue;
    // Second precision: the same second counts as NOMIS's, since losing a NOMIS user's edit is not an option.
    if (modified >= (copy.lastModifiedAt ?? copy.createdAt)) change('UPDATED', alert);
  }
  // Mapped to the current booking, still in DPS, and gone from NOMIS (not given to another prisoner): a NOMIS
  // user's delete on its way to DPS. Alerts of a booking that is no longer current went with it, or stayed.
  const currentBookingId = side.current[0]?.bookingId;
  const onCurrent = new Set(side.current.map((a) => key(a.bookingId, a.alertSequence)));
  for (const mapping of side.mappings) {
    const nomisKey = key(mapping.nomisBookingId, mapping.nomisAlertSequence);
    const copy = dpsById.get(mapping.dpsAlertId);
    if (!copy || mapping.nomisBookingId !== currentBookingId || onCurrent.has(nomisKey)) continue;
    const now = side.elsewhere.get(nomisKey);
    if (now === undefined || (now && sameAlert(now, copy))) continue;
    changes.push({
      action: 'DELETED',
      bookingId: mapping.nomisBookingId,
      alertSeq: mapping.nomisAlertSequence,
      alertCode: copy.alertCode.code,
    });
  }
  return changes;
}

/** The key the resync remembers a change it already copied by. */
export function unsyncedChangeKey(change: UnsyncedNomisChange): string {
  return `${change.action}:${key(change.bookingId, change.alertSeq)}`;
}
