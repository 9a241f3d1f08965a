import {
  bookingMovedEventSchema,
  nomisAlertSchema,
  prisonerMergedEventSchema,
  prisonerReceivedEventSchema,
} from '../../common/contract';
import { useUnitSimulators } from '../helpers/simulators';

// NOMIS staff's whole-prisoner changes (admission, recall correction, booking move, merge) and their events.

const unit = useUnitSimulators();
const { call, domainEvents } = unit;

describe('NOMIS prisoner-level operations', () => {
  test('a new booking becomes current with copies of the active alerts only', async () => {
    const before = await unit.control.createPrisoner({
      offenderNo: 'A2001AA',
      alerts: [
        { alertCode: 'XA', date: '2024-01-10', comment: 'arson' },
        { alertCode: 'HA', date: '2023-01-01', expiryDate: '2023-06-01', isActive: false },
        { alertCode: 'VI', date: '2024-02-01' },
      ],
    });
    const result = await unit.control.newBooking('A2001AA', 'LEI');
    expect(result.previousBookingId).toBe(before.currentBookingId);
    expect(result.bookingId).toBeGreaterThan(before.currentBookingId!);
    const { latestBookingAlerts, previousBookingsAlerts } = await unit.control.getNomisAlertsToMigrate('A2001AA');
    expect(latestBookingAlerts.map((a) => [a.bookingId, a.alertSequence, a.alertCode.code, a.date, a.comment])).toEqual(
      [
        [result.bookingId, 1, 'XA', '2024-01-10', 'arson'],
        [result.bookingId, 2, 'VI', '2024-02-01', null],
      ],
    );
    expect(previousBookingsAlerts).toHaveLength(3);
    expect(previousBookingsAlerts.every((a) => a.bookingSequence === 2)).toBe(true);
    const [event] = domainEvents('A2001AA');
    expect(prisonerReceivedEventSchema.parse(event).additionalInformation).toEqual({
      nomsNumber: 'A2001AA',
      reason: 'NEW_ADMISSION',
      prisonId: 'LEI',
    });
    // The copies are part of the admission, announced by `received`; no alert-level events.
    expect(unit.sims.events.recent({ topic: 'offenderEvents', key: 'A2001AA' })).toEqual([]);
  });

  test('receiving onto a previous booking makes it current again', async () => {
    await unit.control.createPrisoner({
      offenderNo: 'A2002AA',
      previousBookings: [{ alerts: [{ alertCode: 'XSA', date: '2022-01-01' }] }, { alerts: [] }],
      alerts: [{ alertCode: 'VI', date: '2024-01-01' }],
    });
    const [oldest, middle, current] = [1_200_000, 1_200_001, 1_200_002];
    const result = await unit.control.receiveOntoPreviousBooking('A2002AA');
    expect(result).toMatchObject({ bookingId: middle, previousCurrentBookingId: current });
    const chosen = await unit.control.receiveOntoPreviousBooking('A2002AA', oldest);
    expect(chosen.prisoner.bookings.map((b) => [b.bookingId, b.bookingSequence])).toEqual([
      [oldest, 1],
      [current, 2],
      [middle, 3],
    ]);
    const { latestBookingAlerts } = await unit.control.getNomisAlertsToMigrate('A2002AA');
    expect(latestBookingAlerts.map((a) => a.alertCode.code)).toEqual(['XSA']);
    expect(
      domainEvents('A2002AA').map((e) => prisonerReceivedEventSchema.parse(e).additionalInformation.reason),
    ).toEqual(['READMISSION_SWITCH_BOOKING', 'READMISSION_SWITCH_BOOKING']);
    await expect(unit.control.receiveOntoPreviousBooking('A2002AA', oldest)).rejects.toMatchObject({ status: 400 });
  });

  test('moving a booking: the newer booking becomes current on the receiver, the giver falls back', async () => {
    await unit.control.createPrisoner({ offenderNo: 'A2003AA', alerts: [{ alertCode: 'PEEP' }] }); // 1200000
    await unit.control.createPrisoner({
      offenderNo: 'A2004AA',
      previousBookings: [{ alerts: [{ alertCode: 'XEL' }] }], // 1200001
      alerts: [{ alertCode: 'HS' }], // 1200002
    });
    const moved = await unit.control.moveBooking({ bookingId: 1_200_002, from: 'A2004AA', to: 'A2003AA' });
    expect(moved.from.currentBookingId).toBe(1_200_001);
    expect(moved.to.currentBookingId).toBe(1_200_002);
    expect(
      (await unit.control.getNomisAlertsToMigrate('A2004AA')).latestBookingAlerts.map((a) => a.alertCode.code),
    ).toEqual(['XEL']);
    expect(
      (await unit.control.getNomisAlertsToMigrate('A2003AA')).latestBookingAlerts.map((a) => a.alertCode.code),
    ).toEqual(['HS']);
    // An older booking moves as history: the receiver's current booking stays.
    const older = await unit.control.moveBooking({ bookingId: 1_200_001, to: 'A2003AA' });
    expect(older.to.currentBookingId).toBe(1_200_002);
    expect(older.from.currentBookingId).toBeNull();
    const [event] = domainEvents('A2003AA');
    expect(bookingMovedEventSchema.parse(event).additionalInformation).toEqual({
      bookingId: 1_200_002,
      movedFromNomsNumber: 'A2004AA',
      movedToNomsNumber: 'A2003AA',
    });
    // The alert keeps its identity: it is addressed by booking, whoever owns it now.
    const alert = nomisAlertSchema.parse((await call('nomis', 'GET', '/prisoners/booking-id/1200002/alerts/1')).body);
    expect(alert.alertCode.code).toBe('HS');
    await expect(
      unit.control.moveBooking({ bookingId: 1_200_000, from: 'A2004AA', to: 'A2005AA' }),
    ).rejects.toMatchObject({
      status: 409,
    });
  });

  test('merge: the removed prisoner goes, its bookings and new active codes join the retained one', async () => {
    const retained = await unit.control.createPrisoner({
      offenderNo: 'A2006AA',
      alerts: [{ alertCode: 'XA', date: '2024-01-10' }],
    });
    await unit.control.createPrisoner({
      offenderNo: 'A2007AA',
      alerts: [
        { alertCode: 'XA', date: '2024-03-05' },
        { alertCode: 'RSS', date: '2024-03-06', comment: 'threats' },
        { alertCode: 'VI', date: '2023-05-01', expiryDate: '2023-09-01', isActive: false },
      ],
    });
    const result = await unit.control.merge({ retained: 'A2006AA', removed: 'A2007AA' });
    expect(result.bookingId).toBe(retained.currentBookingId);
    expect(result.copiedAlerts.map((a) => [a.alertCode.code, a.alertSequence, a.comment])).toEqual([
      ['RSS', 2, 'threats'],
    ]);
    expect(result.retained.bookings).toHaveLength(2);
    const { latestBookingAlerts } = await unit.control.getNomisAlertsToMigrate('A2006AA');
    expect(latestBookingAlerts.map((a) => a.alertCode.code)).toEqual(['XA', 'RSS']);
    expect((await call('nomis', 'GET', '/prisoners/A2007AA/alerts/to-migrate')).status).toBe(404);
    const [event] = domainEvents('A2006AA');
    expect(prisonerMergedEventSchema.parse(event)).toMatchObject({
      additionalInformation: {
        nomsNumber: 'A2006AA',
        removedNomsNumber: 'A2007AA',
        bookingId: retained.currentBookingId,
        reason: 'MERGE',
      },
      personReference: { identifiers: [{ type: 'NOMS', value: 'A2006AA' }] },
    });
  });
});
