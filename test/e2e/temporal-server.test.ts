import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import type { Connection, ConnectionOptions } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { connectTemporal, temporalClient } from '../../adapters/temporal';
import type { Config } from '../../common/config';
import { PRISON_NUMBER, SEARCH_ATTRIBUTES } from '../../common/search-attributes';
import { TEMPORAL_SERVER_BIN, stateDir } from '../../infra/stack';
import type { TemporalBeside } from '../../infra/temporal-beside';
import { startTemporalBeside } from '../../infra/temporal-beside';
import { makeServerCertificates } from '../helpers/certs';
import { config, uniqueSuffix } from '../helpers/stack';

// A second, full Temporal server beside the suite's stack, its frontend serving TLS from STACK_TEMPORAL_TLS_DIR:
// first TLS, then mTLS. It shares the stack's PostgreSQL under database names of its own and takes ports 100 above
// the stack's, so it disturbs nothing the other files use.

const dir = path.join(stateDir(config), 'temporal-tls');
const certs = path.join(dir, 'certs');
const file = (name: string) => path.join(certs, name);

let server: TemporalBeside | undefined;
let tlsConfig: Config;

async function startServer(mtls: boolean): Promise<void> {
  // A restart with other TLS settings: the server reads its config only at start.
  await server?.stop();
  // The UI's health check asks the frontend for the namespace through the UI server: it proves that TLS hop too.
  server = await startTemporalBeside(config, {
    name: 'temporal-tls',
    kind: 'server',
    portOffset: 100,
    withUi: true,
    env: {
      STACK_TEMPORAL_TLS_DIR: certs,
      STACK_TEMPORAL_MTLS: mtls ? 'on' : 'off',
      // The certificates name localhost; clients reach the server by 127.0.0.1.
      TEMPORAL_TLS_SERVER_NAME: 'localhost',
      // With TLS the stack checks its server with its own files; with mTLS, with the product's client settings.
      TEMPORAL_TLS: undefined,
      TEMPORAL_API_KEY: undefined,
      TEMPORAL_TLS_CA: mtls ? file('ca.pem') : undefined,
      TEMPORAL_TLS_CERT: mtls ? file('client.pem') : undefined,
      TEMPORAL_TLS_KEY: mtls ? file('client-key.pem') : undefined,
    },
  });
  tlsConfig = server.config;
}

/** The server's address from its config; TLS as each test says (none unless given), not as the config says. */
function connect(options: Partial<ConnectionOptions>): Promise<Connection> {
  return connectTemporal(tlsConfig, { connectTimeout: 5000, tls: false, ...options });
}

const HTTP2_PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';

/**
 * The gRPC client reports every refusal as a connect deadline; a bare socket shows the reason. Resolves 'served'
 * when the server answers HTTP/2 over the handshake, else the TLS error code.
 */
function tlsHandshake(options: tls.ConnectionOptions): Promise<string> {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port: tlsConfig.temporal.port,
      servername: 'localhost',
      ALPNProtocols: ['h2'],
      ...options,
    });
    const done = (outcome: string) => {
      socket.destroy();
      resolve(outcome);
    };
    socket.setTimeout(3000, () => done('timeout'));
    // Under TLS 1.3 the server checks the client's certificate after the client's handshake is done: only the
    // first exchange shows whether it was accepted.
    socket.on('secureConnect', () => socket.write(HTTP2_PREFACE));
    socket.on('data', () => done('served'));
    socket.on('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
    socket.on('close', () => done('closed'));
  });
}

/** What the frontend answers a plaintext HTTP/2 client: a plaintext server sends its SETTINGS frame. */
function plaintextAnswer(): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port: tlsConfig.temporal.port });
    const received: Buffer[] = [];
    socket.setTimeout(3000, () => socket.destroy());
    socket.on('connect', () => socket.write(HTTP2_PREFACE));
    socket.on('data', (chunk) => received.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(Buffer.concat(received).toString('hex')));
  });
}

