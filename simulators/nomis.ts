import { z } from 'zod';
import {
  SYNC_AUDIT_MODULE,
  createNomisAlertRequestSchema,
  prisonNumber,
  resynchroniseNomisAlertsRequestSchema,
  updateNomisAlertRequestSchema,
} from '../common/contract';
import type {
  CreateNomisAlertResponse,
  NomisAlert,
  NomisAlertsToMigrate,
  ResynchroniseNomisAlertsResponse,
} from '../common/contract';
import { NOMIS_ROLE } from './auth';
import { AwkwardSwitches } from './awkward';
import { domainEvent } from './events';
import type { EventPublisher, SimLog } from './events';
import { badRequest, body, conflict, intParam, json, noContent, notFound, param, validate } from './http';
import type { Route } from './http';
import { requireAlertCode } from './reference-data';
import { localDate, localDateTime } from './time';

// The NOMIS side (contract §3): prisoners, their bookings, and the alerts on each booking, plus the
// prisoner-level operations NOMIS staff perform (admission, merge, booking move) that the sync must follow.
// Only alerts on the current booking count; older bookings keep theirs for history, as in NOMIS.

/** The audit module of changes made by NOMIS users on the alerts screen. */
export const NOMIS_USER_MODULE = 'OIDALERT';
/** Alerts NOMIS copies onto a new booking during admission. */
const ADMISSION_MODULE = 'OIDADMIS';
/** Alerts NOMIS copies onto the retained prisoner during a merge. */
const MERGE_MODULE = 'MERGE';
const DEFAULT_PRISON = 'MDI';
const FIRST_BOOKING_ID = 1_200_000;

const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD');

// ---- control request shapes (also the control client's argument types) ----

export const seedAlertSchema = z.object({
  alertCode: z.string().min(1),
  date: date.optional(),
  expiryDate: date.nullish(),
  /** Defaults to true, or false when expiryDate is already past. */
  isActive: z.boolean().optional(),
  comment: z.string().nullish(),
  authorisedBy: z.string().nullish(),
  createUsername: z.string().min(1).optional(),
});
export type SeedAlert = z.input<typeof seedAlertSchema>;

export const createPrisonerRequestSchema = z.object({
  offenderNo: prisonNumber,
  prisonId: z.string().min(1).optional(),
  /** Alerts on the first (current) booking; omit both lists for a prisoner without alerts. */
  alerts: z.array(seedAlertSchema).optional(),
  /** Older bookings, oldest first, created before the current one so their bookingIds are lower. */
  previousBookings: z.array(z.object({ alerts: z.array(seedAlertSchema).optional() })).optional(),
});
export type CreatePrisonerRequest = z.input<typeof createPrisonerRequestSchema>;

export const nomisUserAlertRequestSchema = seedAlertSchema;
export type NomisUserAlertRequest = SeedAlert;

export const nomisUserAlertUpdateSchema = z.object({
  date: date.optional(),
  expiryDate: date.nullish(),
  isActive: z.boolean().optional(),
  comment: z.string().nullish(),
  authorisedBy: z.string().nullish(),
  username: z.string().min(1).optional(),
});
export type NomisUserAlertUpdate = z.input<typeof nomisUserAlertUpdateSchema>;

// These bodies are optional: an empty request means "all defaults".
export const newBookingRequestSchema = z.object({ prisonId: z.string().min(1).optional() }).default({});
export type NewBookingRequest = z.input<typeof newBookingRequestSchema>;

export const receivePreviousRequestSchema = z
  .object({ bookingId: z.number().int().positive().optional(), prisonId: z.string().min(1).optional() })
  .default({});
export type ReceivePreviousRequest = z.input<typeof receivePreviousRequestSchema>;

export const moveBookingRequestSchema = z.object({
  toOffenderNo: prisonNumber,
  /** When given, the booking must belong to this prisoner: guards a CLI typo from moving the wrong booking. */
  fromOffenderNo: prisonNumber.optional(),
});
export type MoveBookingRequest = z.input<typeof moveBookingRequestSchema>;

export const mergeRequestSchema = z.object({ retainedOffenderNo: prisonNumber, removedOffenderNo: prisonNumber });
export type MergeRequest = z.input<typeof mergeRequestSchema>;

// ---- state ----

