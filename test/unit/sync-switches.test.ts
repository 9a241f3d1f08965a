import { LiveSwitches } from '../../adapters/live-switches';
import { mergedDpsAlerts } from '../../common/alerts';
import type { DpsAlert, NomisAlert } from '../../common/contract';
import type { SyncSwitches } from '../../common/sync-switches';
import { describeSwitches, isOneWayDpsToNomis, parseSwitchAssignments } from '../../common/sync-switches';
import { unsyncedNomisChanges } from '../../common/unsynced-nomis-changes';
import { sourcesInOrder } from '../../workflows/prisoner-queue';

describe('operator switch assignments', () => {
  test('names and values as operators type them', () => {
    expect(parseSwitchAssignments(['resync-source=dps', 'nomis-to-dps=off'])).toEqual({
      resyncSource: 'DPS',
      nomisToDps: false,
    });
    expect(parseSwitchAssignments(['Resync-Source=NOMIS', 'dps-to-nomis=on'])).toEqual({
      resyncSource: 'NOMIS',
      dpsToNomis: true,
    });
  });

  test.each([
    [['resync-source=both'], /resync-source must be nomis or dps/],
    [['nomis-to-dps=false'], /nomis-to-dps must be on or off/],
    [['nomis-to-dpss=off'], /"nomis-to-dpss=off": expected one of resync-source, nomis-to-dps, dps-to-nomis/],
    [['resync-source'], /resync-source must be nomis or dps/],
    [[], /nothing to change/],
  ])('%j is refused, naming what is wrong', (assignments, message) => {
    expect(() => parseSwitchAssignments(assignments)).toThrow(message);
  });

  test('described as they are typed; the one-way end state is recognised', () => {
    const oneWay: SyncSwitches = { resyncSource: 'DPS', nomisToDps: false, dpsToNomis: true };
    expect(describeSwitches(oneWay)).toBe('resync-source=dps nomis-to-dps=off dps-to-nomis=on');
    expect(isOneWayDpsToNomis(oneWay)).toBe(true);
    expect(isOneWayDpsToNomis({ ...oneWay, nomisToDps: true })).toBe(false);
  });
});

describe('LiveSwitches', () => {
  const on: SyncSwitches = { resyncSource: 'NOMIS', nomisToDps: true, dpsToNomis: true };
  const flipped: SyncSwitches = { ...on, resyncSource: 'DPS' };

  test('keeps a value for the cache time, then reads again; one read however many ask at once', async () => {
    let now = 0;
    let value = on;
    const read = jest.fn(async () => value);
    const switches = new LiveSwitches(read, 1_000, undefined, () => now);
    expect(await Promise.all([switches.get(), switches.get(), switches.get()])).toEqual([on, on, on]);
    expect(read).toHaveBeenCalledTimes(1);
    value = flipped;
    now = 999;
    expect(await switches.get()).toEqual(on);
    now = 1_000;
    expect(await switches.get()).toEqual(flipped);
    expect(read).toHaveBeenCalledTimes(2);
  });

  test('a failed read keeps the last value and reports it; with none read yet it throws', async () => {
    let now = 0;
    let fail = false;
    const failures: unknown[] = [];
    const switches = new LiveSwitches(
      async () => {
        if (fail) throw new Error('database down');
        return on;
      },
      100,
      (err) => failures.push(err),
      () => now,
    );
    fail = true;
    await expect(switches.get()).rejects.toThrow('database down');
    fail = false;
    expect(await switches.get()).toEqual(on);
    fail = true;
    now = 500;
    expect(await switches.get()).toEqual(on);
    expect(failures).toHaveLength(1);
  });
});

describe('merge from DPS', () => {
  const alert = (code: string, isActive: boolean, description: string): DpsAlert => ({
    alertUuid: `00000000-0000-4000-8000-${description.padStart(12, '0').slice(-12)}`,
    prisonNumber: 'A1234BC',
    alertCode: { code, description: code },
    description,
    authorisedBy: null,
    activeFrom: '2024-01-01',
    activeTo: null,
    isActive,
    createdAt: '2024-01-01T10:00:00',
    createdBy: 'USER',
    createdByDisplayName: 'User',
  });

  test('the retained keeps all theirs and gains the removed prisoners’ active alerts of codes not active on it', () => {
    const retained = [alert('XA', true, '1'), alert('HA', false, '2')];
    const removed = [
      [alert('XA', true, '3'), alert('HA', true, '4'), alert('VI', false, '5')],
      [alert('HA', true, '6'), alert('RSS', true, '7')],
    ];
    expect(mergedDpsAlerts(retained, removed).map((a) => a.description)).toEqual(['1', '2', '4', '7']);
  });
});

test('resyncs of both sources queued: one per source, the latest request’s source last', () => {
  const resync = (source?: 'NOMIS' | 'DPS') => ({
    kind: 'resync' as const,
    reason: 'x',
    ...(source ? { source } : {}),
  });
  expect(sourcesInOrder([resync(), resync()])).toEqual(['NOMIS']);
  expect(sourcesInOrder([resync('DPS'), resync()])).toEqual(['DPS', 'NOMIS']);
  expect(sourcesInOrder([resync(), resync('DPS'), resync('NOMIS')])).toEqual(['DPS', 'NOMIS']);
  expect(sourcesInOrder([resync('NOMIS'), resync('DPS')])).toEqual(['NOMIS', 'DPS']);
});

