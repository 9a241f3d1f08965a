import type { ActivityOptions } from '@temporalio/common';

// One named policy per class of call; workflows pick by name, never inline numbers.

/** Writes to our own PostgreSQL: fast, and a failure is almost always a connection blip. */
export const DATABASE_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: '10 seconds',
  retry: {
    initialInterval: '500 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 20,
  },
};
