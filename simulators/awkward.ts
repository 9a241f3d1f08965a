import { z } from 'zod';

// Legal-but-awkward behaviours of the real NOMIS, DPS and Kafka that the sync must survive. Each is a switch a
// test turns on (`POST /__sim/awkward`); the defaults are the well-behaved systems the demo runs against.
// Timestamps are always at second precision, as NOMIS writes them.

export const awkwardnessSchema = z.object({
  /** NOMIS gives a new alert the booking's highest sequence + 1, so a deleted highest sequence comes back. */
  reuseAlertSequences: z.boolean(),
  /** NOMIS alert events leave out `auditModuleName` (contract §1.1 allows it). */
  omitAuditModuleName: z.boolean(),
  /** The chance that a published event is published again right after (a producer retry after a lost ack). */
  redeliveryRate: z.number().min(0).max(1),
});
export type Awkwardness = z.infer<typeof awkwardnessSchema>;

export const setAwkwardnessRequestSchema = awkwardnessSchema.partial();
export type SetAwkwardnessRequest = z.input<typeof setAwkwardnessRequestSchema>;

export const WELL_BEHAVED: Awkwardness = { reuseAlertSequences: false, omitAuditModuleName: false, redeliveryRate: 0 };

/** Every awkward behaviour at once: what the burst test and `sim awkward on` use. */
export const ALL_AWKWARD: Awkwardness = { reuseAlertSequences: true, omitAuditModuleName: true, redeliveryRate: 0.2 };

/** The switches, shared by reference between the simulated systems, so a change applies at once. */
export class AwkwardSwitches {
  private current: Awkwardness = { ...WELL_BEHAVED };

  get(): Awkwardness {
    return { ...this.current };
  }

  set(changes: SetAwkwardnessRequest): Awkwardness {
    this.current = { ...this.current, ...changes };
    return this.get();
  }

  reset(): void {
    this.current = { ...WELL_BEHAVED };
  }
}
