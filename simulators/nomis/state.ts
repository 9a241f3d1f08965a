import type { z } from 'zod';
import { SYNC_AUDIT_MODULE } from '../../common/contract';
import type { NomisAlert, NomisAlertsToMigrate } from '../../common/contract';
import { AwkwardSwitches } from '../awkward';
import type { EventPublisher, SimLog } from '../events';
import { badRequest, conflict, notFound } from '../http';
import { requireAlertCode } from '../reference-data';
import { localDateTime } from '../time';
import { merge, moveBooking, newBooking, receiveOntoPreviousBooking } from './prisoner-operations';
import { DEFAULT_PRISON, FIRST_BOOKING_ID, alertView, prisonerView, seedActor, seedInput } from './records';
import type { Actor, AlertInput, Prisoner } from './records';
import type {
  MergeResult,
  MoveBookingResult,
  NewBookingResult,
  NomisPrisonerView,
  ReceivePreviousResult,
  createPrisonerRequestSchema,
} from './schemas';
import { NomisStore } from './store';

// The NOMIS side (contract §3): prisoners, their bookings, and the alerts on each booking, plus the
// prisoner-level operations NOMIS staff perform (admission, merge, booking move) that the sync must follow.
// Only alerts on the current booking count; older bookings keep theirs for history, as in NOMIS.

export class NomisState {
  private readonly store: NomisStore;

  constructor(
    events: EventPublisher,
    log: SimLog = () => undefined,
    /** Tests sharing one mapping table give each simulator its own range, as real bookingIds never repeat. */
    firstBookingId = FIRST_BOOKING_ID,
    awkward = new AwkwardSwitches(),
  ) {
    this.store = new NomisStore(events, log, firstBookingId, awkward);
  }

  reset(): void {
    this.store.reset();
  }

  // ---- reads ----

  prisonerNumbers(): string[] {
    return [...this.store.prisoners.keys()].sort();
  }

  /** The real API's page of active prisoners, by current bookingId; a prisoner with no current booking is out. */
  activePrisonerIds(query: { page: number; size: number; prisonId?: string }) {
    const all = [...this.store.prisoners.values()]
      .flatMap((p) => {
        const booking = p.currentBookingId === null ? undefined : p.bookings.get(p.currentBookingId);
        return booking && (!query.prisonId || booking.prisonId === query.prisonId)
          ? [{ bookingId: booking.bookingId, offenderNo: p.offenderNo }]
          : [];
      })
      .sort((a, b) => a.bookingId - b.bookingId);
    return {
      content: all.slice(query.page * query.size, (query.page + 1) * query.size),
      totalElements: all.length,
      totalPages: Math.ceil(all.length / query.size),
      number: query.page,
      size: query.size,
    };
  }

  view(offenderNo: string): NomisPrisonerView {
    return prisonerView(this.store.prisoner(offenderNo));
  }

  dump(): NomisPrisonerView[] {
    return this.prisonerNumbers().map((offenderNo) => this.view(offenderNo));
  }

  toMigrate(offenderNo: string): NomisAlertsToMigrate {
    const prisoner = this.store.prisoners.get(offenderNo);
    if (!prisoner || prisoner.currentBookingId === null) throw notFound(`Prisoner ${offenderNo} with a booking`);
    const [current, ...previous] = prisonerView(prisoner).bookings;
    return {
      latestBookingAlerts: current?.alerts ?? [],
      previousBookingsAlerts: previous.flatMap((booking) => booking.alerts),
    };
  }

  getAlert(bookingId: number, alertSequence: number): NomisAlert {
    const { booking, prisoner } = this.store.booking(bookingId);
    const alert = booking.alerts.get(alertSequence);
    if (!alert) throw notFound(`Alert ${alertSequence} on booking ${bookingId}`);
    return alertView(prisoner, booking, alert);
  }

  // ---- alert writes (API and NOMIS users) ----

  createAlert(offenderNo: string, input: AlertInput, actor: Actor): NomisAlert {
    const prisoner = this.store.prisoner(offenderNo);
    const booking = this.store.currentBooking(prisoner);
    requireAlertCode(input.alertCode);
    const duplicate = [...booking.alerts.values()].find((a) => a.isActive && a.alertCode === input.alertCode);
    // Only an active newcomer clashes: NOMIS keeps any number of inactive (historical) alerts of a code.
    if (duplicate && input.isActive) {
      throw conflict(
        `Alert code ${input.alertCode} is already active on booking ${booking.bookingId} (alertSequence ${duplicate.alertSequence})`,
      );
    }
    const alert = this.store.addRecord(booking, input, actor);
    this.store.publishAlertEvent('ALERT-INSERTED', prisoner, booking, alert, actor.module);
    return alertView(prisoner, booking, alert);
  }