describe('NOMIS users’ changes a resync from DPS must copy before it replaces NOMIS', () => {
  const nomis = (seq: number, code: string, extra: Partial<NomisAlert> = {}, booking = 100): NomisAlert => ({
    bookingId: booking,
    bookingSequence: booking === 100 ? 1 : 2,
    alertSequence: seq,
    alertCode: { code, description: code },
    type: { code: 'X', description: 'X' },
    date: '2024-01-01',
    expiryDate: null,
    isActive: true,
    isVerified: false,
    comment: `${code} text`,
    authorisedBy: null,
    audit: {
      createUsername: 'USER',
      createDatetime: '2024-01-01T10:00:00',
      modifyUserId: null,
      modifyDatetime: null,
      auditModuleName: 'OIDALERT',
    },
    ...extra,
  });
  const dps = (id: string, code: string, extra: Partial<DpsAlert> = {}): DpsAlert => ({
    alertUuid: `00000000-0000-4000-8000-00000000000${id}`,
    prisonNumber: 'A1234BC',
    alertCode: { code, description: code },
    description: `${code} text`,
    authorisedBy: null,
    activeFrom: '2024-01-01',
    activeTo: null,
    isActive: true,
    createdAt: '2024-01-01T10:00:00',
    createdBy: 'USER',
    createdByDisplayName: 'User',
    ...extra,
  });
  const map = (id: string, seq: number, booking = 100) => ({
    dpsAlertId: dps(id, 'XA').alertUuid,
    nomisBookingId: booking,
    nomisAlertSequence: seq,
  });
  const none = new Map<string, NomisAlert | null>();

  test('a NOMIS user’s new alert; not NOMIS’s copy of an earlier booking’s, nor one DPS has, nor the sync’s own', () => {
    const changes = unsyncedNomisChanges({
      current: [
        nomis(1, 'RSS'),
        nomis(2, 'HA'),
        nomis(3, 'XA'),
        nomis(4, 'VI', { audit: { ...nomis(4, 'VI').audit, auditModuleName: 'DPS_SYNCHRONISATION' } }),
      ],
      previous: [nomis(9, 'HA', {}, 90)],
      dpsAlerts: [dps('1', 'XA')],
      mappings: [],
      elsewhere: none,
    });
    expect(changes).toEqual([{ action: 'CREATED', bookingId: 100, alertSeq: 1, alertCode: 'RSS' }]);
  });

  test('a NOMIS user’s edit newer than DPS’s copy; not one older than a DPS user’s edit', () => {
    const edited = (at: string) =>
      nomis(1, 'XA', {
        comment: 'NOMIS edit',
        audit: { ...nomis(1, 'XA').audit, modifyUserId: 'USER', modifyDatetime: at },
      });
    const side = (at: string, dpsModifiedAt: string | null) => ({
      current: [edited(at)],
      previous: [],
      dpsAlerts: [dps('1', 'XA', { lastModifiedAt: dpsModifiedAt })],
      mappings: [map('1', 1)],
      elsewhere: none,
    });
    expect(unsyncedNomisChanges(side('2024-06-01T10:00:05', '2024-06-01T10:00:00'))).toEqual([
      { action: 'UPDATED', bookingId: 100, alertSeq: 1, alertCode: 'XA' },
    ]);
    expect(unsyncedNomisChanges(side('2024-06-01T10:00:00', '2024-06-01T10:00:05'))).toEqual([]);
  });

  test('a NOMIS user’s delete; not an alert that moved to another booking or prisoner', () => {
    const side = (elsewhere: NomisAlert | null) => ({
      current: [nomis(2, 'HS')],
      previous: [],
      dpsAlerts: [dps('1', 'XA')],
      mappings: [map('1', 1)],
      elsewhere: new Map([['100/1', elsewhere]]),
    });
    const deletes = (elsewhere: NomisAlert | null) =>
      unsyncedNomisChanges(side(elsewhere)).filter((c) => c.action === 'DELETED');
    expect(deletes(null)).toEqual([{ action: 'DELETED', bookingId: 100, alertSeq: 1, alertCode: 'XA' }]);
    expect(deletes(nomis(1, 'XA'))).toEqual([]);
    // NOMIS gave the sequence to another alert: the mapped one was deleted.
    expect(deletes(nomis(1, 'HS', { date: '2024-05-05' }))).toHaveLength(1);
    // The booking is no longer current (moved to another prisoner, a recall): its alerts are not deletes.
    expect(
      unsyncedNomisChanges({ ...side(null), current: [nomis(1, 'HS', {}, 200)] }).filter((c) => c.action === 'DELETED'),
    ).toEqual([]);
  });
});

test('a booking that became current (recall, move) is not new alerts: only the booking DPS was in step with is', () => {
  const alert = (bookingId: number) => ({
    bookingId,
    bookingSequence: 1,
    alertSequence: 1,
    alertCode: { code: 'RSS', description: 'RSS' },
    type: { code: 'R', description: 'R' },
    date: '2020-01-01',
    expiryDate: null,
    isActive: true,
    isVerified: false,
    comment: 'old booking',
    authorisedBy: null,
    audit: { createUsername: 'U', createDatetime: '2020-01-01T10:00:00', auditModuleName: 'OIDALERT' },
  });
  const mapping = { dpsAlertId: '00000000-0000-4000-8000-000000000001', nomisBookingId: 7, nomisAlertSequence: 2 };
  const side = (bookingId: number) => ({
    current: [alert(bookingId)],
    previous: [],
    dpsAlerts: [],
    mappings: [mapping],
    elsewhere: new Map([['7/2', null]]),
  });
  expect(unsyncedNomisChanges(side(8)).filter((c) => c.action === 'CREATED')).toEqual([]);
  expect(unsyncedNomisChanges(side(7)).filter((c) => c.action === 'CREATED')).toHaveLength(1);
});