interface AlertRecord {
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

interface Booking {
  bookingId: number;
  prisonId: string;
  alerts: Map<number, AlertRecord>;
  nextAlertSequence: number;
}

interface Prisoner {
  offenderNo: string;
  bookings: Map<number, Booking>;
  currentBookingId: number | null;
}

export interface NomisBookingView {
  bookingId: number;
  bookingSequence: number;
  isCurrent: boolean;
  prisonId: string;
  alerts: NomisAlert[];
}

export interface NomisPrisonerView {
  offenderNo: string;
  currentBookingId: number | null;
  bookings: NomisBookingView[];
}

export interface NewBookingResult {
  offenderNo: string;
  bookingId: number;
  previousBookingId: number | null;
  copiedAlerts: NomisAlert[];
  prisoner: NomisPrisonerView;
}

export interface ReceivePreviousResult {
  offenderNo: string;
  bookingId: number;
  previousCurrentBookingId: number | null;
  prisoner: NomisPrisonerView;
}

export interface MoveBookingResult {
  bookingId: number;
  from: NomisPrisonerView;
  to: NomisPrisonerView;
}

export interface MergeResult {
  retainedOffenderNo: string;
  removedOffenderNo: string;
  bookingId: number | null;
  copiedAlerts: NomisAlert[];
  retained: NomisPrisonerView;
}

interface AlertInput {
  alertCode: string;
  date: string;
  expiryDate: string | null;
  isActive: boolean;
  comment: string | null;
  authorisedBy: string | null;
}

interface Actor {
  username: string;
  module: string;
}

type AlertEventType = 'ALERT-INSERTED' | 'ALERT-UPDATED' | 'ALERT-DELETED';

export class NomisState {
  private prisoners = new Map<string, Prisoner>();
  private bookingOwners = new Map<number, string>();
  private nextBookingId: number;

  constructor(
    private readonly events: EventPublisher,
    private readonly log: SimLog = () => undefined,
    /** Tests sharing one mapping table give each simulator its own range, as real bookingIds never repeat. */
    private readonly firstBookingId = FIRST_BOOKING_ID,
    private readonly awkward = new AwkwardSwitches(),
  ) {
    this.nextBookingId = firstBookingId;
  }

  reset(): void {
    this.prisoners.clear();
    this.bookingOwners.clear();
    this.nextBookingId = this.firstBookingId;
  }

  // ---- reads ----

  prisonerNumbers(): string[] {
    return [...this.prisoners.keys()].sort();
  }

  /** The real API's page of active prisoners, by current bookingId; a prisoner with no current booking is out. */
  activePrisonerIds(query: { page: number; size: number; prisonId?: string }) {
    const all = [...this.prisoners.values()]
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
    return this.toView(this.prisoner(offenderNo));
  }

  dump(): NomisPrisonerView[] {
    return this.prisonerNumbers().map((offenderNo) => this.view(offenderNo));
  }

  toMigrate(offenderNo: string): NomisAlertsToMigrate {
    const prisoner = this.prisoners.get(offenderNo);
    if (!prisoner || prisoner.currentBookingId === null) throw notFound(`Prisoner ${offenderNo} with a booking`);
    const [current, ...previous] = this.toView(prisoner).bookings;
    return {
      latestBookingAlerts: current?.alerts ?? [],
      previousBookingsAlerts: previous.flatMap((booking) => booking.alerts),
    };
  }

  getAlert(bookingId: number, alertSequence: number): NomisAlert {
    const { booking, prisoner } = this.booking(bookingId);
    const alert = booking.alerts.get(alertSequence);
    if (!alert) throw notFound(`Alert ${alertSequence} on booking ${bookingId}`);
    return this.alertView(prisoner, booking, alert);
  }

  // ---- alert writes (API and NOMIS users) ----

  createAlert(offenderNo: string, input: AlertInput, actor: Actor): NomisAlert {
    const prisoner = this.prisoner(offenderNo);
    const booking = this.currentBooking(prisoner);
    requireAlertCode(input.alertCode);
    const duplicate = [...booking.alerts.values()].find((a) => a.isActive && a.alertCode === input.alertCode);
    // Only an active newcomer clashes: NOMIS keeps any number of inactive (historical) alerts of a code.
    if (duplicate && input.isActive) {
      throw conflict(
        `Alert code ${input.alertCode} is already active on booking ${booking.bookingId} (alertSequence ${duplicate.alertSequence})`,
      );
    }
    const alert = this.addRecord(booking, input, actor);
    this.publishAlertEvent('ALERT-INSERTED', prisoner, booking, alert, actor.module);
    return this.alertView(prisoner, booking, alert);
  }

