import { z } from 'zod';

// The shapes of ../shared/contract.md as zod schemas: the orchestrator parses every event and HTTP response
// with these, and the simulators validate every request with them. Unknown fields are allowed and ignored
// (zod's default `strip`), as the contract requires. Pure: workflows may import the types.

const localDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD');
const localDateTime = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/, 'must be a date-time');
export const prisonNumber = z.string().regex(/^[A-Z]\d{4}[A-Z]{2}$/, 'must be a prison number like A1234BC');
const positiveInt = z.number().int().positive();
const codeDescription = z.object({ code: z.string().min(1), description: z.string() });

// ---- §3 NOMIS Prisoner API ----

export const nomisAlertSchema = z.object({
  bookingId: positiveInt,
  bookingSequence: positiveInt,
  alertSequence: positiveInt,
  alertCode: codeDescription,
  type: codeDescription,
  date: localDate,
  expiryDate: localDate.nullish(),
  isActive: z.boolean(),
  isVerified: z.boolean().optional(),
  comment: z.string().nullish(),
  authorisedBy: z.string().nullish(),
  audit: z.object({
    createUsername: z.string(),
    createDatetime: localDateTime,
    modifyUserId: z.string().nullish(),
    modifyDatetime: localDateTime.nullish(),
    auditModuleName: z.string().nullish(),
  }),
});
export type NomisAlert = z.infer<typeof nomisAlertSchema>;

export const nomisAlertsToMigrateSchema = z.object({
  latestBookingAlerts: z.array(nomisAlertSchema),
  previousBookingsAlerts: z.array(nomisAlertSchema),
});
export type NomisAlertsToMigrate = z.infer<typeof nomisAlertsToMigrateSchema>;

/**
 * Beyond contract §3, which has no listing: the NOMIS Prisoner API's paged `GET /prisoners/ids/active` (a
 * Spring page of `{ bookingId, offenderNo }` by current booking). `prisonId` narrows it to one prison — the real
 * service answers that from prisoner search; the simulator filters its own bookings.
 */
export const activePrisonerIdsPageSchema = z.object({
  content: z.array(z.object({ bookingId: positiveInt, offenderNo: prisonNumber })),
  totalElements: z.number().int().min(0),
  totalPages: z.number().int().min(0),
  number: z.number().int().min(0),
  size: z.number().int().min(1),
});
export type ActivePrisonerIdsPage = z.infer<typeof activePrisonerIdsPageSchema>;

export const createNomisAlertRequestSchema = z.object({
  alertCode: z.string().min(1),
  date: localDate,
  isActive: z.boolean(),
  expiryDate: localDate.nullish(),
  comment: z.string().nullish(),
  authorisedBy: z.string().nullish(),
  createUsername: z.string().min(1),
});
export type CreateNomisAlertRequest = z.infer<typeof createNomisAlertRequestSchema>;

export const createNomisAlertResponseSchema = z.object({
  bookingId: positiveInt,
  alertSequence: positiveInt,
  alertCode: codeDescription,
  type: codeDescription,
});
export type CreateNomisAlertResponse = z.infer<typeof createNomisAlertResponseSchema>;

/** The DPS-driven resync (ADR004's future): replaces every alert on the prisoner's current booking. */
export const resynchroniseNomisAlertsRequestSchema = z.array(createNomisAlertRequestSchema);
export type ResynchroniseNomisAlertsRequest = z.infer<typeof resynchroniseNomisAlertsRequestSchema>;

/** In request order, on the current booking. */
export const resynchroniseNomisAlertsResponseSchema = z.array(createNomisAlertResponseSchema);
export type ResynchroniseNomisAlertsResponse = z.infer<typeof resynchroniseNomisAlertsResponseSchema>;

/** The create request's fields but the code (a new code is a new alert), and who updated it. */
export const updateNomisAlertRequestSchema = createNomisAlertRequestSchema
  .omit({ alertCode: true, createUsername: true })
  .extend({ updateUsername: z.string().min(1) });
export type UpdateNomisAlertRequest = z.infer<typeof updateNomisAlertRequestSchema>;

// ---- §4 DPS Alerts API ----

export const dpsAlertSchema = z.object({
  alertUuid: z.string().uuid(),
  prisonNumber,
  alertCode: codeDescription,
  description: z.string().nullish(),
  authorisedBy: z.string().nullish(),
  activeFrom: localDate,
  activeTo: localDate.nullish(),
  isActive: z.boolean(),
  createdAt: localDateTime,
  createdBy: z.string(),
  createdByDisplayName: z.string(),
  lastModifiedAt: localDateTime.nullish(),
  lastModifiedBy: z.string().nullish(),
  lastModifiedByDisplayName: z.string().nullish(),
});
export type DpsAlert = z.infer<typeof dpsAlertSchema>;

export const resyncAlertSchema = z.object({
  offenderBookId: positiveInt,
  alertSeq: positiveInt,
  alertCode: z.string().min(1),
  description: z.string().nullish(),
  authorisedBy: z.string().nullish(),
  activeFrom: localDate,
  activeTo: localDate.nullish(),
  isActive: z.boolean(),
  createdAt: localDateTime,
  createdBy: z.string().min(1),
  createdByDisplayName: z.string().min(1),
  lastModifiedAt: localDateTime.nullish(),
  lastModifiedBy: z.string().nullish(),
  lastModifiedByDisplayName: z.string().nullish(),
});
export type ResyncAlert = z.infer<typeof resyncAlertSchema>;

