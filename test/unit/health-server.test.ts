import type { HealthServer } from '../../adapters/health-server';
import { PROMETHEUS_CONTENT_TYPE, startHealthServer } from '../../adapters/health-server';
import { cached, deadLetterCategory, partitionLags } from '../../adapters/metrics';

let ready = false;
let server: HealthServer;
const url = (path: string) => `http://127.0.0.1:${server.port}${path}`;

beforeAll(async () => {
  server = await startHealthServer({
    port: 0,
    host: '127.0.0.1',
    live: () => true,
    ready: async () => (ready ? { ready: true } : { ready: false, why: 'not connected to Temporal yet' }),
    metrics: async () => 'alerts_sync_up 1\n',
  });
});
afterAll(() => server.close());

test('liveness is 200 while the process lives', async () => {
  const res = await fetch(url('/health/liveness'));
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ status: 'UP' });
});

test('readiness is 503 with the reason until ready, then 200', async () => {
  ready = false;
  const down = await fetch(url('/health/readiness'));
  expect(down.status).toBe(503);
  expect(await down.json()).toEqual({ status: 'DOWN', why: 'not connected to Temporal yet' });
  ready = true;
  expect((await fetch(url('/health/readiness'))).status).toBe(200);
});

test('/metrics is Prometheus text', async () => {
  const res = await fetch(url('/metrics'));
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe(PROMETHEUS_CONTENT_TYPE);
  expect(await res.text()).toBe('alerts_sync_up 1\n');
});

test('any other path is 404', async () => {
  expect((await fetch(url('/'))).status).toBe(404);
  expect((await fetch(url('/health'))).status).toBe(404);
});

test('a readiness check that throws is a 503, not a crash', async () => {
  const failing = await startHealthServer({
    port: 0,
    host: '127.0.0.1',
    live: () => true,
    ready: () => Promise.reject(new Error('boom')),
    metrics: async () => '',
  });
  try {
    const res = await fetch(`http://127.0.0.1:${failing.port}/health/readiness`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'DOWN', why: 'boom' });
  } finally {
    await failing.close();
  }
});

test('consumer lag: high watermark minus committed offset, from the start when nothing is committed', () => {
  expect(
    partitionLags(
      't',
      [
        { partition: 0, high: '10', low: '0' },
        { partition: 1, high: '7', low: '2' },
      ],
      [
        { partition: 0, offset: '4' },
        { partition: 1, offset: '-1' },
      ],
    ),
  ).toEqual([
    { topic: 't', partition: 0, lag: 6 },
    { topic: 't', partition: 1, lag: 5 },
  ]);
});

test('dead-letter reasons become a few bounded categories', () => {
  expect(deadLetterCategory('value is not JSON: Unexpected token')).toBe('not-json');
  expect(deadLetterCategory('prisoner.merged does not match the contract: x')).toBe('contract-violation');
  expect(deadLetterCategory('Temporal refused the sync request for A1234BC: INVALID_ARGUMENT')).toBe(
    'temporal-refused',
  );
});

test('cached calls through once per period and retries after a failure', async () => {
  let calls = 0;
  const get = cached(60_000, async () => {
    calls++;
    if (calls === 1) throw new Error('first fails');
    return calls;
  });
  await expect(get()).rejects.toThrow('first fails');
  await new Promise((resolve) => setImmediate(resolve));
  expect(await get()).toBe(2);
  expect(await get()).toBe(2);
});
