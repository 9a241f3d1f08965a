import type { AddressInfo } from 'node:net';
import type { Payload } from '@temporalio/common';
import { defaultPayloadConverter } from '@temporalio/common';
import http from 'node:http';
import type { ApplicationFailure } from '@temporalio/common';
import { toActivityFailure } from '../../activities/failures';
import { ApiError, JsonApiClient } from '../../adapters/http';
import { AesGcmPayloadCodec, isEncrypted } from '../../adapters/payload-codec';
import { createCodecServer } from '../../clients/codec/server';
import { ConfigError, assertReadyForProduction, loadConfig, productionProblems } from '../../common/config';

const key = (fill: number) => Buffer.alloc(32, fill);
const OLD = { id: 'k-2025', key: key(1) };
const NEW = { id: 'k-2026', key: key(2) };
const alert = { comment: 'set fire to cell', authorisedBy: 'Gov Smith' };
const payloadOf = (value: unknown): Payload => defaultPayloadConverter.toPayload(value)!;

describe('AES-256-GCM payload codec', () => {
  test('round trip: ciphertext on the wire, the original payload back', async () => {
    const codec = new AesGcmPayloadCodec([NEW], NEW.id);
    const [sealed] = await codec.encode([payloadOf(alert)]);
    expect(isEncrypted(sealed!)).toBe(true);
    expect(Buffer.from(sealed!.data!).includes('set fire')).toBe(false);
    expect(Buffer.from(sealed!.metadata!['encryption-key-id']!).toString()).toBe('k-2026');
    const [opened] = await codec.decode([sealed!]);
    expect(defaultPayloadConverter.fromPayload(opened!)).toEqual(alert);
  });

  test('rotation: a payload sealed with the old key opens while the new one encrypts', async () => {
    const [sealedOld] = await new AesGcmPayloadCodec([OLD], OLD.id).encode([payloadOf(alert)]);
    const rotated = new AesGcmPayloadCodec([NEW, OLD], NEW.id);
    expect(defaultPayloadConverter.fromPayload((await rotated.decode([sealedOld!]))[0]!)).toEqual(alert);
    const [sealedNew] = await rotated.encode([payloadOf(alert)]);
    expect(Buffer.from(sealedNew!.metadata!['encryption-key-id']!).toString()).toBe('k-2026');
  });

  test('a key that is not configured, or a tampered ciphertext, is refused', async () => {
    const [sealed] = await new AesGcmPayloadCodec([OLD], OLD.id).encode([payloadOf(alert)]);
    await expect(new AesGcmPayloadCodec([NEW], NEW.id).decode([sealed!])).rejects.toThrow(/key "k-2025"/);
    const tampered = { ...sealed!, data: Uint8Array.from(sealed!.data!, (b, i) => (i === 20 ? b ^ 1 : b)) };
    await expect(new AesGcmPayloadCodec([OLD], OLD.id).decode([tampered])).rejects.toThrow();
  });

  test('payloads written before encryption pass through (old histories stay readable)', async () => {
    const plain = payloadOf(alert);
    expect(await new AesGcmPayloadCodec([NEW], NEW.id).decode([plain])).toEqual([plain]);
  });
});

