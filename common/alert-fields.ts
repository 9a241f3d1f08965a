import type {
  CreateDpsAlertRequest,
  CreateNomisAlertRequest,
  DpsAlert,
  NomisAlert,
  ResyncAlert,
  UpdateDpsAlertRequest,
  UpdateNomisAlertRequest,
} from './contract';

// The one statement of how a NOMIS alert's fields and a DPS alert's correspond (contract §6): every request the
// sync writes on either side, and the invariant's comparison, are built from `nomisSyncedFields` and
// `dpsSyncedFields`. Pure: used inside workflows too.

/** The fields contract §6 keeps equal, under DPS's names, in the order the invariant reports them. */
export interface SyncedFields {
  alertCode: string;
  activeFrom: string;
  activeTo: string | null;
  isActive: boolean;
  description: string | null;
  authorisedBy: string | null;
}

export function nomisSyncedFields(alert: NomisAlert): SyncedFields {
  return {
    alertCode: alert.alertCode.code,
    activeFrom: alert.date,
    activeTo: alert.expiryDate ?? null,
    isActive: alert.isActive,
    description: alert.comment ?? null,
    authorisedBy: alert.authorisedBy ?? null,
  };
}

export function dpsSyncedFields(alert: DpsAlert): SyncedFields {
  return {
    alertCode: alert.alertCode.code,
    activeFrom: alert.activeFrom,
    activeTo: alert.activeTo ?? null,
    isActive: alert.isActive,
    description: alert.description ?? null,
    authorisedBy: alert.authorisedBy ?? null,
  };
}

/** The same fields under NOMIS's names, as its create and update requests take them. */
function asNomisFields(fields: SyncedFields) {
  return {
    date: fields.activeFrom,
    isActive: fields.isActive,
    expiryDate: fields.activeTo,
    comment: fields.description,
    authorisedBy: fields.authorisedBy,
  };
}

/**
 * An alert's code and dates as one string: how a resync's guards tell that the other side already holds an alert
 * like this one, whatever its text (a copy the sync made, or one a user made the same).
 */
export function codeAndDates(
  fields: Pick<SyncedFields, 'alertCode' | 'activeFrom'> & { activeTo?: string | null },
): string {
  return `${fields.alertCode}|${fields.activeFrom}|${fields.activeTo ?? ''}`;
}

/** The synced fields in which a NOMIS alert and its DPS copy differ: [field, NOMIS, DPS]. */
export function alertDifferences(nomis: NomisAlert, dps: DpsAlert): Array<[string, unknown, unknown]> {
  const a = nomisSyncedFields(nomis);
  const b = dpsSyncedFields(dps);
  return (Object.keys(a) as Array<keyof SyncedFields>).flatMap((field) =>
    a[field] === b[field] ? [] : [[field, a[field], b[field]] as [string, unknown, unknown]],
  );
}

/** NOMIS's creation audit as DPS records it; NOMIS holds no display names, the username is what its screens show. */
function createdFromNomis(alert: NomisAlert) {
  return {
    createdAt: alert.audit.createDatetime,
    createdBy: alert.audit.createUsername,
    createdByDisplayName: alert.audit.createUsername,
  };
}

/** A NOMIS alert as DPS's resync endpoint takes it (contract §3 -> §4). */
export function toResyncAlert(alert: NomisAlert): ResyncAlert {
  return {
    offenderBookId: alert.bookingId,
    alertSeq: alert.alertSequence,
    ...nomisSyncedFields(alert),
    ...createdFromNomis(alert),
    lastModifiedAt: alert.audit.modifyDatetime ?? null,
    lastModifiedBy: alert.audit.modifyUserId ?? null,
    lastModifiedByDisplayName: alert.audit.modifyUserId ?? null,
  };
}

/**
 * A DPS alert as DPS's resync endpoint takes it, under the NOMIS ids it was just given (the DPS-driven merge, which
 * gives the retained prisoner the removed one's alerts in DPS too).
 */
export function dpsAlertAsResyncAlert(
  alert: DpsAlert,
  nomis: { bookingId: number; alertSequence: number },
): ResyncAlert {
  return {
    offenderBookId: nomis.bookingId,
    alertSeq: nomis.alertSequence,
    ...dpsSyncedFields(alert),
    createdAt: alert.createdAt,
    createdBy: alert.createdBy,
    createdByDisplayName: alert.createdByDisplayName,
    lastModifiedAt: alert.lastModifiedAt ?? null,
    lastModifiedBy: alert.lastModifiedBy ?? null,
    lastModifiedByDisplayName: alert.lastModifiedByDisplayName ?? null,
  };
}

export function dpsCreateFromNomis(alert: NomisAlert): CreateDpsAlertRequest {
  return { ...nomisSyncedFields(alert), ...createdFromNomis(alert) };
}

export function dpsUpdateFromNomis(alert: NomisAlert): UpdateDpsAlertRequest {
  // DPS does not change an alert's code: a new code is a new alert.
  const { activeFrom, activeTo, isActive, description, authorisedBy } = nomisSyncedFields(alert);
  return {
    description,
    authorisedBy,
    activeFrom,
    activeTo,
    isActive,
    ...(alert.audit.modifyDatetime ? { updatedAt: alert.audit.modifyDatetime } : {}),
    ...(alert.audit.modifyUserId
      ? { updatedBy: alert.audit.modifyUserId, updatedByDisplayName: alert.audit.modifyUserId }
      : {}),
  };
}

export function nomisCreateFromDps(alert: DpsAlert): CreateNomisAlertRequest {
  const fields = dpsSyncedFields(alert);
  return { alertCode: fields.alertCode, ...asNomisFields(fields), createUsername: alert.createdBy };
}

export function nomisUpdateFromDps(alert: DpsAlert): UpdateNomisAlertRequest {
  return { ...asNomisFields(dpsSyncedFields(alert)), updateUsername: alert.lastModifiedBy ?? alert.createdBy };
}
