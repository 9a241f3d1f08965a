import { Client, Connection } from '@temporalio/client';
import type { Config } from '../common/config';
import { prisonerResyncWorkflowId } from '../common/ids';
import { PRISON_NUMBER, SYNC_KIND } from '../common/search-attributes';
import { SyncKind } from '../common/sync-kinds';
import type { ResyncRequest } from '../workflows/messages';
import { resyncRequestedSignal } from '../workflows/messages';
import { prisonerResyncWorkflow } from '../workflows/prisoner-resync';

export async function connectClient(config: Config): Promise<{ client: Client; close: () => Promise<void> }> {
  const connection = await Connection.connect({ address: config.temporal.address });
  return { client: new Client({ connection, namespace: config.temporal.namespace }), close: () => connection.close() };
}

/** Joins the prisoner's running resync, or starts one: the one way every caller asks for a resync. */
export function requestResync(client: Client, taskQueue: string, prisonNumber: string, request: ResyncRequest) {
  return client.workflow.signalWithStart(prisonerResyncWorkflow, {
    workflowId: prisonerResyncWorkflowId(prisonNumber),
    taskQueue,
    args: [{ prisonNumber }],
    signal: resyncRequestedSignal,
    signalArgs: [request],
    typedSearchAttributes: [
      { key: PRISON_NUMBER, value: prisonNumber },
      { key: SYNC_KIND, value: request.removedPrisonNumber ? SyncKind.merge : SyncKind.resync },
    ],
    staticSummary: `resync alerts of ${prisonNumber}: ${request.reason}`,
  });
}
