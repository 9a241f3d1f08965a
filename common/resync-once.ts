import type { NomisAlert, ResyncAlert, ResyncResponse } from './contract';
import { toResyncAlert } from './alert-fields';

// The resync from NOMIS itself, in one place: the workflows run it with each step an activity (a resync's own
// run), and the in-place activity runs it with the steps called directly (activities/in-place-resync.ts).

/** The prisoner a resync is for, and what the event that asked for it said. */
export interface ResyncTarget {
  prisonNumber: string;
  /** Prisoners merged into this one: their mapping rows go in this resync's transaction (contract §5). */
  removedPrisonNumbers: string[];
  /** The event says this prisoner's bookings went elsewhere: NOMIS's 404 then means "no alerts" (contract §3). */
  bookingsMovedAway?: boolean;
}

/** The three steps of a resync from NOMIS, each with the summary the Web UI shows for it. */
export interface ResyncSteps {
  readNomis(input: { prisonNumber: string; bookingsMovedAway?: boolean }, summary: string): Promise<NomisAlert[]>;
  replaceDps(
    input: { prisonNumber: string; alerts: ResyncAlert[]; guard?: { knownUnsynced: string[] } },
    summary: string,
  ): Promise<ResyncResponse>;
  replaceMappings(
    input: {
      prisonNumber: string;
      mappingType: 'RESYNC';
      removedPrisonNumbers: string[];
      mappings: Array<{ dpsAlertId: string; nomisBookingId: number; nomisAlertSequence: number }>;
    },
    summary: string,
  ): Promise<unknown>;
}

export interface ResyncOnceOptions {
  steps: ResyncSteps;
  /** Refuse to replace DPS while it holds a DPS user's alert not yet copied to NOMIS (DpsChangedDuringResync). */
  guarded: boolean;
  /** DPS users' alerts this resync already copied (or tried to copy) to NOMIS: the guard lets them pass. */
  knownUnsynced?: Iterable<string>;
  /** Asked after DPS is replaced: whether this run also empties the merged-away prisoners in DPS. */
  emptiesRemovedHere?: () => boolean;
}

/** Read NOMIS, replace DPS, replace the mappings; the number of alerts the prisoner now has. */
export async function resyncOnce(
  target: ResyncTarget,
  { steps, guarded, knownUnsynced = [], emptiesRemovedHere = () => false }: ResyncOnceOptions,
): Promise<number> {
  const { prisonNumber, removedPrisonNumbers } = target;
  // 1. Every alert on the prisoner's current NOMIS booking (a 404 fails the run — never resync "nothing" —
  //    unless the event said this prisoner's bookings went elsewhere).
  const nomisAlerts = await steps.readNomis(
    { prisonNumber, ...(target.bookingsMovedAway ? { bookingsMovedAway: true } : {}) },
    `read NOMIS alerts of ${prisonNumber}`,
  );
  const alerts = nomisAlerts.map(toResyncAlert);
  // 2. Replace the prisoner's DPS alerts with NOMIS's — unless DPS holds a DPS user's alert whose copy to NOMIS
  //    has not run yet, which the replace would delete: then DpsChangedDuringResync names them, to copy first.
  const created = await steps.replaceDps(
    { prisonNumber, alerts, ...(guarded ? { guard: { knownUnsynced: [...knownUnsynced] } } : {}) },
    `resync ${nomisAlerts.length} alerts to DPS for ${prisonNumber}`,
  );
  if (emptiesRemovedHere()) {
    for (const removed of removedPrisonNumbers) {
      await steps.replaceDps({ prisonNumber: removed, alerts: [] }, `remove all DPS alerts of merged-away ${removed}`);
    }
  }
  // 3. Delete the old mappings and create the new ones, in one transaction (contract §5).
  await steps.replaceMappings(
    {
      prisonNumber,
      mappingType: 'RESYNC',
      removedPrisonNumbers,
      mappings: created.map((c) => ({
        dpsAlertId: c.alertUuid,
        nomisBookingId: c.offenderBookId,
        nomisAlertSequence: c.alertSeq,
      })),
    },
    `replace ${created.length} mappings of ${prisonNumber}`,
  );
  return created.length;
}
