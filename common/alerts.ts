import type { DpsAlert, NomisAlert } from './contract';
import { SYNC_AUDIT_MODULE } from './sync-audit';

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
