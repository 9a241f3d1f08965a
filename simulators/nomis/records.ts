import type { z } from 'zod';
import type { NomisAlert } from '../../common/contract';
import { requireAlertCode } from '../reference-data';
import { localDate } from '../time';
import type { NomisPrisonerView, seedAlertSchema } from './schemas';

// NOMIS as it keeps its data (prisoners, their bookings, the alerts on each booking) and how it shows it.

/** The audit module of changes made by NOMIS users on the alerts screen. */
export const NOMIS_USER_MODULE = 'OIDALERT';
/** Alerts NOMIS copies onto a new booking during admission. */
export const ADMISSION_MODULE = 'OIDADMIS';
/** Alerts NOMIS copies onto the retained prisoner during a merge. */
export const MERGE_MODULE = 'MERGE';
export const DEFAULT_PRISON = 'MDI';
export const FIRST_BOOKING_ID = 1_200_000;

export interface AlertRecord {
  alertSequence: number;
  alertCode: string;
  date: string;
  expiryDate: string | null;
  isActive: boolean;
  isVerified: boolean;
  comment: string | null;
  authorisedBy: string | null;
  audit: {
    createUsername: string;
    createDatetime: string;
    modifyUserId: string | null;
    modifyDatetime: string | null;
    auditModuleName: string;
  };
}

export interface Booking {
  bookingId: number;
  prisonId: string;
  alerts: Map<number, AlertRecord>;
  nextAlertSequence: number;
}

export interface Prisoner {
  offenderNo: string;
  bookings: Map<number, Booking>;
  currentBookingId: number | null;
}

export interface AlertInput {
  alertCode: string;
  date: string;
  expiryDate: string | null;
  isActive: boolean;
  comment: string | null;
  authorisedBy: string | null;
}

export interface Actor {
  username: string;
  module: string;
}

export function seedInput(alert: z.output<typeof seedAlertSchema>): AlertInput {
  const expiryDate = alert.expiryDate ?? null;
  return {
    alertCode: alert.alertCode,
    date: alert.date ?? localDate(),
    expiryDate,
    isActive: alert.isActive ?? (expiryDate === null || expiryDate > localDate()),
    comment: alert.comment ?? null,
    authorisedBy: alert.authorisedBy ?? null,
  };
}

export function seedActor(alert: z.output<typeof seedAlertSchema>): Actor {
  return { username: alert.createUsername ?? 'NOMIS_USER', module: NOMIS_USER_MODULE };
}

/** bookingSequence 1 is the current booking; the others follow newest first (bookingIds only grow). */
function orderedBookings(prisoner: Prisoner): Booking[] {
  return [...prisoner.bookings.values()].sort((a, b) => {
    if (a.bookingId === prisoner.currentBookingId) return -1;
    if (b.bookingId === prisoner.currentBookingId) return 1;
    return b.bookingId - a.bookingId;
  });
}

export function prisonerView(prisoner: Prisoner): NomisPrisonerView {
  return {
    offenderNo: prisoner.offenderNo,
    currentBookingId: prisoner.currentBookingId,
    bookings: orderedBookings(prisoner).map((booking, i) => ({
      bookingId: booking.bookingId,
      bookingSequence: i + 1,
      isCurrent: booking.bookingId === prisoner.currentBookingId,
      prisonId: booking.prisonId,
      alerts: [...booking.alerts.values()].map((alert) => alertView(prisoner, booking, alert, i + 1)),
    })),
  };
}

export function alertView(
  prisoner: Prisoner,
  booking: Booking,
  alert: AlertRecord,
  bookingSequence?: number,
): NomisAlert {
  const code = requireAlertCode(alert.alertCode);
  return {
    bookingId: booking.bookingId,
    bookingSequence: bookingSequence ?? orderedBookings(prisoner).indexOf(booking) + 1,
    alertSequence: alert.alertSequence,
    alertCode: { code: code.code, description: code.description },
    type: code.type,
    date: alert.date,
    expiryDate: alert.expiryDate,
    isActive: alert.isActive,
    isVerified: alert.isVerified,
    comment: alert.comment,
    authorisedBy: alert.authorisedBy,
    audit: { ...alert.audit },
  };
}