const ca = () => fs.readFileSync(file('ca.pem'));
const clientPair = () => ({ crt: fs.readFileSync(file('client.pem')), key: fs.readFileSync(file('client-key.pem')) });

beforeAll(() => {
  if (!fs.existsSync(TEMPORAL_SERVER_BIN)) {
    throw new Error('The full Temporal server is not built: run PROVISION_TEMPORAL_SERVER=1 infra/provision.sh');
  }
  makeServerCertificates(certs, { client: true });
});

afterAll(async () => {
  await server?.stop();
});

describe('full Temporal server with a TLS frontend', () => {
  beforeAll(() => startServer(false), 120_000);

  test('a client that trusts the CA describes the namespace, lists the search attributes and starts a workflow', async () => {
    const connection = await connect({ tls: { serverNameOverride: 'localhost', serverRootCACertificate: ca() } });
    try {
      const { namespace } = tlsConfig.temporal;
      const described = await connection.workflowService.describeNamespace({ namespace });
      expect(described.namespaceInfo?.name).toBe(namespace);
      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
      for (const sa of SEARCH_ATTRIBUTES) {
        expect(customAttributes?.[sa.name]).toBe(temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD);
      }

      // No worker polls this queue: the run stays open, which is all a start and a describe need.
      const client = temporalClient(tlsConfig, connection);
      const handle = await client.workflow.start('tlsCheckWorkflow', {
        taskQueue: `tls-check-${uniqueSuffix()}`,
        workflowId: `tls-check-${uniqueSuffix()}`,
        typedSearchAttributes: [{ key: PRISON_NUMBER, value: 'T0001LS' }],
      });
      try {
        const description = await handle.describe();
        expect(description.status.name).toBe('RUNNING');
        expect(description.typedSearchAttributes.get(PRISON_NUMBER)).toBe('T0001LS');
      } finally {
        await handle.terminate('TLS check done');
      }
    } finally {
      await connection.close();
    }
  });

  test('a plaintext client is refused', async () => {
    await expect(connect({ connectTimeout: 3000 })).rejects.toThrow();
    // The frontend hangs up on anything that does not open with a TLS handshake, without a byte of HTTP/2.
    expect(await plaintextAnswer()).toBe('');
  });
});

describe('full Temporal server with an mTLS frontend', () => {
  beforeAll(() => startServer(true), 120_000);

  test('a client with a certificate signed by the CA is served', async () => {
    const connection = await connect({
      tls: { serverNameOverride: 'localhost', serverRootCACertificate: ca(), clientCertPair: clientPair() },
    });
    try {
      const described = await connection.workflowService.describeNamespace({ namespace: tlsConfig.temporal.namespace });
      expect(described.namespaceInfo?.name).toBe(tlsConfig.temporal.namespace);
    } finally {
      await connection.close();
    }
  });

  test('a client without a certificate is refused', async () => {
    const attempt = async () => {
      const connection = await connect({
        connectTimeout: 3000,
        tls: { serverNameOverride: 'localhost', serverRootCACertificate: ca() },
      });
      // TLS 1.3 finishes the client's side of the handshake before the server checks for a certificate.
      try {
        await connection.workflowService.describeNamespace({ namespace: tlsConfig.temporal.namespace });
      } finally {
        await connection.close();
      }
    };
    await expect(attempt()).rejects.toThrow();
    expect(await tlsHandshake({ ca: ca() })).toBe('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
    expect(await tlsHandshake({ ca: ca(), cert: clientPair().crt, key: clientPair().key })).toBe('served');
  });

  test('a plaintext client is refused', async () => {
    await expect(connect({ connectTimeout: 3000 })).rejects.toThrow();
    // The frontend hangs up on anything that does not open with a TLS handshake, without a byte of HTTP/2.
    expect(await plaintextAnswer()).toBe('');
  });
});
