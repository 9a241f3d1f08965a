// ADR002's and ADR004's switches, held in one place every worker and router reads live (adapters/live-switches.ts),
// changed by one operator command (clients/switches.ts). The environment's SYNC_* settings are only the values the
// first process to start writes when none are recorded yet.

/** Which system a resync copies from: NOMIS (today) or DPS (ADR004's future, where DPS drives and NOMIS follows). */
export type ResyncSource = 'NOMIS' | 'DPS';

export interface SyncSwitches {
  resyncSource: ResyncSource;
  /** Alert-level NOMIS -> DPS (off in ADR002's one-way end state). */
  nomisToDps: boolean;
  /** Alert-level DPS -> NOMIS. */
  dpsToNomis: boolean;
}

export interface RecordedSyncSwitches extends SyncSwitches {
  changedBy: string;
  changedAt: string;
  reason: string;
}

export const SWITCH_NAMES = {
  'resync-source': 'resyncSource',
  'nomis-to-dps': 'nomisToDps',
  'dps-to-nomis': 'dpsToNomis',
} as const satisfies Record<string, keyof SyncSwitches>;

/**
 * Operator assignments such as `resync-source=dps nomis-to-dps=off` into a change; throws naming the assignment
 * that is wrong, so a typo never flips something else.
 */
export function parseSwitchAssignments(assignments: string[]): Partial<SyncSwitches> {
  const change: Partial<SyncSwitches> = {};
  for (const assignment of assignments) {
    const [name = '', value = '', ...rest] = assignment.split('=');
    const key = SWITCH_NAMES[name.toLowerCase() as keyof typeof SWITCH_NAMES];
    if (!key || rest.length > 0) {
      throw new Error(`"${assignment}": expected one of ${Object.keys(SWITCH_NAMES).join(', ')} as name=value`);
    }
    if (key === 'resyncSource') {
      const source = value.toUpperCase();
      if (source !== 'NOMIS' && source !== 'DPS')
        throw new Error(`"${assignment}": resync-source must be nomis or dps`);
      change.resyncSource = source;
    } else {
      if (value !== 'on' && value !== 'off') throw new Error(`"${assignment}": ${name} must be on or off`);
      change[key] = value === 'on';
    }
  }
  if (Object.keys(change).length === 0) throw new Error('nothing to change: give at least one name=value');
  return change;
}

export function describeSwitches(switches: SyncSwitches): string {
  const onOff = (on: boolean) => (on ? 'on' : 'off');
  return (
    `resync-source=${switches.resyncSource.toLowerCase()} nomis-to-dps=${onOff(switches.nomisToDps)} ` +
    `dps-to-nomis=${onOff(switches.dpsToNomis)}`
  );
}

/** ADR002's end state: DPS is the only source, NOMIS follows. */
export function isOneWayDpsToNomis(switches: SyncSwitches): boolean {
  return switches.resyncSource === 'DPS' && !switches.nomisToDps && switches.dpsToNomis;
}
