import { resyncOnce } from '../common/resync-once';
import type { ResyncSteps } from '../common/resync-once';
import type { ResyncFinished, ResyncWaiter } from '../workflows/messages';

/** A step as its activity takes it: the input alone (the summary is for the Web UI's view of a scheduled step). */
type StepActivity<K extends keyof ResyncSteps> = (input: Parameters<ResyncSteps[K]>[0]) => ReturnType<ResyncSteps[K]>;

/**
 * The resync's steps are the very activities a resync's own run schedules one by one; here one activity calls
 * them in turn, so a resync run in place costs its prisoner's workflow one local activity and one activation.
 */
export function createInPlaceResyncActivities(deps: {
  getCurrentBookingAlerts: StepActivity<'readNomis'>;
  resyncDpsAlerts: StepActivity<'replaceDps'>;
  replaceMappings: StepActivity<'replaceMappings'>;
  reportResyncFinished: (input: { workflowId: string; finished: ResyncFinished; grouped?: boolean }) => Promise<void>;
}) {
  const steps: ResyncSteps = {
    readNomis: (input) => deps.getCurrentBookingAlerts(input),
    replaceDps: (input) => deps.resyncDpsAlerts(input),
    replaceMappings: (input) => deps.replaceMappings(input),
  };
  return {
    /**
     * Idempotent: a read, DPS's replace and the mappings' replace, then a report each waiter counts once. A plain
     * resync from NOMIS (no merge), guarded as a resync's own run is; any failure is for the prisoner's workflow
     * to answer by running the resync as its own run (prisoner-resync.ts).
     */
    async resyncPrisonerInPlace(input: {
      prisonNumber: string;
      reasons: string[];
      bookingsMovedAway?: boolean;
      waiters: ResyncWaiter[];
    }): Promise<{ alertCount: number }> {
      const { prisonNumber } = input;
      const alertCount = await resyncOnce(
        { prisonNumber, removedPrisonNumbers: [], ...(input.bookingsMovedAway ? { bookingsMovedAway: true } : {}) },
        // A prisoner whose bookings went elsewhere has no NOMIS booking to copy DPS users' alerts to.
        { steps, guarded: !input.bookingsMovedAway },
      );
      // Told here rather than by another local activity: one activation fewer for the prisoner's workflow.
      for (const { workflowId, eventIds, grouped } of input.waiters) {
        const finished = { prisonNumber, ok: true, alertCount, eventIds };
        await deps.reportResyncFinished({ workflowId, finished, ...(grouped ? { grouped } : {}) });
      }
      return { alertCount };
    },
  };
}
