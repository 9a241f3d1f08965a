/** The one task queue the sync's workflows and activities run on. */
export const SYNC_TASK_QUEUE = 'alerts-sync';
