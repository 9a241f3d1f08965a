import type { ActivityOptions, LocalActivityOptions } from '@temporalio/common';

// One named policy per class of call; workflows pick by name, never inline numbers.

/**
 * Reads and writes of our own PostgreSQL. Usually a failure is a connection blip, but an outage of the database
 * must be waited out at least as long as one of NOMIS or DPS: giving up part-way through a resync would leave
 * DPS replaced and the mappings stale. So: the same day-long budget, with a shorter cap as it is ours.
 */
export const DATABASE_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: '10 seconds',
  scheduleToCloseTimeout: '24 hours',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
};

/**
 * Reads from NOMIS. Outages of minutes are normal (deploys, nightly jobs), so keep trying for a day with capped
 * backoff; a 404 (unknown prisoner) is non-retryable and fails the run at once.
 */
export const NOMIS_READ_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '24 hours',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes' },
};

/** The DPS resync POST: replaces a prisoner's alerts, idempotent for the same body, so it is safe to repeat. */
export const DPS_RESYNC_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: '60 seconds',
  scheduleToCloseTimeout: '24 hours',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes' },
};

/** Reads from DPS (the DPS-driven resync reads a prisoner's alerts): as NOMIS reads, outages are waited out. */
export const DPS_READ_ACTIVITY: ActivityOptions = NOMIS_READ_ACTIVITY;

/**
 * The NOMIS resynchronise POST (the DPS-driven resync): replaces the current booking's alerts, so a repeat
 * leaves equal alerts under new sequences and is safe; the mappings are written only after it.
 */
export const NOMIS_RESYNC_ACTIVITY: ActivityOptions = DPS_RESYNC_ACTIVITY;

/**
 * A step of a resync run in place, inside the prisoner's workflow (workflows/resync-steps.ts): a few quick tries
 * only, since what fails here is not lost but run again as the resync's own run under the policies above.
 */
export const IN_PLACE_RESYNC_STEP: LocalActivityOptions = {
  startToCloseTimeout: '10 seconds',
  scheduleToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '200 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '2 seconds',
    maximumAttempts: 3,
  },
};

/** Replacing a prisoner's mapping rows: one transaction, safe to repeat. */
export const MAPPING_WRITE_ACTIVITY: ActivityOptions = DATABASE_ACTIVITY;

/** Single-alert reads and writes on NOMIS or DPS (alert-level sync); each is idempotent, so keep trying. */
export const ALERT_API_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '24 hours',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes' },
};

/**
 * An update or delete whose mapping does not exist yet (events out of order) is put back in the prisoner's
 * queue this many times, DEFERRAL_DELAY apart, before it fails visibly.
 */
export const MAX_MAPPING_DEFERRALS = 5;
export const DEFERRAL_DELAY = '3 seconds';

/** Signal-with-starts on our own Temporal server (queueing resyncs): quick, and safe to repeat (event ids). */
export const TEMPORAL_REQUEST_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: '60 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
};

/**
 * The same kind of request made from inside a workflow task (a local activity): a prisoner's workflow telling the
 * batch that asked how its resync ended, which takes milliseconds and lets that workflow close in the same task.
 * Retried, as above, until Temporal takes it.
 */
export const LOCAL_TEMPORAL_REQUEST: LocalActivityOptions = {
  startToCloseTimeout: '60 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
};

/** Reconciliation reads NOMIS, DPS and the mappings for a page of prisoners; it heartbeats as it goes. */
export const RECONCILIATION_CHECK_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  scheduleToCloseTimeout: '6 hours',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes' },
};