  /**
   * The DPS-driven resync: every alert on the current booking is replaced by these, which take sequences after
   * the booking's old highest (never reused), so an in-flight event for an old sequence cannot match a new alert.
   */
  resynchroniseAlerts(offenderNo: string, alerts: Array<{ input: AlertInput; actor: Actor }>): NomisAlert[] {
    const prisoner = this.prisoner(offenderNo);
    const booking = this.currentBooking(prisoner);
    const active = new Set<string>();
    for (const [i, { input }] of alerts.entries()) {
      requireAlertCode(input.alertCode, `[${i}].alertCode`);
      if (!input.isActive) continue;
      if (active.has(input.alertCode)) throw badRequest(`[${i}].alertCode: ${input.alertCode} is active twice`);
      active.add(input.alertCode);
    }
    for (const old of [...booking.alerts.values()]) {
      booking.alerts.delete(old.alertSequence);
      this.publishAlertEvent('ALERT-DELETED', prisoner, booking, old, SYNC_AUDIT_MODULE);
    }
    return alerts.map(({ input, actor }) => {
      const alert = this.addRecord(booking, input, actor, { reuse: false });
      this.publishAlertEvent('ALERT-INSERTED', prisoner, booking, alert, actor.module);
      return this.alertView(prisoner, booking, alert);
    });
  }

  updateAlert(
    bookingId: number,
    alertSequence: number,
    changes: Partial<Omit<AlertInput, 'alertCode'>>,
    actor: Actor,
  ): NomisAlert {
    const { booking, prisoner } = this.booking(bookingId);
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
    this.publishAlertEvent('ALERT-UPDATED', prisoner, booking, alert, actor.module);
    return this.alertView(prisoner, booking, alert);
  }

  /** Returns false when the alert was already gone. */
  deleteAlert(bookingId: number, alertSequence: number, actor: Actor): boolean {
    const owner = this.bookingOwners.get(bookingId);
    const prisoner = owner === undefined ? undefined : this.prisoners.get(owner);
    const booking = prisoner?.bookings.get(bookingId);
    const alert = booking?.alerts.get(alertSequence);
    if (!prisoner || !booking || !alert) return false;
    booking.alerts.delete(alertSequence);
    this.publishAlertEvent('ALERT-DELETED', prisoner, booking, alert, actor.module);
    return true;
  }

  // ---- prisoner-level operations ----

  createPrisoner(request: z.output<typeof createPrisonerRequestSchema>): NomisPrisonerView {
    if (this.prisoners.has(request.offenderNo)) throw conflict(`Prisoner ${request.offenderNo} already exists`);
    const allAlerts = [...(request.previousBookings ?? []).flatMap((b) => b.alerts ?? []), ...(request.alerts ?? [])];
    allAlerts.forEach((alert, i) => requireAlertCode(alert.alertCode, `alerts[${i}].alertCode`));
    const prisoner: Prisoner = { offenderNo: request.offenderNo, bookings: new Map(), currentBookingId: null };
    this.prisoners.set(prisoner.offenderNo, prisoner);
    const prisonId = request.prisonId ?? DEFAULT_PRISON;
    for (const previous of request.previousBookings ?? []) {
      const booking = this.addBooking(prisoner, prisonId);
      for (const alert of previous.alerts ?? []) this.addRecord(booking, seedInput(alert), seedActor(alert));
    }
    const current = this.addBooking(prisoner, prisonId);
    for (const alert of request.alerts ?? []) this.addRecord(current, seedInput(alert), seedActor(alert));
    prisoner.currentBookingId = current.bookingId;
    this.log('nomis', `created prisoner ${prisoner.offenderNo} with booking ${current.bookingId}`);
    return this.toView(prisoner);
  }

