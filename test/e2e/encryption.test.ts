import { temporal } from '@temporalio/proto';
import { isEncrypted } from '../../adapters/payload-codec';
import { PRISON_NUMBER } from '../../common/search-attributes';
import type { Harness } from '../helpers/harness';
import { invariantViolations, waitForPrisonerSync } from '../helpers/harness';
import { useHarness } from '../helpers/e2e';
import { randomPrisonNumber } from '../helpers/prisoners';
import { eventually } from '../helpers/stack';

// Alert text is personal data: what Temporal stores for a prisoner's syncs (the histories anyone with Web UI
// access reads for the whole retention period) must hold it only as ciphertext. Read here as the server keeps
// it, through the raw gRPC API, with no codec.

let harness: Harness;
useHarness('encryption', (started) => (harness = started));

const SECRET_COMMENT = 'threatened officer with a blade on the landing';
const SECRET_AUTHORISER = 'Governor Okonkwo-Blythe';
const SECRET_DPS_TEXT = 'disclosed self-harm plan to chaplain';
const DPS_USERNAME = 'DPS_USER_QUILLFEATHER';

test('a raw history holds no alert description, authoriser or username, only ciphertext', async () => {
  const prisonNumber = randomPrisonNumber();
  await harness.control.createPrisoner({
    offenderNo: prisonNumber,
    alerts: [{ alertCode: 'XA', date: '2024-01-10', comment: SECRET_COMMENT, authorisedBy: SECRET_AUTHORISER }],
  });
  const since = new Date();
  await harness.control.newBooking(prisonNumber);
  await waitForPrisonerSync(harness, prisonNumber, since);
  // A DPS user's alert travels the other way, through an alert-level sync and its signal.
  const afterResync = new Date();
  await harness.control.createDpsAlert(prisonNumber, {
    alertCode: 'HA',
    description: SECRET_DPS_TEXT,
    createdBy: DPS_USERNAME,
  });
  await waitForPrisonerSync(harness, prisonNumber, afterResync);
  expect(await invariantViolations(harness, prisonNumber)).toEqual([]);

  const { workflowService } = harness.client.connection;
  const namespace = harness.client.options.namespace;
  const runs = await eventually(async () => {
    const found = [];
    for await (const run of harness.client.workflow.list({ query: `${PRISON_NUMBER.name} = "${prisonNumber}"` })) {
      found.push(run);
    }
    // The prisoner's queue twice (the resync ran in place in the first), the alert-level child.
    return found.length >= 3 ? found : undefined;
  }, `the workflows of ${prisonNumber}`);

  let payloads = 0;
  let encrypted = 0;
  for (const run of runs) {
    const { history } = await workflowService.getWorkflowExecutionHistory({
      namespace,
      execution: { workflowId: run.workflowId, runId: run.runId },
    });
    const raw = Buffer.from(temporal.api.history.v1.History.encode(history ?? {}).finish());
    for (const secret of [SECRET_COMMENT, SECRET_AUTHORISER, SECRET_DPS_TEXT, DPS_USERNAME]) {
      expect({ workflowId: run.workflowId, holds: raw.includes(secret) ? secret : undefined }).toEqual({
        workflowId: run.workflowId,
        holds: undefined,
      });
    }
    for (const event of history?.events ?? []) {
      for (const payload of payloadsOf(event)) {
        payloads++;
        if (isEncrypted(payload)) encrypted++;
      }
    }
  }
  expect(payloads).toBeGreaterThan(10);
  expect(encrypted).toBe(payloads);
});

/** Every payload an event carries: inputs, results, signal arguments, failure details. */
function payloadsOf(event: temporal.api.history.v1.IHistoryEvent): temporal.api.common.v1.IPayload[] {
  // A patch marker's details are the patch id (workflows' own version names), which the SDK writes unencoded.
  if (event.markerRecordedEventAttributes?.markerName === 'core_patch') return [];
  // A local activity's marker (an in-place resync's steps) holds the SDK's own record under details.data (its
  // sequence, attempt, activity type and times), unencoded; its result and failure are payloads like any other.
  if (event.markerRecordedEventAttributes?.markerName === 'core_local_activity') {
    const details = { ...event.markerRecordedEventAttributes.details };
    delete details.data;
    event = { ...event, markerRecordedEventAttributes: { ...event.markerRecordedEventAttributes, details } };
  }
  const found: temporal.api.common.v1.IPayload[] = [];
  const visit = (value: unknown, key?: string): void => {
    if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return;
    if (Array.isArray(value)) return value.forEach((item) => visit(item, key));
    // Search attributes are indexed by the server and stay plaintext on purpose (prison numbers and kinds only).
    if (key === 'searchAttributes' || key === 'indexedFields') return;
    const record = value as Record<string, unknown>;
    if (key === 'payloads' || (record.metadata !== undefined && 'data' in record)) {
      if (record.metadata !== undefined) found.push(record as temporal.api.common.v1.IPayload);
    }
    for (const [k, v] of Object.entries(record)) visit(v, k);
  };
  visit(event);
  return found;
}
