import { Client, Connection, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { ConnectionOptions, TLSConfig, WorkflowHandle } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import type { NativeConnection } from '@temporalio/worker';
import type { Config } from '../common/config';
import type { ResyncSource } from '../common/sync-switches';
import { prisonerSyncWorkflowId } from '../common/ids';
import { PRISON_NUMBER, SYNC_KIND } from '../common/search-attributes';
import { SyncKind } from '../common/sync-kinds';
import type { SyncRequest } from '../workflows/messages';
import type { PrisonerSyncInput } from '../workflows/messages';
import { PRISONER_SYNC_WORKFLOW, syncRequestedSignal, syncsRequestedSignal } from '../workflows/messages';
import { AesGcmPayloadCodec } from './payload-codec';
import { readSetting } from './setting-files';

// The one place that knows how to reach Temporal: address, TLS/mTLS or API key, namespace and the payload codec.
// Every client, worker, tool and test connects through these, so no connection is ever made in the clear
// or reads history without the keys.

/** Options for Connection.connect and NativeConnection.connect alike: connect with connectTemporal or connectWorker. */
function temporalConnectionOptions(config: Config): {
  address: string;
  apiKey?: string;
  tls: TLSConfig | boolean;
} {
  const { tls, apiKey, address } = config.temporal;
  return { address, apiKey, tls: tls.enabled ? tlsConfig(tls) : false };
}

function tlsConfig(tls: Config['temporal']['tls']): TLSConfig {
  return {
    serverNameOverride: tls.serverName,
    serverRootCACertificate: tls.caPath ? readSetting(tls.caPath, 'TEMPORAL_TLS_CA') : undefined,
    clientCertPair:
      tls.certPath && tls.keyPath
        ? { crt: readSetting(tls.certPath, 'TEMPORAL_TLS_CERT'), key: readSetting(tls.keyPath, 'TEMPORAL_TLS_KEY') }
        : undefined,
  };
}

/** Payload encryption for every client and worker; search attributes are not payloads and stay readable. */
export function dataConverter(config: Config): DataConverter {
  return { payloadCodecs: [new AesGcmPayloadCodec(config.encryption.keys, config.encryption.keyId)] };
}

/**
 * A client connection from the config. `overrides` are for what only the caller knows: a probe's short connect
 * timeout, a server started beside the stack, a test's own TLS settings.
 */
export function connectTemporal(config: Config, overrides: Partial<ConnectionOptions> = {}): Promise<Connection> {
  return Connection.connect({ ...temporalConnectionOptions(config), ...overrides });
}

/** A worker's connection from the same settings as a client's. */
export async function connectWorker(config: Config): Promise<NativeConnection> {
  // Loaded here, not at the top: @temporalio/worker brings Core's native library, which no client needs.
  const { NativeConnection } = await import('@temporalio/worker');
  return NativeConnection.connect(temporalConnectionOptions(config));
}

export async function connectClient(
  config: Config,
  overrides?: Partial<ConnectionOptions>,
): Promise<{ client: Client; close: () => Promise<void> }> {
  const connection = await connectTemporal(config, overrides);
  return { client: temporalClient(config, connection), close: () => connection.close() };
}

/** A client on the config's namespace, with its payload codec unless the caller brings its own (a benchmark's). */
export function temporalClient(
  config: Config,
  connection: Connection,
  converter: DataConverter = dataConverter(config),
): Client {
  return new Client({ connection, namespace: config.temporal.namespace, dataConverter: converter });
}

/**
 * The client a worker's activities use: on the worker's own connection (no second connection per pod), and so able
 * to start a workflow eagerly, its first task handed straight to this worker (requestSync's startEagerly).
 */
export function clientOfWorker(connection: NativeConnection, namespace: string, converter: DataConverter): Client {
  return new Client({ connection, namespace, dataConverter: converter });
}

/**
 * Queues syncs on the prisoner's workflow, starting it if idle: the one way every caller asks for a sync. Several
 * requests go in one signal, in order, as if signalled one by one.
 *
 * `startEagerly` (only for a client on a worker's own NativeConnection, clientOfWorker): most prisoners of a bulk
 * resync have no workflow running, so their workflow is started with the requests as its input and its first
 * workflow task handed straight back to this worker (eager start), saving the server a task dispatch. A prisoner
 * whose workflow is running gets the requests by signal-with-start, as every other caller sends them.
 */
export async function requestSync(
  client: Client,
  taskQueue: string,
  prisonNumber: string,
  requests: SyncRequest | readonly SyncRequest[],
  { startEagerly = false }: { startEagerly?: boolean } = {},
): Promise<WorkflowHandle> {
  const marked = (Array.isArray(requests) ? requests : [requests]).map(markInPlace);
  const common = {
    workflowId: prisonerSyncWorkflowId(prisonNumber),
    taskQueue,
    typedSearchAttributes: [
      { key: PRISON_NUMBER, value: prisonNumber },
      { key: SYNC_KIND, value: SyncKind.prisoner },
    ],
    staticSummary: `all alert syncs of ${prisonNumber}, in order`,
  };
  const input: PrisonerSyncInput = { prisonNumber, searchAttributesSetAtStart: true };
  if (startEagerly) {
    try {
      return await client.workflow.start(PRISONER_SYNC_WORKFLOW, {
        ...common,
        args: [{ ...input, requests: marked }],
        workflowIdConflictPolicy: 'FAIL',
        requestEagerStart: true,
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }
  // One request keeps the signal every workflow has always had; a worker must know syncsRequested before a
  // router sends it (deploy workers first).
  return marked.length === 1
    ? client.workflow.signalWithStart(PRISONER_SYNC_WORKFLOW, {
        ...common,
        args: [input],
        signal: syncRequestedSignal,
        signalArgs: [marked[0] as SyncRequest],
      })
    : client.workflow.signalWithStart(PRISONER_SYNC_WORKFLOW, {
        ...common,
        args: [input],
        signal: syncsRequestedSignal,
        signalArgs: [marked],
      });
}

function markInPlace(request: SyncRequest): SyncRequest {
  return request.kind === 'resync' && request.inPlace === undefined ? { ...request, inPlace: 'one-activity' } : request;
}

/** Shorthand for the prisoner-level case. */
/** A resync of one prisoner through their queue; from NOMIS unless `source` says DPS (ADR004's future). */
export function requestResync(
  client: Client,
  taskQueue: string,
  prisonNumber: string,
  reason: string,
  source: ResyncSource = 'NOMIS',
) {
  return requestSync(client, taskQueue, prisonNumber, {
    kind: 'resync',
    reason,
    ...(source === 'DPS' ? { source } : {}),
  });
}
