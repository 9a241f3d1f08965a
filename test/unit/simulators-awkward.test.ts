import { nomisAlertEventSchema } from '../../common/contract';
import type { Simulators } from '../../simulators';
import type { SimulatorControl } from '../../simulators/control-client';
import { simulatorRequests, startUnitSimulators } from '../helpers/simulators';

// Legal-but-awkward upstream behaviours a test can switch on (simulators/awkward.ts).

let sims: Simulators;
let control: SimulatorControl;
const { call } = simulatorRequests(() => sims);

beforeAll(async () => {
  ({ sims, control } = await startUnitSimulators());
});
afterAll(async () => {
  await control?.close();
  await sims?.close();
});
beforeEach(async () => {
  await control.reset();
});

describe('awkward upstream behaviour (switchable)', () => {
  const nomisEvents = (key: string) => sims.events.recent({ topic: 'offenderEvents', key }).map((e) => e.value);

  test('well-behaved by default: sequences never come back, events name their module', async () => {
    await control.createPrisoner({ offenderNo: 'A5001AA', alerts: [] });
    const first = await control.addNomisAlert('A5001AA', { alertCode: 'XA' });
    await control.deleteNomisAlert(first.bookingId, first.alertSequence);
    const second = await control.addNomisAlert('A5001AA', { alertCode: 'HA' });
    expect(second.alertSequence).toBe(first.alertSequence + 1);
    expect(nomisEvents('A5001AA').every((e) => e.auditModuleName === 'OIDALERT')).toBe(true);
  });

  test('NOMIS reuses the highest sequence after a delete, as the real one does (max + 1)', async () => {
    await control.setAwkward({ reuseAlertSequences: true });
    await control.createPrisoner({ offenderNo: 'A5002AA', alerts: [{ alertCode: 'VI' }] });
    const first = await control.addNomisAlert('A5002AA', { alertCode: 'XA' });
    await control.deleteNomisAlert(first.bookingId, first.alertSequence);
    const second = await control.addNomisAlert('A5002AA', { alertCode: 'HA' });
    expect(second.alertSequence).toBe(first.alertSequence);
    expect(
      (await call('nomis', 'GET', `/prisoners/booking-id/${first.bookingId}/alerts/${first.alertSequence}`)).body,
    ).toMatchObject({ alertCode: { code: 'HA' } });
  });

  test('NOMIS events can leave auditModuleName out; the alert still records it', async () => {
    await control.setAwkward({ omitAuditModuleName: true });
    await control.createPrisoner({ offenderNo: 'A5003AA', alerts: [] });
    const created = await control.addNomisAlert('A5003AA', { alertCode: 'XA' });
    const [event] = nomisEvents('A5003AA');
    expect(event).toMatchObject({ eventType: 'ALERT-INSERTED', alertSeq: created.alertSequence });
    expect(event).not.toHaveProperty('auditModuleName');
    expect(nomisAlertEventSchema.safeParse(event).success).toBe(true);
    expect(created.audit.auditModuleName).toBe('OIDALERT');
  });

  test('switches are reported, changed one at a time, and reset with everything else', async () => {
    expect(await control.setAwkward({ redeliveryRate: 0.5 })).toEqual({
      reuseAlertSequences: false,
      omitAuditModuleName: false,
      redeliveryRate: 0.5,
    });
    await control.reset();
    expect(await control.setAwkward({})).toEqual({
      reuseAlertSequences: false,
      omitAuditModuleName: false,
      redeliveryRate: 0,
    });
  });

  test('a fault rule can answer with a body that breaks the contract', async () => {
    await control.createPrisoner({ offenderNo: 'A5004AA' });
    await control.setFaults([{ api: 'nomis', path: 'A5004AA/alerts/to-migrate', body: { latestBookingAlerts: 'x' } }]);
    const response = await call('nomis', 'GET', '/prisoners/A5004AA/alerts/to-migrate');
    expect(response).toMatchObject({ status: 200, body: { latestBookingAlerts: 'x' } });
  });
});