export const resyncResponseSchema = z.array(
  z.object({ offenderBookId: positiveInt, alertSeq: positiveInt, alertUuid: z.string().uuid() }),
);
export type ResyncResponse = z.infer<typeof resyncResponseSchema>;

export const createDpsAlertRequestSchema = z.object({
  alertCode: z.string().min(1),
  description: z.string().nullish(),
  authorisedBy: z.string().nullish(),
  activeFrom: localDate,
  activeTo: localDate.nullish(),
  /**
   * Beyond contract §4's listed fields ("anything not listed may be present"): NOMIS can hold an alert inactive
   * with no expiry date, which dates alone cannot say, so the sync sends NOMIS's flag as the resync does.
   */
  isActive: z.boolean().optional(),
  createdAt: localDateTime,
  createdBy: z.string().min(1),
  createdByDisplayName: z.string().min(1),
});
export type CreateDpsAlertRequest = z.infer<typeof createDpsAlertRequestSchema>;

/** Not spelled out by the contract; these are the fields a NOMIS update can change. */
export const updateDpsAlertRequestSchema = z.object({
  description: z.string().nullish(),
  authorisedBy: z.string().nullish(),
  activeFrom: localDate,
  activeTo: localDate.nullish(),
  /** As on create: NOMIS's active flag, which its dates alone cannot carry. */
  isActive: z.boolean().optional(),
  updatedAt: localDateTime.optional(),
  updatedBy: z.string().optional(),
  updatedByDisplayName: z.string().optional(),
});
export type UpdateDpsAlertRequest = z.infer<typeof updateDpsAlertRequestSchema>;

export const DPS_SYNC_SOURCE_HEADER = 'Source';
export const DPS_SYNC_SOURCE_VALUE = 'NOMIS';
export { SYNC_AUDIT_MODULE } from './sync-audit';

// ---- §2 HMPPS Auth ----

export const tokenResponseSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string(),
  expires_in: z.number().positive(),
});

// ---- §1 Kafka events ----

export const nomisAlertEventTypes = ['ALERT-INSERTED', 'ALERT-UPDATED', 'ALERT-DELETED'] as const;
export const nomisAlertEventSchema = z.object({
  eventType: z.enum(nomisAlertEventTypes),
  eventDatetime: localDateTime,
  offenderIdDisplay: prisonNumber,
  bookingId: positiveInt,
  alertSeq: positiveInt,
  alertType: z.string().optional(),
  alertCode: z.string().optional(),
  auditModuleName: z.string().nullish(),
});

export const DOMAIN_EVENT = {
  merged: 'prison-offender-events.prisoner.merged',
  bookingMoved: 'prison-offender-events.prisoner.booking.moved',
  received: 'prisoner-offender-search.prisoner.received',
  alertCreated: 'person.alert.created',
  alertUpdated: 'person.alert.updated',
  alertDeleted: 'person.alert.deleted',
} as const;

const personReference = z.object({
  identifiers: z.array(z.object({ type: z.string(), value: z.string() })),
});

const envelope = <T extends z.ZodTypeAny>(eventType: string, additionalInformation: T) =>
  z.object({
    eventType: z.literal(eventType),
    version: z.union([z.number(), z.string()]).optional(),
    occurredAt: z.string().min(1),
    description: z.string().nullish(),
    additionalInformation,
    personReference: personReference.optional(),
  });

export const prisonerMergedEventSchema = envelope(
  DOMAIN_EVENT.merged,
  z.object({
    nomsNumber: prisonNumber,
    removedNomsNumber: prisonNumber,
    bookingId: z.union([positiveInt, z.string().regex(/^\d+$/).transform(Number)]).optional(),
    reason: z.literal('MERGE'),
  }),
);
export const bookingMovedEventSchema = envelope(
  DOMAIN_EVENT.bookingMoved,
  z.object({
    bookingId: z.union([positiveInt, z.string().regex(/^\d+$/).transform(Number)]),
    movedFromNomsNumber: prisonNumber,
    movedToNomsNumber: prisonNumber,
  }),
);
export const prisonerReceivedEventSchema = envelope(
  DOMAIN_EVENT.received,
  z.object({ nomsNumber: prisonNumber, reason: z.string().min(1), prisonId: z.string().optional() }),
);
export const dpsAlertEventSchema = z.object({
  eventType: z.enum([DOMAIN_EVENT.alertCreated, DOMAIN_EVENT.alertUpdated, DOMAIN_EVENT.alertDeleted]),
  version: z.union([z.number(), z.string()]).optional(),
  occurredAt: z.string().min(1),
  description: z.string().nullish(),
  additionalInformation: z.object({
    alertUuid: z.string().uuid(),
    alertCode: z.string().min(1),
    source: z.enum(['DPS', 'NOMIS', 'MIGRATION', 'RESYNC']),
  }),
  personReference,
});

/** `received` reasons that trigger a resync (the real service's rule, plus READMISSION: harmless, idempotent). */
export const RESYNC_RECEIVED_REASONS = ['NEW_ADMISSION', 'READMISSION', 'READMISSION_SWITCH_BOOKING'] as const;

/** Turns zod issues into one line that names each bad field. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}
