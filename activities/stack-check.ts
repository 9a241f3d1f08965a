import { log } from '@temporalio/activity';
import type { Db } from '../adapters/db';
import { recordStackCheck } from '../adapters/db';

export function createStackCheckActivities(deps: { db: Db }) {
  return {
    /** Idempotent: insert-or-ignore keyed by the check id. */
    async writeStackCheckRow(input: { checkId: string; requestedBy: string }): Promise<{ checkedAt: string }> {
      const row = await recordStackCheck(deps.db, input);
      log.info('stack check recorded', { checkId: input.checkId, requestedBy: input.requestedBy });
      return { checkedAt: row.checkedAt.toISOString() };
    },
  };
}
