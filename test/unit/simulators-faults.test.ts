import { useUnitSimulators } from '../helpers/simulators';

// Fault injection on the contract APIs, as the end-to-end tests drive it (simulators/faults.ts).

const unit = useUnitSimulators();
const { call, tokenFor } = unit;

describe('fault injection', () => {
  test('status, times and Retry-After apply to API calls only, and are counted', async () => {
    await unit.control.setFaults([
      { api: 'dps', method: 'get', path: '^/prisoners/', status: 429, times: 2, retryAfterSeconds: 3 },
    ]);
    const path = '/prisoners/A4001AA/alerts';
    const first = await call('dps', 'GET', path);
    expect(first.status).toBe(429);
    expect(first.headers.get('retry-after')).toBe('3');
    expect((await call('dps', 'GET', path)).status).toBe(429);
    expect((await call('dps', 'GET', path)).status).toBe(200);
    // Other methods and paths, and the control API, are untouched.
    expect((await call('dps', 'POST', '/resync/A4001AA/alerts', { body: [] })).status).toBe(201);
    expect((await unit.control.state()).faults).toMatchObject({
      rules: [{ fired: 2, remaining: 0 }],
      requests: { 'dps GET /prisoners/:prisonNumber/alerts': 3, 'dps POST /resync/:prisonNumber/alerts': 1 },
      faultsInjected: { 'dps GET /prisoners/:prisonNumber/alerts': 2 },
    });
  });

  test('a rule without a status is a 503; auth can fail too', async () => {
    await unit.control.setFaults([{ api: 'auth' }]);
    const response = await fetch(`${unit.sims.urls.auth}/auth/oauth/token?grant_type=client_credentials`, {
      method: 'POST',
    });
    expect(response.status).toBe(503);
    await unit.control.clearFaults();
    expect(await tokenFor()).toBeTruthy();
  });

  test('latency slows a call that then succeeds; hang never answers', async () => {
    await unit.control.createPrisoner({ offenderNo: 'A4002AA' });
    const token = await tokenFor();
    await unit.control.setFaults([
      { api: 'nomis', path: 'to-migrate', latencyMs: 300, status: 200 },
      { api: 'nomis', path: '/alerts/1$', hang: true },
    ]);
    const started = Date.now();
    const slow = await call('nomis', 'GET', '/prisoners/A4002AA/alerts/to-migrate', { token });
    expect(slow.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    await expect(
      call('nomis', 'GET', '/prisoners/booking-id/1200000/alerts/1', { token, timeoutMs: 300 }),
    ).rejects.toThrow();
  });

  test('an error rate is repeatable for a given seed', async () => {
    const run = async () => {
      await unit.control.setFaults([{ api: 'dps', errorRate: 0.5 }], 7);
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) statuses.push((await call('dps', 'GET', '/prisoners/A4003AA/alerts')).status);
      return statuses;
    };
    const first = await run();
    expect(first).toContain(503);
    expect(first).toContain(200);
    expect(await run()).toEqual(first);
  });
});
