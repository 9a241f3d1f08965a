import type { DpsAlert, NomisAlert, ResyncAlert } from './contract';
import { SYNC_AUDIT_MODULE } from './sync-audit';

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

/**
 * Whether a NOMIS alert was last written by this sync, by its own audit (contract §1.1): the authority when the
 * event that told of the change did not carry `auditModuleName`.
 */
export function lastWrittenBySync(alert: NomisAlert): boolean {
  return alert.audit.auditModuleName?.startsWith(SYNC_AUDIT_MODULE) ?? false;
}

/**
 * Whether a DPS alert is the copy of this NOMIS alert, as far as the two can tell: NOMIS reuses a deleted
 * highest sequence, so the NOMIS alert under a mapped key may be a newer, different one.
 */
export function sameAlert(nomis: NomisAlert, dps: DpsAlert): boolean {
  return nomis.alertCode.code === dps.alertCode.code && nomis.date === dps.activeFrom;
}
