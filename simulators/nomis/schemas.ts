import { z } from 'zod';
import { nomisAlertSchema, prisonNumber } from '../../common/contract';

// The control API's bodies for NOMIS users and staff (staff-routes.ts): the requests the simulator validates
// and the views it answers with, which the control client parses in turn.

const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD');

// ---- requests ----

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

export const receivePreviousRequestSchema = z
  .object({ bookingId: z.number().int().positive().optional(), prisonId: z.string().min(1).optional() })
  .default({});

export const moveBookingRequestSchema = z.object({
  toOffenderNo: prisonNumber,
  /** When given, the booking must belong to this prisoner: guards a CLI typo from moving the wrong booking. */
  fromOffenderNo: prisonNumber.optional(),
});

export const mergeRequestSchema = z.object({ retainedOffenderNo: prisonNumber, removedOffenderNo: prisonNumber });

// ---- views ----

const bookingId = z.number().int().positive();

const nomisBookingViewSchema = z.object({
  bookingId,
  bookingSequence: z.number().int().positive(),
  isCurrent: z.boolean(),
  prisonId: z.string(),
  alerts: z.array(nomisAlertSchema),
});

export const nomisPrisonerViewSchema = z.object({
  offenderNo: z.string(),
  currentBookingId: bookingId.nullable(),
  bookings: z.array(nomisBookingViewSchema),
});
export type NomisPrisonerView = z.infer<typeof nomisPrisonerViewSchema>;

export const newBookingResultSchema = z.object({
  offenderNo: z.string(),
  bookingId,
  previousBookingId: bookingId.nullable(),
  copiedAlerts: z.array(nomisAlertSchema),
  prisoner: nomisPrisonerViewSchema,
});
export type NewBookingResult = z.infer<typeof newBookingResultSchema>;

export const receivePreviousResultSchema = z.object({
  offenderNo: z.string(),
  bookingId,
  previousCurrentBookingId: bookingId.nullable(),
  prisoner: nomisPrisonerViewSchema,
});
export type ReceivePreviousResult = z.infer<typeof receivePreviousResultSchema>;

export const moveBookingResultSchema = z.object({
  bookingId,
  from: nomisPrisonerViewSchema,
  to: nomisPrisonerViewSchema,
});
export type MoveBookingResult = z.infer<typeof moveBookingResultSchema>;

export const mergeResultSchema = z.object({
  retainedOffenderNo: z.string(),
  removedOffenderNo: z.string(),
  bookingId: bookingId.nullable(),
  copiedAlerts: z.array(nomisAlertSchema),
  retained: nomisPrisonerViewSchema,
});
export type MergeResult = z.infer<typeof mergeResultSchema>;
