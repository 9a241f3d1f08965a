import {
  activePrisonerIdsPageSchema,
  createNomisAlertResponseSchema,
  dpsAlertEventSchema,
  dpsAlertSchema,
  bookingMovedEventSchema,
  nomisAlertEventSchema,
  nomisAlertSchema,
  nomisAlertsToMigrateSchema,
  prisonerMergedEventSchema,
  prisonerReceivedEventSchema,
  resyncResponseSchema,
  tokenResponseSchema,
} from '../../common/contract';
import type { ResyncAlert } from '../../common/contract';
import { DPS_ROLE, NOMIS_ROLE, startSimulators } from '../../simulators';
import type { Simulators } from '../../simulators';
import { SimulatorControl } from '../../simulators/control-client';

// The simulators against contract §2-§4: what the sync relies on (status codes, shapes, idempotent resync, the
// events each change publishes) and the fault injection the end-to-end tests drive. No Kafka: events are read
// from the simulators' in-memory log.

let sims: Simulators;
let control: SimulatorControl;

beforeAll(async () => {
  sims = await startSimulators({
    nomisPort: 0,
    dpsPort: 0,
    authPort: 0,
    kafka: null,
    randomSeed: 42,
    clients: {
      'alerts-sync': { secret: 'alerts-sync-secret', roles: [NOMIS_ROLE, DPS_ROLE] },
      'dps-only': { secret: 'dps-only-secret', roles: [DPS_ROLE] },
    },
  });
  control = new SimulatorControl(sims.urls);
});
afterAll(async () => {
  await sims?.close();
});
beforeEach(async () => {
  await control.reset();
});

type Api = 'nomis' | 'dps' | 'auth';

