import type { DpsAlert, NomisAlert } from './contract';
import { alertDifferences } from './alert-fields';

/** A mapping row as the invariant needs it. */
export interface MappingPair {
  dpsAlertId: string;
  nomisBookingId: number;
  nomisAlertSequence: number;
}

/**
 * Contract §6 for one prisoner: DPS alerts equal the alerts on the current NOMIS booking (code, dates, active
 * flag, comment/description, authorisedBy) and there is exactly one mapping row per pair. Returns what is
 * wrong, in words; empty means the prisoner is in sync. Pure, so tests and reconciliation share it.
 */
export function findInvariantViolations(
  prisonNumber: string,
  nomisAlerts: NomisAlert[],
  dpsAlerts: DpsAlert[],
  mappings: MappingPair[],
): string[] {
  const problems: string[] = [];
  const dpsById = new Map(dpsAlerts.map((a) => [a.alertUuid, a]));
  const mappingByNomis = new Map(mappings.map((m) => [`${m.nomisBookingId}/${m.nomisAlertSequence}`, m]));
  const mappedDpsIds = new Set<string>();

  if (mappings.length !== mappingByNomis.size)
    problems.push(`${prisonNumber}: duplicate mapping rows for one NOMIS alert`);
  for (const nomis of nomisAlerts) {
    const key = `${nomis.bookingId}/${nomis.alertSequence}`;
    const mapping = mappingByNomis.get(key);
    if (!mapping) {
      problems.push(`${prisonNumber}: NOMIS alert ${key} (${nomis.alertCode.code}) has no mapping`);
      continue;
    }
    mappedDpsIds.add(mapping.dpsAlertId);
    const dps = dpsById.get(mapping.dpsAlertId);
    if (!dps) {
      problems.push(`${prisonNumber}: NOMIS alert ${key} maps to DPS ${mapping.dpsAlertId}, which does not exist`);
      continue;
    }
    for (const [field, a, b] of alertDifferences(nomis, dps)) {
      problems.push(
        `${prisonNumber}: ${field} differs for NOMIS ${key} / DPS ${dps.alertUuid}: ${String(a)} vs ${String(b)}`,
      );
    }
  }
  for (const dps of dpsAlerts) {
    if (!mappedDpsIds.has(dps.alertUuid)) {
      problems.push(
        `${prisonNumber}: DPS alert ${dps.alertUuid} (${dps.alertCode.code}) is not on the current NOMIS booking`,
      );
    }
  }
  const extraMappings = mappings.filter(
    (m) => !nomisAlerts.some((n) => n.bookingId === m.nomisBookingId && n.alertSequence === m.nomisAlertSequence),
  );
  for (const m of extraMappings) {
    problems.push(
      `${prisonNumber}: mapping ${m.nomisBookingId}/${m.nomisAlertSequence} -> ${m.dpsAlertId} has no NOMIS alert on the current booking`,
    );
  }
  return problems;
}