  /** A new admission: NOMIS opens a booking and carries the active alerts over from the last one. */
  newBooking(offenderNo: string, prisonId = DEFAULT_PRISON): NewBookingResult {
    const prisoner = this.prisoner(offenderNo);
    const previous = prisoner.currentBookingId === null ? undefined : prisoner.bookings.get(prisoner.currentBookingId);
    const booking = this.addBooking(prisoner, prisonId);
    const copied = [...(previous?.alerts.values() ?? [])]
      .filter((alert) => alert.isActive)
      .map((alert) => this.copyRecord(booking, alert, ADMISSION_MODULE));
    prisoner.currentBookingId = booking.bookingId;
    this.events.publish(
      'domainEvents',
      offenderNo,
      domainEvent(
        'prisoner-offender-search.prisoner.received',
        offenderNo,
        'A prisoner has been received into prison',
        {
          nomsNumber: offenderNo,
          reason: 'NEW_ADMISSION',
          prisonId,
        },
      ),
    );
    this.log('nomis', `new booking ${booking.bookingId} for ${offenderNo} (copied ${copied.length} active alert(s))`);
    return {
      offenderNo,
      bookingId: booking.bookingId,
      previousBookingId: previous?.bookingId ?? null,
      copiedAlerts: copied.map((alert) => this.alertView(prisoner, booking, alert)),
      prisoner: this.toView(prisoner),
    };
  }

  /** Recall correction: the prisoner is received back onto an earlier booking, whose alerts become current again. */
  receiveOntoPreviousBooking(offenderNo: string, bookingId?: number, prisonId = DEFAULT_PRISON): ReceivePreviousResult {
    const prisoner = this.prisoner(offenderNo);
    const previousIds = [...prisoner.bookings.keys()].filter((id) => id !== prisoner.currentBookingId);
    const target = bookingId ?? Math.max(...previousIds);
    if (previousIds.length === 0) throw badRequest(`Prisoner ${offenderNo} has no previous booking`);
    if (!prisoner.bookings.has(target)) throw notFound(`Booking ${target} of prisoner ${offenderNo}`);
    if (target === prisoner.currentBookingId) throw badRequest(`bookingId: ${target} is already the current booking`);
    const previousCurrentBookingId = prisoner.currentBookingId;
    prisoner.currentBookingId = target;
    this.events.publish(
      'domainEvents',
      offenderNo,
      domainEvent(
        'prisoner-offender-search.prisoner.received',
        offenderNo,
        'A prisoner has been received into prison',
        {
          nomsNumber: offenderNo,
          reason: 'READMISSION_SWITCH_BOOKING',
          prisonId,
        },
      ),
    );
    this.log('nomis', `received ${offenderNo} onto previous booking ${target} (was ${previousCurrentBookingId})`);
    return { offenderNo, bookingId: target, previousCurrentBookingId, prisoner: this.toView(prisoner) };
  }

  moveBooking(bookingId: number, toOffenderNo: string, fromOffenderNo?: string): MoveBookingResult {
    const { prisoner: from, booking } = this.booking(bookingId);
    if (fromOffenderNo !== undefined && fromOffenderNo !== from.offenderNo) {
      throw conflict(`Booking ${bookingId} belongs to ${from.offenderNo}, not ${fromOffenderNo}`);
    }
    if (toOffenderNo === from.offenderNo) throw badRequest(`toOffenderNo: booking ${bookingId} is already on it`);
    let to = this.prisoners.get(toOffenderNo);
    if (!to) {
      to = { offenderNo: toOffenderNo, bookings: new Map(), currentBookingId: null };
      this.prisoners.set(toOffenderNo, to);
    }
    from.bookings.delete(bookingId);
    if (from.currentBookingId === bookingId) {
      const remaining = [...from.bookings.keys()];
      from.currentBookingId = remaining.length ? Math.max(...remaining) : null;
    }
    to.bookings.set(bookingId, booking);
    this.bookingOwners.set(bookingId, toOffenderNo);
    if (to.currentBookingId === null || bookingId > to.currentBookingId) to.currentBookingId = bookingId;
    this.events.publish(
      'domainEvents',
      toOffenderNo,
      domainEvent(
        'prison-offender-events.prisoner.booking.moved',
        toOffenderNo,
        'A NOMIS booking has moved between prisoners',
        { bookingId, movedFromNomsNumber: from.offenderNo, movedToNomsNumber: toOffenderNo },
      ),
    );
    this.log('nomis', `moved booking ${bookingId} from ${from.offenderNo} to ${toOffenderNo}`);
    return { bookingId, from: this.toView(from), to: this.toView(to) };
  }

