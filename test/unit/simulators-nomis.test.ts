import {
  activePrisonerIdsPageSchema,
  createNomisAlertResponseSchema,
  nomisAlertEventSchema,
  nomisAlertSchema,
  nomisAlertsToMigrateSchema,
} from '../../common/contract';
import { message, useUnitSimulators } from '../helpers/simulators';

// The NOMIS Prisoner API (contract §3) and NOMIS users' alert changes: shapes, status codes, audit, events.

const unit = useUnitSimulators();
const { call } = unit;

describe('NOMIS (contract §3)', () => {
  test('active prisoner ids: pages by current booking, optionally one prison, without those with no booking', async () => {
    for (const [offenderNo, prisonId] of [
      ['A1001AA', 'MDI'],
      ['A1002AA', 'LEI'],
      ['A1003AA', 'MDI'],
      ['A1004AA', 'MDI'],
    ] as const) {
      await unit.control.createPrisoner({ offenderNo, prisonId });
    }
    // A1004AA's only booking goes to A1002AA: A1004AA is no longer in prison, A1002AA's current is now at MDI.
    const { currentBookingId } = await unit.control.getPrisoner('A1004AA');
    await unit.control.moveBooking({ bookingId: currentBookingId!, from: 'A1004AA', to: 'A1002AA' });

    const all = await call('nomis', 'GET', '/prisoners/ids/active?page=0&size=2');
    expect(all.status).toBe(200);
    const page = activePrisonerIdsPageSchema.parse(all.body);
    expect(page).toMatchObject({ totalElements: 3, totalPages: 2, number: 0, size: 2 });
    const second = activePrisonerIdsPageSchema.parse(
      (await call('nomis', 'GET', '/prisoners/ids/active?page=1&size=2')).body,
    );
    expect([...page.content, ...second.content].map((p) => p.offenderNo)).toEqual(['A1001AA', 'A1003AA', 'A1002AA']);

    const mdi = activePrisonerIdsPageSchema.parse(
      (await call('nomis', 'GET', '/prisoners/ids/active?prisonId=MDI&size=10')).body,
    );
    expect(mdi.content.map((p) => p.offenderNo)).toEqual(['A1001AA', 'A1003AA', 'A1002AA']);
    const lei = activePrisonerIdsPageSchema.parse(
      (await call('nomis', 'GET', '/prisoners/ids/active?prisonId=LEI')).body,
    );
    expect(lei.content).toEqual([]);

    const bad = await call('nomis', 'GET', '/prisoners/ids/active?size=0');
    expect(bad.status).toBe(400);
    expect(message(bad.body)).toContain('size');
  });

  test('to-migrate: 404 for an unknown prisoner and for one without a booking', async () => {
    expect((await call('nomis', 'GET', '/prisoners/Z9999ZZ/alerts/to-migrate')).status).toBe(404);
    const prisoner = await unit.control.createPrisoner({ offenderNo: 'A1001AA' });
    await unit.control.moveBooking({ bookingId: prisoner.currentBookingId!, from: 'A1001AA', to: 'A1002AA' });
    expect((await call('nomis', 'GET', '/prisoners/A1001AA/alerts/to-migrate')).status).toBe(404);
  });

  test('to-migrate: the current booking is latest, the others previous, with bookingSequence by recency', async () => {
    await unit.control.createPrisoner({
      offenderNo: 'A1003AA',
      previousBookings: [{ alerts: [{ alertCode: 'HS', date: '2020-01-01' }] }],
      alerts: [
        { alertCode: 'XA', date: '2024-01-10', comment: 'set fire to cell', authorisedBy: 'Gov Smith' },
        { alertCode: 'HA', date: '2023-01-01', expiryDate: '2023-06-01' },
      ],
    });
    const response = await call('nomis', 'GET', '/prisoners/A1003AA/alerts/to-migrate');
    expect(response.status).toBe(200);
    const { latestBookingAlerts, previousBookingsAlerts } = nomisAlertsToMigrateSchema.parse(response.body);
    expect(latestBookingAlerts.map((a) => [a.alertCode.code, a.alertSequence, a.bookingSequence, a.isActive])).toEqual([
      ['XA', 1, 1, true],
      ['HA', 2, 1, false],
    ]);
    expect(latestBookingAlerts[0]).toMatchObject({
      type: { code: 'X', description: 'Security' },
      comment: 'set fire to cell',
      audit: { auditModuleName: 'OIDALERT' },
    });
    expect(previousBookingsAlerts.map((a) => [a.alertCode.code, a.bookingSequence])).toEqual([['HS', 2]]);
    expect(previousBookingsAlerts[0]!.bookingId).toBeLessThan(latestBookingAlerts[0]!.bookingId);
  });

  test('create, read, update and delete through the API are audited as the sync and publish events', async () => {
    await unit.control.createPrisoner({ offenderNo: 'A1004AA' });
    const created = await call('nomis', 'POST', '/prisoners/A1004AA/alerts', {
      body: { alertCode: 'XSA', date: '2024-06-01', isActive: true, comment: 'hit officer', createUsername: 'SYNC' },
    });
    expect(created.status).toBe(201);
    const { bookingId, alertSequence, type } = createNomisAlertResponseSchema.parse(created.body);
    expect(type).toEqual({ code: 'X', description: 'Security' });

    const duplicate = await call('nomis', 'POST', '/prisoners/A1004AA/alerts', {
      body: { alertCode: 'XSA', date: '2024-06-02', isActive: true, createUsername: 'SYNC' },
    });
    expect(duplicate.status).toBe(409);

    const path = `/prisoners/booking-id/${bookingId}/alerts/${alertSequence}`;
    const updated = await call('nomis', 'PUT', path, {
      body: { date: '2024-06-01', isActive: false, expiryDate: '2024-07-01', updateUsername: 'SYNC2' },
    });
    expect(updated.status).toBe(200);
    expect(nomisAlertSchema.parse(updated.body)).toMatchObject({
      isActive: false,
      expiryDate: '2024-07-01',
      comment: null,
      audit: { createUsername: 'SYNC', modifyUserId: 'SYNC2', auditModuleName: 'DPS_SYNCHRONISATION' },
    });
    expect(nomisAlertSchema.parse((await call('nomis', 'GET', path)).body).isActive).toBe(false);

    expect((await call('nomis', 'DELETE', path)).status).toBe(204);
    expect((await call('nomis', 'DELETE', path)).status).toBe(204);
    expect((await call('nomis', 'GET', path)).status).toBe(404);

    const events = unit.sims.events.recent({ topic: 'offenderEvents', key: 'A1004AA' }).map((e) => e.value);
    expect(events.map((e) => nomisAlertEventSchema.parse(e))).toEqual([
      expect.objectContaining({ eventType: 'ALERT-INSERTED', bookingId, alertSeq: alertSequence, alertType: 'X' }),
      expect.objectContaining({ eventType: 'ALERT-UPDATED', alertCode: 'XSA' }),
      expect.objectContaining({ eventType: 'ALERT-DELETED', offenderIdDisplay: 'A1004AA' }),
    ]);
    expect(events.every((e) => e.auditModuleName === 'DPS_SYNCHRONISATION')).toBe(true);
    expect(String(events[0]!.eventDatetime)).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
  });

  test('bad requests name the field; unknown prisoner and alert are 404', async () => {
    await unit.control.createPrisoner({ offenderNo: 'A1005AA' });
    const missing = await call('nomis', 'POST', '/prisoners/A1005AA/alerts', {
      body: { date: '2024-06-01', isActive: true, createUsername: 'SYNC' },
    });
    expect(missing.status).toBe(400);
    expect(message(missing.body)).toBe('alertCode: Required');
    const unknownCode = await call('nomis', 'POST', '/prisoners/A1005AA/alerts', {
      body: { alertCode: 'ZZZ', date: '2024-06-01', isActive: true, createUsername: 'SYNC' },
    });
    expect(unknownCode.status).toBe(400);
    expect(message(unknownCode.body)).toMatch(/^alertCode: unknown alert code/);
    const unknownPrisoner = await call('nomis', 'POST', '/prisoners/Z9999ZZ/alerts', {
      body: { alertCode: 'XA', date: '2024-06-01', isActive: true, createUsername: 'SYNC' },
    });
    expect(unknownPrisoner.status).toBe(404);
    const badPut = await call('nomis', 'PUT', '/prisoners/booking-id/1200000/alerts/1', {
      body: { date: 'yesterday', isActive: true, updateUsername: 'SYNC' },
    });
    expect(badPut.status).toBe(400);
    expect(message(badPut.body)).toContain('date: must be a date');
    const putMissing = await call('nomis', 'PUT', '/prisoners/booking-id/1200000/alerts/9', {
      body: { date: '2024-06-01', isActive: true, updateUsername: 'SYNC' },
    });
    expect(putMissing.status).toBe(404);
  });

  test('NOMIS users change alerts with audit module OIDALERT', async () => {
    await unit.control.createPrisoner({ offenderNo: 'A1006AA' });
    const added = await unit.control.addNomisAlert('A1006AA', { alertCode: 'HA', date: '2024-03-01' });
    const updated = await unit.control.updateNomisAlert(added.bookingId, added.alertSequence, { comment: 'reviewed' });
    expect(updated).toMatchObject({ date: '2024-03-01', comment: 'reviewed', audit: { auditModuleName: 'OIDALERT' } });
    await unit.control.deleteNomisAlert(added.bookingId, added.alertSequence);
    const events = unit.sims.events.recent({ topic: 'offenderEvents', key: 'A1006AA' }).map((e) => e.value);
    expect(events.map((e) => [e.eventType, e.auditModuleName])).toEqual([
      ['ALERT-INSERTED', 'OIDALERT'],
      ['ALERT-UPDATED', 'OIDALERT'],
      ['ALERT-DELETED', 'OIDALERT'],
    ]);
  });
});