describe('codec server', () => {
  const origin = 'http://127.0.0.1:8233';
  let url: string;
  let close: () => void;
  const codec = new AesGcmPayloadCodec([NEW], NEW.id);
  beforeAll(async () => {
    const server = createCodecServer({ codec, corsOrigins: [origin], token: 'op-token' });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => server.close();
  });
  afterAll(() => close());

  const toJson = (p: Payload) => ({
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
    ),
    data: Buffer.from(p.data ?? []).toString('base64'),
  });
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer op-token', origin, ...headers },
      body: JSON.stringify(body),
    });

  test('decodes what the workers encoded, for the Web UI origin, with CORS headers', async () => {
    const [sealed] = await codec.encode([payloadOf(alert)]);
    const response = await post('/decode', { payloads: [toJson(sealed!)] });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(origin);
    const body = (await response.json()) as { payloads: Array<{ data: string }> };
    expect(JSON.parse(Buffer.from(body.payloads[0]!.data, 'base64').toString())).toEqual(alert);
  });

  test('encode then decode gives the payload back', async () => {
    const encoded = (await (await post('/encode', { payloads: [toJson(payloadOf(alert))] })).json()) as {
      payloads: unknown[];
    };
    const decoded = (await (await post('/decode', encoded)).json()) as { payloads: Array<{ data: string }> };
    expect(JSON.parse(Buffer.from(decoded.payloads[0]!.data, 'base64').toString())).toEqual(alert);
  });

  test('no token or a wrong one: 401; another origin: 403; preflight answered without a token', async () => {
    expect((await post('/decode', { payloads: [] }, { authorization: '' })).status).toBe(401);
    expect((await post('/decode', { payloads: [] }, { authorization: 'Bearer nope' })).status).toBe(401);
    expect((await post('/decode', { payloads: [] }, { origin: 'https://evil.example' })).status).toBe(403);
    const preflight = await fetch(`${url}/decode`, { method: 'OPTIONS', headers: { origin } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toContain('Authorization');
  });

  test('a bad body is refused naming the field', async () => {
    const response = await post('/decode', { payloads: [{ data: 'not base64!' }] });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toContain('payloads.0.data');
  });
});

describe('production refuses default credentials', () => {
  test('each missing setting is named, all at once', () => {
    const config = loadConfig({ NODE_ENV: 'production' });
    expect(productionProblems(config, ['apis', 'database', 'encryption', 'codecServer', 'temporal', 'kafka'])).toEqual([
      expect.stringContaining('API_CLIENT_SECRET'),
      expect.stringContaining('DATABASE_URL'),
      expect.stringContaining('PAYLOAD_ENCRYPTION_KEYS'),
      expect.stringContaining('CODEC_SERVER_TOKEN'),
      expect.stringContaining('TEMPORAL_TLS'),
      expect.stringContaining('KAFKA_SSL'),
    ]);
    expect(() => assertReadyForProduction(config, ['encryption'])).toThrow(ConfigError);
  });

  test('with real settings it starts; development never refuses', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      API_CLIENT_SECRET: 'real',
      DATABASE_URL: 'postgres://app:pw@db:5432/alerts',
      PAYLOAD_ENCRYPTION_KEYS: `k1=${key(9).toString('base64')}`,
      CODEC_SERVER_TOKEN: 't',
      TEMPORAL_API_KEY: 'cloud-key',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'u',
      KAFKA_SASL_PASSWORD: 'p',
    });
    expect(productionProblems(config, ['apis', 'database', 'encryption', 'codecServer', 'temporal', 'kafka'])).toEqual(
      [],
    );
    expect(config.temporal.tls.enabled).toBe(true);
    expect(productionProblems(loadConfig({}), ['apis', 'encryption'])).toEqual([]);
  });

  test('bad security settings are named', () => {
    expect(() => loadConfig({ PAYLOAD_ENCRYPTION_KEYS: 'k1=c2hvcnQ=' })).toThrow(/PAYLOAD_ENCRYPTION_KEYS/);
    expect(() => loadConfig({ KAFKA_SASL_MECHANISM: 'scram-sha-512' })).toThrow(/KAFKA_SASL_USERNAME/);
    expect(() => loadConfig({ KAFKA_SASL_MECHANISM: 'kerberos' })).toThrow(/KAFKA_SASL_MECHANISM/);
    expect(() => loadConfig({ TEMPORAL_TLS: 'yes' })).toThrow(/TEMPORAL_TLS must be on or off/);
  });
});

test('an API error keeps the response body (which may quote alert text) out of the plaintext message', async () => {
  const server = http.createServer((_req, res) => {
    res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ userMessage: alert.comment }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new JsonApiClient(
    'DPS',
    `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    undefined,
    2000,
  );
  try {
    const err = await client.request({ method: 'POST', path: '/resync/A1234BC/alerts', body: [] }).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.message).toBe('DPS POST /resync/A1234BC/alerts returned 400');
    const failure = toActivityFailure(err) as ApplicationFailure;
    expect(failure.message).not.toContain(alert.comment);
    // The details are payloads, so the codec encrypts them; the UI shows them decoded.
    expect(JSON.stringify(failure.details)).toContain(alert.comment);
  } finally {
    await client.close();
    server.close();
  }
});
