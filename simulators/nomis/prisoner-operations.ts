import type { NomisAlert } from '../../common/contract';
import { badRequest, conflict, notFound } from '../http';
import { ADMISSION_MODULE, MERGE_MODULE, alertView, prisonerView } from './records';
import type { MergeResult, MoveBookingResult, NewBookingResult, ReceivePreviousResult } from './schemas';
import type { NomisStore } from './store';

// What NOMIS staff do to whole prisoners (admission, recall correction, booking move, merge): the changes the
// sync must follow from one domain event, however many alerts they carry.

const RECEIVED = 'prisoner-offender-search.prisoner.received';

/** A new admission: NOMIS opens a booking and carries the active alerts over from the last one. */
export function newBooking(store: NomisStore, offenderNo: string, prisonId: string): NewBookingResult {
  const prisoner = store.prisoner(offenderNo);
  const previous = prisoner.currentBookingId === null ? undefined : prisoner.bookings.get(prisoner.currentBookingId);
  const booking = store.addBooking(prisoner, prisonId);
  const copied = [...(previous?.alerts.values() ?? [])]
    .filter((alert) => alert.isActive)
    .map((alert) => store.copyRecord(booking, alert, ADMISSION_MODULE));
  prisoner.currentBookingId = booking.bookingId;
  store.publishDomainEvent(RECEIVED, offenderNo, 'A prisoner has been received into prison', {
    nomsNumber: offenderNo,
    reason: 'NEW_ADMISSION',
    prisonId,
  });
  store.log('nomis', `new booking ${booking.bookingId} for ${offenderNo} (copied ${copied.length} active alert(s))`);
  return {
    offenderNo,
    bookingId: booking.bookingId,
    previousBookingId: previous?.bookingId ?? null,
    copiedAlerts: copied.map((alert) => alertView(prisoner, booking, alert)),
    prisoner: prisonerView(prisoner),
  };
}

/** Recall correction: the prisoner is received back onto an earlier booking, whose alerts become current again. */
export function receiveOntoPreviousBooking(
  store: NomisStore,
  offenderNo: string,
  bookingId: number | undefined,
  prisonId: string,
): ReceivePreviousResult {
  const prisoner = store.prisoner(offenderNo);
  const previousIds = [...prisoner.bookings.keys()].filter((id) => id !== prisoner.currentBookingId);
  const target = bookingId ?? Math.max(...previousIds);
  if (previousIds.length === 0) throw badRequest(`Prisoner ${offenderNo} has no previous booking`);
  if (!prisoner.bookings.has(target)) throw notFound(`Booking ${target} of prisoner ${offenderNo}`);
  if (target === prisoner.currentBookingId) throw badRequest(`bookingId: ${target} is already the current booking`);
  const previousCurrentBookingId = prisoner.currentBookingId;
  prisoner.currentBookingId = target;
  store.publishDomainEvent(RECEIVED, offenderNo, 'A prisoner has been received into prison', {
    nomsNumber: offenderNo,
    reason: 'READMISSION_SWITCH_BOOKING',
    prisonId,
  });
  store.log('nomis', `received ${offenderNo} onto previous booking ${target} (was ${previousCurrentBookingId})`);
  return { offenderNo, bookingId: target, previousCurrentBookingId, prisoner: prisonerView(prisoner) };
}

export function moveBooking(
  store: NomisStore,
  bookingId: number,
  toOffenderNo: string,
  fromOffenderNo?: string,
): MoveBookingResult {
  const { prisoner: from, booking } = store.booking(bookingId);
  if (fromOffenderNo !== undefined && fromOffenderNo !== from.offenderNo) {
    throw conflict(`Booking ${bookingId} belongs to ${from.offenderNo}, not ${fromOffenderNo}`);
  }
  if (toOffenderNo === from.offenderNo) throw badRequest(`toOffenderNo: booking ${bookingId} is already on it`);
  let to = store.prisoners.get(toOffenderNo);
  if (!to) {
    to = { offenderNo: toOffenderNo, bookings: new Map(), currentBookingId: null };
    store.prisoners.set(toOffenderNo, to);
  }
  from.bookings.delete(bookingId);
  if (from.currentBookingId === bookingId) {
    const remaining = [...from.bookings.keys()];
    from.currentBookingId = remaining.length ? Math.max(...remaining) : null;
  }
  to.bookings.set(bookingId, booking);
  store.setOwner(bookingId, toOffenderNo);
  if (to.currentBookingId === null || bookingId > to.currentBookingId) to.currentBookingId = bookingId;
  store.publishDomainEvent(
    'prison-offender-events.prisoner.booking.moved',
    toOffenderNo,
    'A NOMIS booking has moved between prisoners',
    { bookingId, movedFromNomsNumber: from.offenderNo, movedToNomsNumber: toOffenderNo },
  );
  store.log('nomis', `moved booking ${bookingId} from ${from.offenderNo} to ${toOffenderNo}`);
  return { bookingId, from: prisonerView(from), to: prisonerView(to) };
}

export function merge(store: NomisStore, retainedOffenderNo: string, removedOffenderNo: string): MergeResult {
  if (retainedOffenderNo === removedOffenderNo) throw badRequest('removedOffenderNo: must differ from the retained');
  const retained = store.prisoner(retainedOffenderNo);
  const removed = store.prisoner(removedOffenderNo);
  const removedCurrent = removed.currentBookingId === null ? undefined : removed.bookings.get(removed.currentBookingId);
  for (const [bookingId, booking] of removed.bookings) {
    retained.bookings.set(bookingId, booking);
    store.setOwner(bookingId, retainedOffenderNo);
  }
  store.prisoners.delete(removedOffenderNo);
  const copied: NomisAlert[] = [];
  if (retained.currentBookingId === null) {
    // Nothing to copy onto: the removed prisoner's current booking simply becomes the retained one's.
    retained.currentBookingId = removedCurrent?.bookingId ?? null;
  } else if (removedCurrent) {
    const target = store.currentBooking(retained);
    const activeCodes = new Set([...target.alerts.values()].filter((a) => a.isActive).map((a) => a.alertCode));
    for (const alert of removedCurrent.alerts.values()) {
      if (!alert.isActive || activeCodes.has(alert.alertCode)) continue;
      activeCodes.add(alert.alertCode);
      copied.push(alertView(retained, target, store.copyRecord(target, alert, MERGE_MODULE)));
    }
  }
  store.publishDomainEvent('prison-offender-events.prisoner.merged', retainedOffenderNo, 'A prisoner has been merged', {
    nomsNumber: retainedOffenderNo,
    removedNomsNumber: removedOffenderNo,
    // Omitted rather than null when neither record has a booking: consumers treat it as optional.
    ...(retained.currentBookingId === null ? {} : { bookingId: retained.currentBookingId }),
    reason: 'MERGE',
  });
  store.log('nomis', `merged ${removedOffenderNo} into ${retainedOffenderNo} (copied ${copied.length} alert(s))`);
  return {
    retainedOffenderNo,
    removedOffenderNo,
    bookingId: retained.currentBookingId,
    copiedAlerts: copied,
    retained: prisonerView(retained),
  };
}
