import type { NomisAlert, ResyncAlert } from './contract';

/** A NOMIS alert as DPS's resync endpoint takes it (contract §3 -> §4). Pure: used inside workflows. */
export function toResyncAlert(alert: NomisAlert): ResyncAlert {
  return {
    offenderBookId: alert.bookingId,
    alertSeq: alert.alertSequence,
    alertCode: alert.alertCode.code,
    description: alert.comment ?? null,
    authorisedBy: alert.authorisedBy ?? null,
    activeFrom: alert.date,
    activeTo: alert.expiryDate ?? null,
    isActive: alert.isActive,
    createdAt: alert.audit.createDatetime,
    createdBy: alert.audit.createUsername,
    // NOMIS holds no display names; the username is what its screens show.
    createdByDisplayName: alert.audit.createUsername,
    lastModifiedAt: alert.audit.modifyDatetime ?? null,
    lastModifiedBy: alert.audit.modifyUserId ?? null,
    lastModifiedByDisplayName: alert.audit.modifyUserId ?? null,
  };
}
