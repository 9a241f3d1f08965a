import { dpsAlertEventSchema, dpsAlertSchema, resyncResponseSchema } from '../../common/contract';
import { message, resyncAlert, useUnitSimulators } from '../helpers/simulators';

// The DPS Alerts API (contract §4): idempotent resync, source from the header, the active flag from NOMIS.

const unit = useUnitSimulators();
const { call, domainEvents } = unit;

describe('DPS (contract §4)', () => {
  test('resync replaces the alerts, keeps survivors with their history, and is idempotent', async () => {
    const existing = await unit.control.createDpsAlert('A3001AA', {
      alertCode: 'XA',
      activeFrom: '2024-01-10',
      createdBy: 'DPS_PERSON',
    });
    const doomed = await unit.control.createDpsAlert('A3001AA', { alertCode: 'HS', activeFrom: '2024-02-01' });
    unit.sims.events.clearRecent();

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

    const alerts = await unit.control.getDpsAlerts('A3001AA');
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

    unit.sims.events.clearRecent();
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
    expect((await unit.control.getDpsAlerts('A3002AA')).map((a) => a.alertUuid).sort()).toEqual(
      first.map((r) => r.alertUuid).sort(),
    );
    expect((await call('dps', 'POST', '/resync/A3002AA/alerts', { body: [] })).status).toBe(201);
    expect(await unit.control.getDpsAlerts('A3002AA')).toEqual([]);
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
    const byDpsUser = await unit.control.updateDpsAlert(alert.alertUuid, { description: 'edited in DPS' });
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
    expect(await unit.control.getDpsAlerts('A3003AA')).toEqual([]);
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
