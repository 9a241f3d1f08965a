import fs from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import * as workflows from '../../workflows';
import { PRISONER_SYNC_WORKFLOW } from '../../workflows/messages';
import { WORKFLOW_INTERCEPTOR_MODULES, WORKFLOWS_PATH } from '../../workers/worker';

// Recorded histories of every workflow type, replayed against today's workflow code: a change that would
// break running workflows (non-determinism) fails here before it ships. Re-record only with a deliberate
// patched() change, by `temporal workflow show -w <id> --output json` against a stack that ran the workflow.
// A history whose workflow reads its own id (a batch names its requests by it) says which, as `workflowId`.

const dir = path.join(__dirname, '..', 'histories');
const histories = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
type History = Parameters<typeof Worker.runReplayHistory>[1];
const load = (file: string) =>
  JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as History & {
    workflowId?: string;
    events: Array<{ workflowExecutionStartedEventAttributes?: { workflowType?: { name?: string } } }>;
  };

test('there is a recorded history for every workflow type', () => {
  const recorded = new Set(
    histories.map((file) => load(file).events[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name),
  );
  const exported = Object.keys(workflows);
  // The worker registers every export as a workflow type: a helper exported here could be started.
  expect(exported.filter((name) => !name.endsWith('Workflow'))).toEqual([]);
  expect([...recorded].sort()).toEqual(exported.sort());
});

test('clients start the prisoner queue by the name the worker registers it under', () => {
  expect(Object.keys(workflows)).toContain(PRISONER_SYNC_WORKFLOW);
  expect(workflows.prisonerSyncWorkflow.name).toBe(PRISONER_SYNC_WORKFLOW);
});

test.each(histories)('%s replays without non-determinism', async (file) => {
  const { workflowId, ...history } = load(file);
  // The same workflow code and interceptors as a running worker, so a replay checks what production runs.
  await Worker.runReplayHistory(
    {
      workflowsPath: WORKFLOWS_PATH,
      interceptors: { workflowModules: WORKFLOW_INTERCEPTOR_MODULES },
      replayName: file,
    },
    history,
    workflowId,
  );
});
