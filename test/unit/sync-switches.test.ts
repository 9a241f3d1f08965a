import { LiveSwitches } from '../../adapters/live-switches';
import { mergedDpsAlerts } from '../../common/alerts';
import type { DpsAlert } from '../../common/contract';
import type { SyncSwitches } from '../../common/sync-switches';
import { describeSwitches, isOneWayDpsToNomis, parseSwitchAssignments } from '../../common/sync-switches';
import { sourcesInOrder } from '../../workflows/prisoner-sync';

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
