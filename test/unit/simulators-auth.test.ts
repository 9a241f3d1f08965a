import { tokenResponseSchema } from '../../common/contract';
import { startSimulators } from '../../simulators';
import { useUnitSimulators } from '../helpers/simulators';

// HMPPS Auth (contract §2): tokens for the right credentials, and 401/403 from the APIs without them.

const unit = useUnitSimulators();
const { call, tokenFor } = unit;

describe('auth (contract §2)', () => {
  test('client credentials give a bearer token; bad or missing credentials get 401', async () => {
    const ok = await fetch(`${unit.sims.urls.auth}/auth/oauth/token?grant_type=client_credentials`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('alerts-sync:alerts-sync-secret').toString('base64')}` },
    });
    expect(ok.status).toBe(200);
    expect(tokenResponseSchema.parse(await ok.json())).toMatchObject({ token_type: 'bearer', expires_in: 1200 });

    const wrong = await fetch(`${unit.sims.urls.auth}/auth/oauth/token?grant_type=client_credentials`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('alerts-sync:nope').toString('base64')}` },
    });
    expect(wrong.status).toBe(401);
    const missing = await fetch(`${unit.sims.urls.auth}/auth/oauth/token?grant_type=client_credentials`, {
      method: 'POST',
    });
    expect(missing.status).toBe(401);
  });

  test('APIs answer 401 without a valid token and 403 without the role', async () => {
    await unit.control.createPrisoner({ offenderNo: 'A1000AA', alerts: [{ alertCode: 'XA' }] });
    const path = '/prisoners/A1000AA/alerts/to-migrate';
    expect((await call('nomis', 'GET', path, { token: null })).status).toBe(401);
    expect((await call('nomis', 'GET', path, { token: 'made-up' })).status).toBe(401);
    const dpsOnly = await tokenFor('dps-only', 'dps-only-secret');
    expect((await call('nomis', 'GET', path, { token: dpsOnly })).status).toBe(403);
    expect((await call('dps', 'GET', '/prisoners/A1000AA/alerts', { token: dpsOnly })).status).toBe(200);
    expect((await call('nomis', 'GET', path)).status).toBe(200);

    const token = await tokenFor();
    await unit.control.expireTokens();
    expect((await call('nomis', 'GET', path, { token })).status).toBe(401);
  });

  test('a token stops working when it expires', async () => {
    const shortLived = await startSimulators({ kafka: null, tokenTtlSeconds: 0.3 });
    try {
      const token = await tokenFor('alerts-sync', 'alerts-sync-secret', shortLived.urls.auth);
      const get = () =>
        fetch(`${shortLived.urls.dps}/prisoners/A1000AA/alerts`, { headers: { authorization: `Bearer ${token}` } });
      expect((await get()).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect((await get()).status).toBe(401);
    } finally {
      await shortLived.close();
    }
  });
});
