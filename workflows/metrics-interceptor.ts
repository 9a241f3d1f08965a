import type {
  WorkflowExecuteInput,
  WorkflowInboundCallsInterceptor,
  WorkflowInterceptors,
  Next,
} from '@temporalio/workflow';
import { ApplicationFailure, ContinueAsNew, TemporalFailure, isCancellation, metricMeter } from '@temporalio/workflow';

// Counts every workflow run's outcome by workflow type, so /metrics answers "how many resyncs and alert syncs
// completed or failed, and why". It goes through the SDK's workflow metricMeter, which emits nothing while a
// history is replayed: a run is counted once, however often it is replayed, and no command is added to
// the history, so determinism is untouched.

/**
 * Shown by the SDK's Prometheus exporter as `alerts_sync_workflows_total`, with the SDK's own `workflowType`,
 * `taskQueue` and `namespace` labels added to ours.
 */
const WORKFLOW_OUTCOMES_METRIC = 'alerts_sync_workflows';

class OutcomeInterceptor implements WorkflowInboundCallsInterceptor {
  async execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const counter = metricMeter.createCounter(
      WORKFLOW_OUTCOMES_METRIC,
      undefined,
      'Workflow runs finished, by workflow type, outcome and failure type',
    );
    try {
      const result = await next(input);
      counter.add(1, { outcome: 'completed', failure_type: '' });
      return result;
    } catch (err) {
      counter.add(1, outcomeOf(err));
      throw err;
    }
  }
}

function outcomeOf(err: unknown): { outcome: string; failure_type: string } {
  // Long-lived workflows end each run by continuing as new: neither a success nor a failure of the sync.
  if (err instanceof ContinueAsNew) return { outcome: 'continued-as-new', failure_type: '' };
  if (isCancellation(err)) return { outcome: 'cancelled', failure_type: '' };
  // An activity's or child's failure that propagates (ActivityFailure, ChildWorkflowFailure) fails the run too;
  // its type is the ApplicationFailure at the root (NomisNotFound, DpsAlertGone...).
  if (err instanceof TemporalFailure) return { outcome: 'failed', failure_type: rootType(err) };
  // Any other error fails only the workflow task, which Temporal retries: a bug to look at, not an outcome.
  return { outcome: 'task-failed', failure_type: err instanceof Error ? err.name : 'unknown' };
}

function rootType(failure: TemporalFailure): string {
  let type = failure.name;
  for (let at: unknown = failure; at instanceof TemporalFailure; at = at.cause) {
    type = at instanceof ApplicationFailure ? (at.type ?? 'ApplicationFailure') : type;
  }
  return type;
}

export const interceptors = (): WorkflowInterceptors => ({ inbound: [new OutcomeInterceptor()] });