async function call(
  api: Api,
  method: string,
  path: string,
  options: { token?: string | null; body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
) {
  const token = options.token === undefined ? await tokenFor() : options.token;
  const response = await fetch(`${sims.urls[api]}${path}`, {
    method,
    headers: {
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as unknown) : undefined };
}

async function tokenFor(clientId = 'alerts-sync', secret = 'alerts-sync-secret', url = sims.urls.auth) {
  const response = await fetch(`${url}/auth/oauth/token?grant_type=client_credentials`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}` },
  });
  expect(response.status).toBe(200);
  return tokenResponseSchema.parse(await response.json()).access_token;
}

const message = (body: unknown) => (body as { userMessage?: string }).userMessage;

const resyncAlert = (overrides: Partial<ResyncAlert> = {}): ResyncAlert => ({
  offenderBookId: 1_200_000,
  alertSeq: 1,
  alertCode: 'XA',
  description: 'set fire to cell',
  authorisedBy: 'Gov Smith',
  activeFrom: '2024-01-10',
  activeTo: null,
  isActive: true,
  createdAt: '2024-01-10T09:00:00',
  createdBy: 'JSMITH',
  createdByDisplayName: 'John Smith',
  lastModifiedAt: null,
  lastModifiedBy: null,
  lastModifiedByDisplayName: null,
  ...overrides,
});

const domainEvents = (key?: string) => sims.events.recent({ topic: 'domainEvents', key }).map((e) => e.value);

describe('auth (contract §2)', () => {
  test('client credentials give a bearer token; bad or missing credentials get 401', async () => {
    const ok = await fetch(`${sims.urls.auth}/auth/oauth/token?grant_type=client_credentials`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('alerts-sync:alerts-sync-secret').toString('base64')}` },
    });
    expect(ok.status).toBe(200);
    expect(tokenResponseSchema.parse(await ok.json())).toMatchObject({ token_type: 'bearer', expires_in: 1200 });

    const wrong = await fetch(`${sims.urls.auth}/auth/oauth/token?grant_type=client_credentials`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('alerts-sync:nope').toString('base64')}` },
    });
    expect(wrong.status).toBe(401);
    const missing = await fetch(`${sims.urls.auth}/auth/oauth/token?grant_type=client_credentials`, { method: 'POST' });
    expect(missing.status).toBe(401);
  });

  test('APIs answer 401 without a valid token and 403 without the role', async () => {
    await control.createPrisoner({ offenderNo: 'A1000AA', alerts: [{ alertCode: 'XA' }] });
    const path = '/prisoners/A1000AA/alerts/to-migrate';
    expect((await call('nomis', 'GET', path, { token: null })).status).toBe(401);
    expect((await call('nomis', 'GET', path, { token: 'made-up' })).status).toBe(401);
    const dpsOnly = await tokenFor('dps-only', 'dps-only-secret');
    expect((await call('nomis', 'GET', path, { token: dpsOnly })).status).toBe(403);
    expect((await call('dps', 'GET', '/prisoners/A1000AA/alerts', { token: dpsOnly })).status).toBe(200);
    expect((await call('nomis', 'GET', path)).status).toBe(200);

    const token = await tokenFor();
    await control.expireTokens();
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

describe('NOMIS (contract §3)', () => {
  test('active prisoner ids: pages by current booking, optionally one prison, without those with no booking', async () => {
    for (const [offenderNo, prisonId] of [
      ['A1001AA', 'MDI'],
      ['A1002AA', 'LEI'],
      ['A1003AA', 'MDI'],
      ['A1004AA', 'MDI'],
    ] as const) {
      await control.createPrisoner({ offenderNo, prisonId });
    }
    // A1004AA's only booking goes to A1002AA: A1004AA is no longer in prison, A1002AA's current is now at MDI.
    const { currentBookingId } = await control.getPrisoner('A1004AA');
    await control.moveBooking({ bookingId: currentBookingId!, from: 'A1004AA', to: 'A1002AA' });

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
    const prisoner = await control.createPrisoner({ offenderNo: 'A1001AA' });
    await control.moveBooking({ bookingId: prisoner.currentBookingId!, from: 'A1001AA', to: 'A1002AA' });
    expect((await call('nomis', 'GET', '/prisoners/A1001AA/alerts/to-migrate')).status).toBe(404);
  });

  test('to-migrate: the current booking is latest, the others previous, with bookingSequence by recency', async () => {
    await control.createPrisoner({
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
    await control.createPrisoner({ offenderNo: 'A1004AA' });
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

    const events = sims.events.recent({ topic: 'offenderEvents', key: 'A1004AA' }).map((e) => e.value);
    expect(events.map((e) => nomisAlertEventSchema.parse(e))).toEqual([
      expect.objectContaining({ eventType: 'ALERT-INSERTED', bookingId, alertSeq: alertSequence, alertType: 'X' }),
      expect.objectContaining({ eventType: 'ALERT-UPDATED', alertCode: 'XSA' }),
      expect.objectContaining({ eventType: 'ALERT-DELETED', offenderIdDisplay: 'A1004AA' }),
    ]);
    expect(events.every((e) => e.auditModuleName === 'DPS_SYNCHRONISATION')).toBe(true);
    expect(String(events[0]!.eventDatetime)).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
  });

  test('bad requests name the field; unknown prisoner and alert are 404', async () => {
    await control.createPrisoner({ offenderNo: 'A1005AA' });
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
    await control.createPrisoner({ offenderNo: 'A1006AA' });
    const added = await control.addNomisAlert('A1006AA', { alertCode: 'HA', date: '2024-03-01' });
    const updated = await control.updateNomisAlert(added.bookingId, added.alertSequence, { comment: 'reviewed' });
    expect(updated).toMatchObject({ date: '2024-03-01', comment: 'reviewed', audit: { auditModuleName: 'OIDALERT' } });
    await control.deleteNomisAlert(added.bookingId, added.alertSequence);
    const events = sims.events.recent({ topic: 'offenderEvents', key: 'A1006AA' }).map((e) => e.value);
    expect(events.map((e) => [e.eventType, e.auditModuleName])).toEqual([
      ['ALERT-INSERTED', 'OIDALERT'],
      ['ALERT-UPDATED', 'OIDALERT'],
      ['ALERT-DELETED', 'OIDALERT'],
    ]);
  });
});

describe('NOMIS prisoner-level operations', () => {
  test('a new booking becomes current with copies of the active alerts only', async () => {
    const before = await control.createPrisoner({
      offenderNo: 'A2001AA',
      alerts: [
        { alertCode: 'XA', date: '2024-01-10', comment: 'arson' },
        { alertCode: 'HA', date: '2023-01-01', expiryDate: '2023-06-01', isActive: false },
        { alertCode: 'VI', date: '2024-02-01' },
      ],
    });
    const result = await control.newBooking('A2001AA', 'LEI');
    expect(result.previousBookingId).toBe(before.currentBookingId);
    expect(result.bookingId).toBeGreaterThan(before.currentBookingId!);
    const { latestBookingAlerts, previousBookingsAlerts } = await control.getNomisAlertsToMigrate('A2001AA');
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
    expect(sims.events.recent({ topic: 'offenderEvents', key: 'A2001AA' })).toEqual([]);
  });

  test('receiving onto a previous booking makes it current again', async () => {
    await control.createPrisoner({
      offenderNo: 'A2002AA',
      previousBookings: [{ alerts: [{ alertCode: 'XSA', date: '2022-01-01' }] }, { alerts: [] }],
      alerts: [{ alertCode: 'VI', date: '2024-01-01' }],
    });
    const [oldest, middle, current] = [1_200_000, 1_200_001, 1_200_002];
    const result = await control.receiveOntoPreviousBooking('A2002AA');
    expect(result).toMatchObject({ bookingId: middle, previousCurrentBookingId: current });
    const chosen = await control.receiveOntoPreviousBooking('A2002AA', oldest);
    expect(chosen.prisoner.bookings.map((b) => [b.bookingId, b.bookingSequence])).toEqual([
      [oldest, 1],
      [current, 2],
      [middle, 3],
    ]);
    const { latestBookingAlerts } = await control.getNomisAlertsToMigrate('A2002AA');
    expect(latestBookingAlerts.map((a) => a.alertCode.code)).toEqual(['XSA']);
    expect(
      domainEvents('A2002AA').map((e) => prisonerReceivedEventSchema.parse(e).additionalInformation.reason),
    ).toEqual(['READMISSION_SWITCH_BOOKING', 'READMISSION_SWITCH_BOOKING']);
    await expect(control.receiveOntoPreviousBooking('A2002AA', oldest)).rejects.toMatchObject({ status: 400 });
  });

  test('moving a booking: the newer booking becomes current on the receiver, the giver falls back', async () => {
    await control.createPrisoner({ offenderNo: 'A2003AA', alerts: [{ alertCode: 'PEEP' }] }); // 1200000
    await control.createPrisoner({
      offenderNo: 'A2004AA',
      previousBookings: [{ alerts: [{ alertCode: 'XEL' }] }], // 1200001
      alerts: [{ alertCode: 'HS' }], // 1200002
    });
    const moved = await control.moveBooking({ bookingId: 1_200_002, from: 'A2004AA', to: 'A2003AA' });
    expect(moved.from.currentBookingId).toBe(1_200_001);
    expect(moved.to.currentBookingId).toBe(1_200_002);
    expect((await control.getNomisAlertsToMigrate('A2004AA')).latestBookingAlerts.map((a) => a.alertCode.code)).toEqual(
      ['XEL'],
    );
    expect((await control.getNomisAlertsToMigrate('A2003AA')).latestBookingAlerts.map((a) => a.alertCode.code)).toEqual(
      ['HS'],
    );
    // An older booking moves as history: the receiver's current booking stays.
    const older = await control.moveBooking({ bookingId: 1_200_001, to: 'A2003AA' });
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
    await expect(control.moveBooking({ bookingId: 1_200_000, from: 'A2004AA', to: 'A2005AA' })).rejects.toMatchObject({
      status: 409,
    });
  });

  test('merge: the removed prisoner goes, its bookings and new active codes join the retained one', async () => {
    const retained = await control.createPrisoner({
      offenderNo: 'A2006AA',
      alerts: [{ alertCode: 'XA', date: '2024-01-10' }],
    });
    await control.createPrisoner({
      offenderNo: 'A2007AA',
      alerts: [
        { alertCode: 'XA', date: '2024-03-05' },
        { alertCode: 'RSS', date: '2024-03-06', comment: 'threats' },
        { alertCode: 'VI', date: '2023-05-01', expiryDate: '2023-09-01', isActive: false },
      ],
    });
    const result = await control.merge({ retained: 'A2006AA', removed: 'A2007AA' });
    expect(result.bookingId).toBe(retained.currentBookingId);
    expect(result.copiedAlerts.map((a) => [a.alertCode.code, a.alertSequence, a.comment])).toEqual([
      ['RSS', 2, 'threats'],
    ]);
    expect(result.retained.bookings).toHaveLength(2);
    const { latestBookingAlerts } = await control.getNomisAlertsToMigrate('A2006AA');
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

describe('DPS (contract §4)', () => {
  test('resync replaces the alerts, keeps survivors with their history, and is idempotent', async () => {
    const existing = await control.createDpsAlert('A3001AA', {
      alertCode: 'XA',
      activeFrom: '2024-01-10',
      createdBy: 'DPS_PERSON',
    });
    const doomed = await control.createDpsAlert('A3001AA', { alertCode: 'HS', activeFrom: '2024-02-01' });
    sims.events.clearRecent();

    const body = [
      resyncAlert({ alertSeq: 1, alertCode: 'XA', description: 'updated text' }),
      resyncAlert({ alertSeq: 2, alertCode: 'HA', activeFrom: '2023-01-01', activeTo: '2023-06-01', isActive: false }),
    ];
    const first = await call('dps', 'POST', '/resync/A3001AA/alerts', { body });
    expect(first.status).toBe(201);
    const response = resyncResponseSchema.parse(first.body);
    expect(response.map((r) => [r.offenderBookId, r.alertSeq])).toEqual([
      [1_200_000, 1],
      [1_200_000, 2],
    ]);
    expect(response[0]!.alertUuid).toBe(existing.alertUuid);

    const alerts = await control.getDpsAlerts('A3001AA');
    expect(alerts.map((a) => a.alertUuid).sort()).toEqual(response.map((r) => r.alertUuid).sort());
    const survivor = dpsAlertSchema.parse((await call('dps', 'GET', `/alerts/${existing.alertUuid}`)).body);
    expect(survivor).toMatchObject({
      createdAt: existing.createdAt,
      createdBy: 'DPS_PERSON',
      description: 'updated text',
    });
    const inactive = alerts.find((a) => a.alertCode.code === 'HA');
    expect(inactive).toMatchObject({ isActive: false, activeTo: '2023-06-01', createdBy: 'JSMITH' });
    expect((await call('dps', 'GET', `/alerts/${doomed.alertUuid}`)).status).toBe(404);

    const events = domainEvents('A3001AA').map((e) => dpsAlertEventSchema.parse(e));
    expect(events.map((e) => [e.eventType, e.additionalInformation.alertCode, e.additionalInformation.source])).toEqual(
      [
        ['person.alert.deleted', 'HS', 'RESYNC'],
        ['person.alert.created', 'HA', 'RESYNC'],
      ],
    );

    sims.events.clearRecent();
    const again = await call('dps', 'POST', '/resync/A3001AA/alerts', { body });
    expect(resyncResponseSchema.parse(again.body)).toEqual(response);
    expect(domainEvents('A3001AA')).toEqual([]);
  });

  test('resync: two alerts of one code and dates each keep one existing alert; 400 names the bad element', async () => {
    const twins = [resyncAlert({ alertSeq: 1 }), resyncAlert({ alertSeq: 2, isActive: false })];
    const first = resyncResponseSchema.parse(
      (await call('dps', 'POST', '/resync/A3002AA/alerts', { body: twins })).body,
    );
    expect(new Set(first.map((r) => r.alertUuid)).size).toBe(2);
    const second = resyncResponseSchema.parse(
      (await call('dps', 'POST', '/resync/A3002AA/alerts', { body: twins })).body,
    );
    expect(second).toEqual(first);

    const noCode: Record<string, unknown> = { ...resyncAlert() };
    delete noCode.alertCode;
    const bad = await call('dps', 'POST', '/resync/A3002AA/alerts', { body: [resyncAlert(), resyncAlert(), noCode] });
    expect(bad.status).toBe(400);
    expect(message(bad.body)).toBe('[2].alertCode: Required');
    expect((await call('dps', 'POST', '/resync/A3002AA/alerts', { body: { not: 'a list' } })).status).toBe(400);
    expect((await control.getDpsAlerts('A3002AA')).map((a) => a.alertUuid).sort()).toEqual(
      first.map((r) => r.alertUuid).sort(),
    );
    expect((await call('dps', 'POST', '/resync/A3002AA/alerts', { body: [] })).status).toBe(201);
    expect(await control.getDpsAlerts('A3002AA')).toEqual([]);
  });

  test('create, update and delete: source from the header, 409 duplicate, 404 when gone', async () => {
    const request = {
      alertCode: 'XA',
      description: 'from NOMIS',
      authorisedBy: null,
      activeFrom: '2024-01-01',
      activeTo: null,
      createdAt: '2024-01-01T10:00:00',
      createdBy: 'JSMITH',
      createdByDisplayName: 'John Smith',
    };
    const created = await call('dps', 'POST', '/prisoners/A3003AA/alerts', {
      body: request,
      headers: { Source: 'NOMIS' },
    });
    expect(created.status).toBe(201);
    const alert = dpsAlertSchema.parse(created.body);
    expect(alert).toMatchObject({ prisonNumber: 'A3003AA', isActive: true, alertCode: { code: 'XA' } });

    const duplicate = await call('dps', 'POST', '/prisoners/A3003AA/alerts', { body: request });
    expect(duplicate.status).toBe(409);
    const unknown = await call('dps', 'POST', '/prisoners/A3003AA/alerts', { body: { ...request, alertCode: 'ZZ' } });
    expect(unknown.status).toBe(400);

    const update = { description: 'ended', activeFrom: '2024-01-01', activeTo: '2024-02-01', updatedBy: 'SYNC' };
    const updated = await call('dps', 'PUT', `/alerts/${alert.alertUuid}`, {
      body: update,
      headers: { Source: 'NOMIS' },
    });
    expect(dpsAlertSchema.parse(updated.body)).toMatchObject({ isActive: false, lastModifiedBy: 'SYNC' });
    const byDpsUser = await control.updateDpsAlert(alert.alertUuid, { description: 'edited in DPS' });
    expect(byDpsUser).toMatchObject({ description: 'edited in DPS', activeTo: '2024-02-01' });

    const path = `/alerts/${alert.alertUuid}`;
    expect((await call('dps', 'DELETE', path, { headers: { Source: 'NOMIS' } })).status).toBe(204);
    expect((await call('dps', 'DELETE', path, { headers: { Source: 'NOMIS' } })).status).toBe(404);
    expect((await call('dps', 'GET', path)).status).toBe(404);
    expect((await call('dps', 'PUT', path, { body: update })).status).toBe(404);

    const sources = domainEvents('A3003AA').map((e) => {
      const event = dpsAlertEventSchema.parse(e);
      return [event.eventType, event.additionalInformation.source];
    });
    expect(sources).toEqual([
      ['person.alert.created', 'NOMIS'],
      ['person.alert.updated', 'NOMIS'],
      ['person.alert.updated', 'DPS'],
      ['person.alert.deleted', 'NOMIS'],
    ]);
    expect(await control.getDpsAlerts('A3003AA')).toEqual([]);
  });
});

describe('fault injection', () => {
  test('status, times and Retry-After apply to API calls only, and are counted', async () => {
    await control.setFaults([
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
    expect((await control.state()).faults).toMatchObject({
      rules: [{ fired: 2, remaining: 0 }],
      requests: { 'dps GET /prisoners/:prisonNumber/alerts': 3, 'dps POST /resync/:prisonNumber/alerts': 1 },
      faultsInjected: { 'dps GET /prisoners/:prisonNumber/alerts': 2 },
    });
  });

  test('a rule without a status is a 503; auth can fail too', async () => {
    await control.setFaults([{ api: 'auth' }]);
    const response = await fetch(`${sims.urls.auth}/auth/oauth/token?grant_type=client_credentials`, {
      method: 'POST',
    });
    expect(response.status).toBe(503);
    await control.clearFaults();
    expect(await tokenFor()).toBeTruthy();
  });

  test('latency slows a call that then succeeds; hang never answers', async () => {
    await control.createPrisoner({ offenderNo: 'A4002AA' });
    const token = await tokenFor();
    await control.setFaults([
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
      await control.setFaults([{ api: 'dps', errorRate: 0.5 }], 7);
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

describe('DPS active flag from NOMIS', () => {
  const create = {
    alertCode: 'XA',
    activeFrom: '2024-01-01',
    createdAt: '2024-01-01T09:00:00',
    createdBy: 'SYS',
    createdByDisplayName: 'SYS',
  };

  test('created inactive without an end date, made active again by an update that says so', async () => {
    const created = await call('dps', 'POST', '/prisoners/A5005AA/alerts', {
      body: { ...create, isActive: false },
      headers: { Source: 'NOMIS' },
    });
    const alert = dpsAlertSchema.parse(created.body);
    expect(alert.isActive).toBe(false);
    const update = { activeFrom: '2024-01-01', isActive: true };
    const updated = await call('dps', 'PUT', `/alerts/${alert.alertUuid}`, {
      body: update,
      headers: { Source: 'NOMIS' },
    });
    expect(dpsAlertSchema.parse(updated.body).isActive).toBe(true);
    // A caller that says nothing of the flag leaves it as it is.
    await call('dps', 'PUT', `/alerts/${alert.alertUuid}`, {
      body: { activeFrom: '2024-01-01', isActive: false },
      headers: { Source: 'NOMIS' },
    });
    const edited = await call('dps', 'PUT', `/alerts/${alert.alertUuid}`, {
      body: { activeFrom: '2024-01-01', description: 'x' },
    });
    expect(dpsAlertSchema.parse(edited.body).isActive).toBe(false);
  });
});
