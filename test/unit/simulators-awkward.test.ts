import { nomisAlertEventSchema } from '../../common/contract';
import { useUnitSimulators } from '../helpers/simulators';

// Legal-but-awkward upstream behaviours a test can switch on (simulators/awkward.ts).

const unit = useUnitSimulators();
const { call } = unit;

describe('awkward upstream behaviour (switchable)', () => {
  const nomisEvents = (key: string) => unit.sims.events.recent({ topic: 'offenderEvents', key }).map((e) => e.value);

  test('well-behaved by default: sequences never come back, events name their module', async () => {
    await unit.control.createPrisoner({ offenderNo: 'A5001AA', alerts: [] });
    const first = await unit.control.addNomisAlert('A5001AA', { alertCode: 'XA' });
    await unit.control.deleteNomisAlert(first.bookingId, first.alertSequence);
    const second = await unit.control.addNomisAlert('A5001AA', { alertCode: 'HA' });
    expect(second.alertSequence).toBe(first.alertSequence + 1);
    expect(nomisEvents('A5001AA').every((e) => e.auditModuleName === 'OIDALERT')).toBe(true);
  });

  test('NOMIS reuses the highest sequence after a delete, as the real one does (max + 1)', async () => {
    await unit.control.setAwkward({ reuseAlertSequences: true });
    await unit.control.createPrisoner({ offenderNo: 'A5002AA', alerts: [{ alertCode: 'VI' }] });
    const first = await unit.control.addNomisAlert('A5002AA', { alertCode: 'XA' });
    await unit.control.deleteNomisAlert(first.bookingId, first.alertSequence);
    const second = await unit.control.addNomisAlert('A5002AA', { alertCode: 'HA' });
    expect(second.alertSequence).toBe(first.alertSequence);
    expect(
      (await call('nomis', 'GET', `/prisoners/booking-id/${first.bookingId}/alerts/${first.alertSequence}`)).body,
    ).toMatchObject({ alertCode: { code: 'HA' } });
  });

  test('NOMIS events can leave auditModuleName out; the alert still records it', async () => {
    await unit.control.setAwkward({ omitAuditModuleName: true });
    await unit.control.createPrisoner({ offenderNo: 'A5003AA', alerts: [] });
    const created = await unit.control.addNomisAlert('A5003AA', { alertCode: 'XA' });
    const [event] = nomisEvents('A5003AA');
    expect(event).toMatchObject({ eventType: 'ALERT-INSERTED', alertSeq: created.alertSequence });
    expect(event).not.toHaveProperty('auditModuleName');
    expect(nomisAlertEventSchema.safeParse(event).success).toBe(true);
    expect(created.audit.auditModuleName).toBe('OIDALERT');
  });

  test('switches are reported, changed one at a time, and reset with everything else', async () => {
    expect(await unit.control.setAwkward({ redeliveryRate: 0.5 })).toEqual({
      reuseAlertSequences: false,
      omitAuditModuleName: false,
      redeliveryRate: 0.5,
    });
    await unit.control.reset();
    expect(await unit.control.setAwkward({})).toEqual({
      reuseAlertSequences: false,
      omitAuditModuleName: false,
      redeliveryRate: 0,
    });
  });

  test('a fault rule can answer with a body that breaks the contract', async () => {
    await unit.control.createPrisoner({ offenderNo: 'A5004AA' });
    await unit.control.setFaults([
      { api: 'nomis', path: 'A5004AA/alerts/to-migrate', body: { latestBookingAlerts: 'x' } },
    ]);
    const response = await call('nomis', 'GET', '/prisoners/A5004AA/alerts/to-migrate');
    expect(response).toMatchObject({ status: 200, body: { latestBookingAlerts: 'x' } });
  });
});
