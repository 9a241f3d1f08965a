import { Client, Connection } from '@temporalio/client';
import type { Config } from '../common/config';
import { prisonerSyncWorkflowId } from '../common/ids';
import { PRISON_NUMBER, SYNC_KIND } from '../common/search-attributes';
import { SyncKind } from '../common/sync-kinds';
import type { SyncRequest } from '../workflows/messages';
import { syncRequestedSignal } from '../workflows/messages';
import { prisonerSyncWorkflow } from '../workflows/prisoner-sync';

export async function connectClient(config: Config): Promise<{ client: Client; close: () => Promise<void> }> {
  const connection = await Connection.connect({ address: config.temporal.address });
  return { client: new Client({ connection, namespace: config.temporal.namespace }), close: () => connection.close() };
}

/** Queues a sync on the prisoner's workflow, starting it if idle: the one way every caller asks for a sync. */
export function requestSync(client: Client, taskQueue: string, prisonNumber: string, request: SyncRequest) {
  return client.workflow.signalWithStart(prisonerSyncWorkflow, {
    workflowId: prisonerSyncWorkflowId(prisonNumber),
    taskQueue,
    args: [{ prisonNumber }],
    signal: syncRequestedSignal,
    signalArgs: [request],
    typedSearchAttributes: [
      { key: PRISON_NUMBER, value: prisonNumber },
      { key: SYNC_KIND, value: SyncKind.prisoner },
    ],
    staticSummary: `all alert syncs of ${prisonNumber}, in order`,
  });
}

/** Shorthand for the prisoner-level case. */
export function requestResync(client: Client, taskQueue: string, prisonNumber: string, reason: string) {
  return requestSync(client, taskQueue, prisonNumber, { kind: 'resync', reason });
}
