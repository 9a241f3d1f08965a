import type { temporal } from '@temporalio/proto';
import { AesGcmPayloadCodec, isEncrypted } from '../../adapters/payload-codec';
import { dataConverter } from '../../adapters/temporal';
import type { Config } from '../../common/config';
import { loadConfig } from '../../common/config';
import type { Bench } from './context';

// Payload encryption: on in this process, the same keys in the worker's environment, ciphertext in history.
// Figures from a run without production's encryption are not production's figures.

export function encryptionProblems(config: Config, workerEnv: Record<string, string | undefined>): string[] {
  const problems: string[] = [];
  const codecs = dataConverter(config).payloadCodecs ?? [];
  if (!codecs.some((c) => c instanceof AesGcmPayloadCodec)) problems.push('this process has no payload codec');
  const worker = loadConfig(workerEnv).encryption;
  const keyIds = (keys: Config['encryption']['keys']) =>
    keys.map((k) => `${k.id}=${k.key.toString('base64')}`).join(',');
  if (worker.keyId !== config.encryption.keyId || keyIds(worker.keys) !== keyIds(config.encryption.keys)) {
    problems.push("the worker's PAYLOAD_ENCRYPTION_KEYS / _KEY_ID differ from this process's");
  }
  return problems;
}

/** Every payload of the workflow's stored history, read raw (no codec), must be ciphertext. */
async function historyEncrypted(bench: Bench, workflowId: string): Promise<{ payloads: number; encrypted: number }> {
  const { history } = await bench.client.workflowService.getWorkflowExecutionHistory({
    namespace: bench.client.options.namespace,
    execution: { workflowId },
  });
  let payloads = 0;
  let encrypted = 0;
  const visit = (value: unknown, key?: string): void => {
    if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return;
    if (Array.isArray(value)) return value.forEach((item) => visit(item, key));
    // Search attributes are plaintext on purpose (indexed by the server); patch markers carry the SDK's patch id.
    if (key === 'searchAttributes' || key === 'indexedFields') return;
    const record = value as Record<string, unknown>;
    if (record.markerName === 'core_patch') return;
    // A local activity's marker holds the SDK's bookkeeping (sequence, activity type, times) unencoded beside the
    // activity's result, which is the application's payload.
    if (record.markerName === 'core_local_activity') {
      return visit((record.details as Record<string, unknown> | undefined)?.result, 'result');
    }
    if (record.metadata !== undefined && 'data' in record) {
      payloads++;
      if (isEncrypted(record as temporal.api.common.v1.IPayload)) encrypted++;
      return;
    }
    for (const [k, v] of Object.entries(record)) visit(v, k);
  };
  for (const event of history?.events ?? []) visit(event);
  return { payloads, encrypted };
}

export interface EncryptionSeen {
  on: boolean;
  detail: string;
}

/** What the worker and the clients wrote for a batch and a prisoner of each Temporal phase, read as stored. */
export async function encryptionInHistory(bench: Bench, workflowIds: string[]): Promise<EncryptionSeen> {
  let payloads = 0;
  let encrypted = 0;
  const read: string[] = [];
  for (const workflowId of workflowIds) {
    const found = await historyEncrypted(bench, workflowId).catch(() => undefined);
    if (!found) continue;
    read.push(workflowId);
    payloads += found.payloads;
    encrypted += found.encrypted;
  }
  if (payloads > 0 && encrypted === payloads) {
    return { on: true, detail: `on (${encrypted}/${payloads} payloads in ${read.join(', ')} are ciphertext)` };
  }
  return {
    on: false,
    detail: `NOT verified: ${encrypted}/${payloads} payloads in ${read.join(', ') || 'no history'} are ciphertext`,
  };
}