  merge(retainedOffenderNo: string, removedOffenderNo: string): MergeResult {
    if (retainedOffenderNo === removedOffenderNo) throw badRequest('removedOffenderNo: must differ from the retained');
    const retained = this.prisoner(retainedOffenderNo);
    const removed = this.prisoner(removedOffenderNo);
    const removedCurrent =
      removed.currentBookingId === null ? undefined : removed.bookings.get(removed.currentBookingId);
    for (const [bookingId, booking] of removed.bookings) {
      retained.bookings.set(bookingId, booking);
      this.bookingOwners.set(bookingId, retainedOffenderNo);
    }
    this.prisoners.delete(removedOffenderNo);
    const copied: NomisAlert[] = [];
    if (retained.currentBookingId === null) {
      // Nothing to copy onto: the removed prisoner's current booking simply becomes the retained one's.
      retained.currentBookingId = removedCurrent?.bookingId ?? null;
    } else if (removedCurrent) {
      const target = this.currentBooking(retained);
      const activeCodes = new Set([...target.alerts.values()].filter((a) => a.isActive).map((a) => a.alertCode));
      for (const alert of removedCurrent.alerts.values()) {
        if (!alert.isActive || activeCodes.has(alert.alertCode)) continue;
        activeCodes.add(alert.alertCode);
        copied.push(this.alertView(retained, target, this.copyRecord(target, alert, MERGE_MODULE)));
      }
    }
    this.events.publish(
      'domainEvents',
      retainedOffenderNo,
      domainEvent('prison-offender-events.prisoner.merged', retainedOffenderNo, 'A prisoner has been merged', {
        nomsNumber: retainedOffenderNo,
        removedNomsNumber: removedOffenderNo,
        // Omitted rather than null when neither record has a booking: consumers treat it as optional.
        ...(retained.currentBookingId === null ? {} : { bookingId: retained.currentBookingId }),
        reason: 'MERGE',
      }),
    );
    this.log('nomis', `merged ${removedOffenderNo} into ${retainedOffenderNo} (copied ${copied.length} alert(s))`);
    return {
      retainedOffenderNo,
      removedOffenderNo,
      bookingId: retained.currentBookingId,
      copiedAlerts: copied,
      retained: this.toView(retained),
    };
  }

  // ---- internals ----

  private prisoner(offenderNo: string): Prisoner {
    const prisoner = this.prisoners.get(offenderNo);
    if (!prisoner) throw notFound(`Prisoner ${offenderNo}`);
    return prisoner;
  }

  private currentBooking(prisoner: Prisoner): Booking {
    const booking = prisoner.currentBookingId === null ? undefined : prisoner.bookings.get(prisoner.currentBookingId);
    if (!booking) throw notFound(`Current booking of prisoner ${prisoner.offenderNo}`);
    return booking;
  }

  private booking(bookingId: number): { prisoner: Prisoner; booking: Booking } {
    const owner = this.bookingOwners.get(bookingId);
    const prisoner = owner === undefined ? undefined : this.prisoners.get(owner);
    const booking = prisoner?.bookings.get(bookingId);
    if (!prisoner || !booking) throw notFound(`Booking ${bookingId}`);
    return { prisoner, booking };
  }

  private addBooking(prisoner: Prisoner, prisonId: string): Booking {
    const booking: Booking = { bookingId: this.nextBookingId++, prisonId, alerts: new Map(), nextAlertSequence: 1 };
    prisoner.bookings.set(booking.bookingId, booking);
    this.bookingOwners.set(booking.bookingId, prisoner.offenderNo);
    return booking;
  }

