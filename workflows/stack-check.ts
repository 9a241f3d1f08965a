import { log, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { SyncActivities } from '../activities';
import { DATABASE_ACTIVITY } from '../common/retry-policies';

const { writeStackCheckRow } = proxyActivities<SyncActivities>(DATABASE_ACTIVITY);

export interface StackCheckInput {
  checkId: string;
  requestedBy: string;
}

export interface StackCheckResult {
  checkId: string;
  checkedAt: string;
  workflowId: string;
}

/** Proves the pipeline end to end: an event reached a worker, which wrote to PostgreSQL. */
export async function stackCheckWorkflow(input: StackCheckInput): Promise<StackCheckResult> {
  const { checkedAt } = await writeStackCheckRow(input);
  log.info('stack check done', { checkId: input.checkId });
  return { checkId: input.checkId, checkedAt, workflowId: workflowInfo().workflowId };
}