  /**
   * The DPS-driven resync: every alert on the current booking is replaced by these, which take sequences after
   * the booking's old highest (never reused), so an in-flight event for an old sequence cannot match a new alert.
   */
  resynchroniseAlerts(offenderNo: string, alerts: Array<{ input: AlertInput; actor: Actor }>): NomisAlert[] {
    const prisoner = this.store.prisoner(offenderNo);
    const booking = this.store.currentBooking(prisoner);
    const active = new Set<string>();
    for (const [i, { input }] of alerts.entries()) {
      requireAlertCode(input.alertCode, `[${i}].alertCode`);
      if (!input.isActive) continue;
      if (active.has(input.alertCode)) throw badRequest(`[${i}].alertCode: ${input.alertCode} is active twice`);
      active.add(input.alertCode);
    }
    for (const old of [...booking.alerts.values()]) {
      booking.alerts.delete(old.alertSequence);
      this.store.publishAlertEvent('ALERT-DELETED', prisoner, booking, old, SYNC_AUDIT_MODULE);
    }
    return alerts.map(({ input, actor }) => {
      const alert = this.store.addRecord(booking, input, actor, { reuse: false });
      this.store.publishAlertEvent('ALERT-INSERTED', prisoner, booking, alert, actor.module);
      return alertView(prisoner, booking, alert);
    });
  }

  updateAlert(
    bookingId: number,
    alertSequence: number,
    changes: Partial<Omit<AlertInput, 'alertCode'>>,
    actor: Actor,
  ): NomisAlert {
    const { booking, prisoner } = this.store.booking(bookingId);
    const alert = booking.alerts.get(alertSequence);
    if (!alert) throw notFound(`Alert ${alertSequence} on booking ${bookingId}`);
    if (changes.date !== undefined) alert.date = changes.date;
    if (changes.expiryDate !== undefined) alert.expiryDate = changes.expiryDate;
    if (changes.isActive !== undefined) alert.isActive = changes.isActive;
    if (changes.comment !== undefined) alert.comment = changes.comment;
    if (changes.authorisedBy !== undefined) alert.authorisedBy = changes.authorisedBy;
    alert.audit.modifyUserId = actor.username;
    alert.audit.modifyDatetime = localDateTime();
    alert.audit.auditModuleName = actor.module;
    this.store.publishAlertEvent('ALERT-UPDATED', prisoner, booking, alert, actor.module);
    return alertView(prisoner, booking, alert);
  }

  /** Returns false when the alert was already gone. */
  deleteAlert(bookingId: number, alertSequence: number, actor: Actor): boolean {
    const { prisoner, booking } = this.store.findBooking(bookingId);
    const alert = booking?.alerts.get(alertSequence);
    if (!prisoner || !booking || !alert) return false;
    booking.alerts.delete(alertSequence);
    this.store.publishAlertEvent('ALERT-DELETED', prisoner, booking, alert, actor.module);
    return true;
  }

  // ---- prisoner-level operations ----

  createPrisoner(request: z.output<typeof createPrisonerRequestSchema>): NomisPrisonerView {
    if (this.store.prisoners.has(request.offenderNo)) throw conflict(`Prisoner ${request.offenderNo} already exists`);
    const allAlerts = [...(request.previousBookings ?? []).flatMap((b) => b.alerts ?? []), ...(request.alerts ?? [])];
    allAlerts.forEach((alert, i) => requireAlertCode(alert.alertCode, `alerts[${i}].alertCode`));
    const prisoner: Prisoner = { offenderNo: request.offenderNo, bookings: new Map(), currentBookingId: null };
    this.store.prisoners.set(prisoner.offenderNo, prisoner);
    const prisonId = request.prisonId ?? DEFAULT_PRISON;
    for (const previous of request.previousBookings ?? []) {
      const booking = this.store.addBooking(prisoner, prisonId);
      for (const alert of previous.alerts ?? []) this.store.addRecord(booking, seedInput(alert), seedActor(alert));
    }
    const current = this.store.addBooking(prisoner, prisonId);
    for (const alert of request.alerts ?? []) this.store.addRecord(current, seedInput(alert), seedActor(alert));
    prisoner.currentBookingId = current.bookingId;
    this.store.log('nomis', `created prisoner ${prisoner.offenderNo} with booking ${current.bookingId}`);
    return prisonerView(prisoner);
  }

  newBooking(offenderNo: string, prisonId = DEFAULT_PRISON): NewBookingResult {
    return newBooking(this.store, offenderNo, prisonId);
  }

  receiveOntoPreviousBooking(offenderNo: string, bookingId?: number, prisonId = DEFAULT_PRISON): ReceivePreviousResult {
    return receiveOntoPreviousBooking(this.store, offenderNo, bookingId, prisonId);
  }

  moveBooking(bookingId: number, toOffenderNo: string, fromOffenderNo?: string): MoveBookingResult {
    return moveBooking(this.store, bookingId, toOffenderNo, fromOffenderNo);
  }

  merge(retainedOffenderNo: string, removedOffenderNo: string): MergeResult {
    return merge(this.store, retainedOffenderNo, removedOffenderNo);
  }
}
