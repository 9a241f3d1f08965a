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
 * A DPS alert as DPS's resync endpoint takes it, under the NOMIS ids it was just given (the DPS-driven merge, which
 * gives the retained prisoner the removed one's alerts in DPS too). Pure: used inside workflows.
 */
export function dpsAlertAsResyncAlert(
  alert: DpsAlert,
  nomis: { bookingId: number; alertSequence: number },
): ResyncAlert {
  return {
    offenderBookId: nomis.bookingId,
    alertSeq: nomis.alertSequence,
    alertCode: alert.alertCode.code,
    description: alert.description ?? null,
    authorisedBy: alert.authorisedBy ?? null,
    activeFrom: alert.activeFrom,
    activeTo: alert.activeTo ?? null,
    isActive: alert.isActive,
    createdAt: alert.createdAt,
    createdBy: alert.createdBy,
    createdByDisplayName: alert.createdByDisplayName,
    lastModifiedAt: alert.lastModifiedAt ?? null,
    lastModifiedBy: alert.lastModifiedBy ?? null,
    lastModifiedByDisplayName: alert.lastModifiedByDisplayName ?? null,
  };
}

/**
 * A merge from DPS (ADR004's future): the retained prisoner keeps every alert of theirs and gains each of the
 * removed prisoners' active alerts whose code is not already active on the retained (one per code). Pure.
 */
export function mergedDpsAlerts(retained: DpsAlert[], removed: DpsAlert[][]): DpsAlert[] {
  const merged = [...retained];
  const activeCodes = new Set(retained.filter((a) => a.isActive).map((a) => a.alertCode.code));
  for (const alert of removed.flat()) {
    if (!alert.isActive || activeCodes.has(alert.alertCode.code)) continue;
    activeCodes.add(alert.alertCode.code);
    merged.push(alert);
  }
  return merged;
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