  private addRecord(booking: Booking, input: AlertInput, actor: Actor, options = { reuse: true }): AlertRecord {
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

  private copyRecord(booking: Booking, alert: AlertRecord, module: string): AlertRecord {
    return this.addRecord(booking, alert, { username: alert.audit.createUsername, module });
  }

  /** bookingSequence 1 is the current booking; the others follow newest first (bookingIds only grow). */
  private orderedBookings(prisoner: Prisoner): Booking[] {
    return [...prisoner.bookings.values()].sort((a, b) => {
      if (a.bookingId === prisoner.currentBookingId) return -1;
      if (b.bookingId === prisoner.currentBookingId) return 1;
      return b.bookingId - a.bookingId;
    });
  }

  private toView(prisoner: Prisoner): NomisPrisonerView {
    return {
      offenderNo: prisoner.offenderNo,
      currentBookingId: prisoner.currentBookingId,
      bookings: this.orderedBookings(prisoner).map((booking, i) => ({
        bookingId: booking.bookingId,
        bookingSequence: i + 1,
        isCurrent: booking.bookingId === prisoner.currentBookingId,
        prisonId: booking.prisonId,
        alerts: [...booking.alerts.values()].map((alert) => this.alertView(prisoner, booking, alert, i + 1)),
      })),
    };
  }

  private alertView(prisoner: Prisoner, booking: Booking, alert: AlertRecord, bookingSequence?: number): NomisAlert {
    const code = requireAlertCode(alert.alertCode);
    return {
      bookingId: booking.bookingId,
      bookingSequence: bookingSequence ?? this.orderedBookings(prisoner).indexOf(booking) + 1,
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

  private publishAlertEvent(
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
}

function seedInput(alert: z.output<typeof seedAlertSchema>): AlertInput {
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

function seedActor(alert: z.output<typeof seedAlertSchema>): Actor {
  return { username: alert.createUsername ?? 'NOMIS_USER', module: NOMIS_USER_MODULE };
}

// ---- routes ----

/** A create request of the sync's (one alert, or one of a resynchronise): the alert, and who wrote it. */
function syncWrite(alert: z.output<typeof createNomisAlertRequestSchema>): { input: AlertInput; actor: Actor } {
  return {
    input: {
      alertCode: alert.alertCode,
      date: alert.date,
      isActive: alert.isActive,
      expiryDate: alert.expiryDate ?? null,
      comment: alert.comment ?? null,
      authorisedBy: alert.authorisedBy ?? null,
    },
    actor: { username: alert.createUsername, module: SYNC_AUDIT_MODULE },
  };
}

/** What NOMIS answers for each alert the sync created. */
function createdResponse(alert: NomisAlert): CreateNomisAlertResponse {
  return {
    bookingId: alert.bookingId,
    alertSequence: alert.alertSequence,
    alertCode: alert.alertCode,
    type: alert.type,
  };
}

export function nomisApiRoutes(nomis: NomisState): Route[] {
  const api = { api: 'nomis' as const, role: NOMIS_ROLE };
  return [
    {
      ...api,
      method: 'GET',
      pattern: '/prisoners/ids/active',
      handler: (request) =>
        json(200, nomis.activePrisonerIds(validate(pageQuerySchema, Object.fromEntries(request.query)))),
    },
    {
      ...api,
      method: 'GET',
      pattern: '/prisoners/:offenderNo/alerts/to-migrate',
      handler: (request) => json(200, nomis.toMigrate(param(request, 'offenderNo'))),
    },
    {
      ...api,
      method: 'GET',
      pattern: '/prisoners/booking-id/:bookingId/alerts/:alertSequence',
      handler: (request) =>
        json(200, nomis.getAlert(intParam(request, 'bookingId'), intParam(request, 'alertSequence'))),
    },
    {
      ...api,
      method: 'POST',
      pattern: '/prisoners/:offenderNo/alerts',
      handler: (request) => {
        const { input, actor } = syncWrite(body(request, createNomisAlertRequestSchema));
        return json(201, createdResponse(nomis.createAlert(param(request, 'offenderNo'), input, actor)));
      },
    },
    {
      ...api,
      method: 'POST',
      pattern: '/prisoners/:offenderNo/alerts/resynchronise',
      handler: (request) => {
        const alerts = body(request, resynchroniseNomisAlertsRequestSchema);
        const created = nomis.resynchroniseAlerts(param(request, 'offenderNo'), alerts.map(syncWrite));
        const response: ResynchroniseNomisAlertsResponse = created.map(createdResponse);
        return json(201, response);
      },
    },
    {
      ...api,
      method: 'PUT',
      pattern: '/prisoners/booking-id/:bookingId/alerts/:alertSequence',
      handler: (request) => {
        const bookingId = intParam(request, 'bookingId');
        const alertSequence = intParam(request, 'alertSequence');
        const alert = body(request, updateNomisAlertRequestSchema);
        // A PUT replaces: an optional field left out is cleared, so NOMIS ends up exactly as the caller sent it.
        const updated = nomis.updateAlert(
          bookingId,
          alertSequence,
          {
            date: alert.date,
            isActive: alert.isActive,
            expiryDate: alert.expiryDate ?? null,
            comment: alert.comment ?? null,
            authorisedBy: alert.authorisedBy ?? null,
          },
          { username: alert.updateUsername, module: SYNC_AUDIT_MODULE },
        );
        return json(200, updated);
      },
    },
    {
      ...api,
      method: 'DELETE',
      pattern: '/prisoners/booking-id/:bookingId/alerts/:alertSequence',
      handler: (request) => {
        nomis.deleteAlert(intParam(request, 'bookingId'), intParam(request, 'alertSequence'), {
          username: 'DPS_SYNC',
          module: SYNC_AUDIT_MODULE,
        });
        return noContent();
      },
    },
  ];
}

/** NOMIS users' and NOMIS staff's actions, driven by tests and the CLI. No token, never faulted. */
export function nomisControlRoutes(nomis: NomisState, log: SimLog = () => undefined): Route[] {
  return [
    {
      method: 'POST',
      pattern: '/__sim/nomis/prisoners',
      handler: (request) => json(201, nomis.createPrisoner(body(request, createPrisonerRequestSchema))),
    },
    {
      method: 'GET',
      pattern: '/__sim/nomis/prisoners/:offenderNo',
      handler: (request) => json(200, nomis.view(param(request, 'offenderNo'))),
    },
    {
      method: 'POST',
      pattern: '/__sim/nomis/prisoners/:offenderNo/alerts',
      handler: (request) => {
        const alert = body(request, nomisUserAlertRequestSchema);
        const created = nomis.createAlert(param(request, 'offenderNo'), seedInput(alert), seedActor(alert));
        log('nomis', `NOMIS user added ${created.alertCode.code} ${created.bookingId}/${created.alertSequence}`);
        return json(201, created);
      },
    },
    {
      method: 'PUT',
      pattern: '/__sim/nomis/bookings/:bookingId/alerts/:alertSequence',
      handler: (request) => {
        const { username, ...changes } = body(request, nomisUserAlertUpdateSchema);
        const updated = nomis.updateAlert(intParam(request, 'bookingId'), intParam(request, 'alertSequence'), changes, {
          username: username ?? 'NOMIS_USER',
          module: NOMIS_USER_MODULE,
        });
        log('nomis', `NOMIS user updated ${updated.alertCode.code} ${updated.bookingId}/${updated.alertSequence}`);
        return json(200, updated);
      },
    },
    {
      method: 'DELETE',
      pattern: '/__sim/nomis/bookings/:bookingId/alerts/:alertSequence',
      handler: (request) => {
        const bookingId = intParam(request, 'bookingId');
        const alertSequence = intParam(request, 'alertSequence');
        // Unlike the API, an operator deleting a missing alert has probably typed the wrong numbers: say so.
        if (!nomis.deleteAlert(bookingId, alertSequence, { username: 'NOMIS_USER', module: NOMIS_USER_MODULE })) {
          throw notFound(`Alert ${alertSequence} on booking ${bookingId}`);
        }
        log('nomis', `NOMIS user deleted alert ${bookingId}/${alertSequence}`);
        return noContent();
      },
    },
    {
      method: 'POST',
      pattern: '/__sim/nomis/prisoners/:offenderNo/bookings',
      handler: (request) => {
        const { prisonId } = body(request, newBookingRequestSchema);
        return json(201, nomis.newBooking(param(request, 'offenderNo'), prisonId));
      },
    },
    {
      method: 'POST',
      pattern: '/__sim/nomis/prisoners/:offenderNo/receive-previous',
      handler: (request) => {
        const { bookingId, prisonId } = body(request, receivePreviousRequestSchema);
        return json(200, nomis.receiveOntoPreviousBooking(param(request, 'offenderNo'), bookingId, prisonId));
      },
    },
    {
      method: 'POST',
      pattern: '/__sim/nomis/bookings/:bookingId/move',
      handler: (request) => {
        const { toOffenderNo, fromOffenderNo } = body(request, moveBookingRequestSchema);
        return json(200, nomis.moveBooking(intParam(request, 'bookingId'), toOffenderNo, fromOffenderNo));
      },
    },
    {
      method: 'POST',
      pattern: '/__sim/nomis/merge',
      handler: (request) => {
        const { retainedOffenderNo, removedOffenderNo } = body(request, mergeRequestSchema);
        return json(200, nomis.merge(retainedOffenderNo, removedOffenderNo));
      },
    },
  ];
}

const pageQuerySchema = z.object({
  page: z.coerce.number().int().min(0).default(0),
  size: z.coerce.number().int().min(1).max(10_000).default(20),
  prisonId: z.string().min(1).optional(),
});
