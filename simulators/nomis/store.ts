import type { AwkwardSwitches } from '../awkward';
import { domainEvent } from '../events';
import type { EventPublisher, SimLog } from '../events';
import { notFound } from '../http';
import { requireAlertCode } from '../reference-data';
import { localDateTime } from '../time';
import type { Actor, AlertInput, AlertRecord, Booking, Prisoner } from './records';

// The bookkeeping that every NOMIS operation shares: finding prisoners and bookings (404 when missing), handing
// out bookingIds and alert sequences as NOMIS does, and publishing what changed.

type AlertEventType = 'ALERT-INSERTED' | 'ALERT-UPDATED' | 'ALERT-DELETED';

export class NomisStore {
  readonly prisoners = new Map<string, Prisoner>();
  private readonly bookingOwners = new Map<number, string>();
  private nextBookingId: number;

  constructor(
    private readonly events: EventPublisher,
    readonly log: SimLog,
    private readonly firstBookingId: number,
    private readonly awkward: AwkwardSwitches,
  ) {
    this.nextBookingId = firstBookingId;
  }

  reset(): void {
    this.prisoners.clear();
    this.bookingOwners.clear();
    this.nextBookingId = this.firstBookingId;
  }

  prisoner(offenderNo: string): Prisoner {
    const prisoner = this.prisoners.get(offenderNo);
    if (!prisoner) throw notFound(`Prisoner ${offenderNo}`);
    return prisoner;
  }

  currentBooking(prisoner: Prisoner): Booking {
    const booking = prisoner.currentBookingId === null ? undefined : prisoner.bookings.get(prisoner.currentBookingId);
    if (!booking) throw notFound(`Current booking of prisoner ${prisoner.offenderNo}`);
    return booking;
  }

  /** The booking and its owner, or undefined for either when there is none. */
  findBooking(bookingId: number): { prisoner: Prisoner | undefined; booking: Booking | undefined } {
    const owner = this.bookingOwners.get(bookingId);
    const prisoner = owner === undefined ? undefined : this.prisoners.get(owner);
    return { prisoner, booking: prisoner?.bookings.get(bookingId) };
  }

  booking(bookingId: number): { prisoner: Prisoner; booking: Booking } {
    const { prisoner, booking } = this.findBooking(bookingId);
    if (!prisoner || !booking) throw notFound(`Booking ${bookingId}`);
    return { prisoner, booking };
  }

  /** Records who owns a booking now, after it moved between prisoners. */
  setOwner(bookingId: number, offenderNo: string): void {
    this.bookingOwners.set(bookingId, offenderNo);
  }

  addBooking(prisoner: Prisoner, prisonId: string): Booking {
    const booking: Booking = { bookingId: this.nextBookingId++, prisonId, alerts: new Map(), nextAlertSequence: 1 };
    prisoner.bookings.set(booking.bookingId, booking);
    this.bookingOwners.set(booking.bookingId, prisoner.offenderNo);
    return booking;
  }

  addRecord(booking: Booking, input: AlertInput, actor: Actor, options = { reuse: true }): AlertRecord {
    // Real NOMIS takes the highest sequence + 1, so deleting the highest alert frees its sequence for the next.
    // nextAlertSequence is past every sequence the booking ever had.
    const alertSequence =
      options.reuse && this.awkward.get().reuseAlertSequences
        ? Math.max(0, ...booking.alerts.keys()) + 1
        : booking.nextAlertSequence;
    booking.nextAlertSequence = Math.max(booking.nextAlertSequence, alertSequence + 1);
    const alert: AlertRecord = {
      alertSequence,
      alertCode: input.alertCode,
      date: input.date,
      expiryDate: input.expiryDate,
      isActive: input.isActive,
      isVerified: false,
      comment: input.comment,
      authorisedBy: input.authorisedBy,
      audit: {
        createUsername: actor.username,
        createDatetime: localDateTime(),
        modifyUserId: null,
        modifyDatetime: null,
        auditModuleName: actor.module,
      },
    };
    booking.alerts.set(alert.alertSequence, alert);
    return alert;
  }

  copyRecord(booking: Booking, alert: AlertRecord, module: string): AlertRecord {
    return this.addRecord(booking, alert, { username: alert.audit.createUsername, module });
  }

  publishAlertEvent(
    eventType: AlertEventType,
    prisoner: Prisoner,
    booking: Booking,
    alert: AlertRecord,
    auditModuleName: string,
  ): void {
    const code = requireAlertCode(alert.alertCode);
    this.events.publish('offenderEvents', prisoner.offenderNo, {
      eventType,
      eventDatetime: localDateTime(),
      offenderIdDisplay: prisoner.offenderNo,
      bookingId: booking.bookingId,
      alertSeq: alert.alertSequence,
      alertType: code.type.code,
      alertCode: code.code,
      ...(this.awkward.get().omitAuditModuleName ? {} : { auditModuleName }),
    });
  }

  /** A prisoner-level change, announced on the domain events topic (contract §1.2). */
  publishDomainEvent(
    eventType: string,
    offenderNo: string,
    description: string,
    additionalInformation: Record<string, unknown>,
  ): void {
    this.events.publish(
      'domainEvents',
      offenderNo,
      domainEvent(eventType, offenderNo, description, additionalInformation),
    );
  }
}
