import { spawn } from 'node:child_process';
import path from 'node:path';
import { requestResync } from '../../adapters/temporal';
import { startOrAttachBatch } from '../../clients/bulk-batch';
import { prisonerSyncWorkflowId } from '../../common/ids';
import { SyncKind } from '../../common/sync-kinds';
import type { SeedAlert } from '../../simulators/nomis';
import type { PrisonerSyncResult } from '../../workflows/prisoner-sync';
import type { Harness } from '../helpers/harness';
import { invariantViolations, prisonerSyncResult, removedPrisonerState, waitForPrisonerSync } from '../helpers/harness';
import { useHarness } from '../helpers/e2e';
import { randomPrisonNumber } from '../helpers/prisoners';
import { config, eventually } from '../helpers/stack';

// ADR004's future and ADR002's end state on the real stack: with the resync source switched to DPS, every
// prisoner-level event makes the prisoner's current NOMIS booking hold exactly their DPS alerts (the §6 invariant
// read from DPS's side). Each scenario first lets DPS differ from NOMIS in a way only a resync from DPS keeps, so
// a resync from NOMIS would fail the test. The switches are flipped with the real operator command.

let harness: Harness;
useHarness('from-dps', (started) => (harness = started), { switches: { resyncSource: 'DPS' } });

const ALERTS: SeedAlert[] = [
  { alertCode: 'XA', date: '2024-01-10', comment: 'set fire to cell', authorisedBy: 'Gov Smith' },
  { alertCode: 'HA', date: '2024-02-01', comment: 'ACCT opened' },
  // Inactive: NOMIS does not copy it onto a new booking.
  { alertCode: 'VI', date: '2023-01-01', expiryDate: '2023-06-01', comment: 'victim of assault' },
];

/** A prisoner in step in both systems, through a resync from NOMIS (the operator's `--from nomis`). */
async function syncedPrisoner(alerts: SeedAlert[] = ALERTS, previousBookings?: Array<{ alerts: SeedAlert[] }>) {
  const prisonNumber = randomPrisonNumber();
  await harness.control.createPrisoner({ offenderNo: prisonNumber, alerts, previousBookings });
  const since = new Date();
  await requestResync(harness.client, harness.taskQueue, prisonNumber, 'test set-up', 'NOMIS');
  await waitForPrisonerSync(harness, prisonNumber, since);
  expect(await invariantViolations(harness, prisonNumber)).toEqual([]);
  return prisonNumber;
}

/** DPS loses one alert without telling anyone (no event): only a resync from DPS leaves it lost in NOMIS too. */
async function dpsDropsSilently(prisonNumber: string, code: string): Promise<void> {
  const alert = (await harness.apis.dps.getPrisonerAlerts(prisonNumber)).find((a) => a.alertCode.code === code);
  await harness.apis.dps.deleteAlert(alert!.alertUuid);
}

const dpsAlerts = async (prisonNumber: string) =>
  (await harness.apis.dps.getPrisonerAlerts(prisonNumber)).map((a) => `${a.alertCode.code}:${a.alertUuid}`).sort();
const nomisCodes = async (prisonNumber: string) =>
  (await harness.apis.nomis.getAlertsToMigrate(prisonNumber)).latestBookingAlerts.map((a) => a.alertCode.code).sort();

/** The kinds of the prisoner's resyncs, oldest first, as their workflow's runs report them (in place or not). */
async function resyncKinds(prisonNumber: string, expected: number): Promise<string[]> {
  return eventually(async () => {
    const runs: Array<{ start: number; kinds: string[] }> = [];
    const query = `WorkflowId = "${prisonerSyncWorkflowId(prisonNumber)}" AND ExecutionStatus = "Completed"`;
    for await (const run of harness.client.workflow.list({ query })) {
      const result: PrisonerSyncResult = await harness.client.workflow.getHandle(run.workflowId, run.runId).result();
      runs.push({ start: run.startTime.getTime(), kinds: result.passes.map(passKind) });
    }
    const kinds = runs.sort((a, b) => a.start - b.start).flatMap((r) => r.kinds);
    return kinds.length >= expected ? kinds : undefined;
  }, `${expected} resyncs of ${prisonNumber} reported`);
}

function passKind(pass: PrisonerSyncResult['passes'][number]): string {
  const merge = pass.removedPrisonNumbers.length > 0;
  if (pass.source === 'DPS') return merge ? SyncKind.mergeFromDps : SyncKind.resyncFromDps;
  return merge ? SyncKind.merge : SyncKind.resync;
}

test('new admission from DPS: the new booking gets every DPS alert, inactive ones too, and DPS is untouched', async () => {
  const prisonNumber = await syncedPrisoner();
  await dpsDropsSilently(prisonNumber, 'HA');
  const before = await dpsAlerts(prisonNumber);

  const since = new Date();
  const { bookingId } = await harness.control.newBooking(prisonNumber);
  const run = await waitForPrisonerSync(harness, prisonNumber, since);

  expect(run.status.name).toBe('COMPLETED');
  expect(await invariantViolations(harness, prisonNumber)).toEqual([]);
  expect(await dpsAlerts(prisonNumber)).toEqual(before);
  // NOMIS copied XA and HA onto the new booking; DPS has XA and the inactive VI.
  expect(await nomisCodes(prisonNumber)).toEqual(['VI', 'XA']);
  const { mappings } = await removedPrisonerState(harness, prisonNumber);
  expect(mappings.map((m) => m.nomisBookingId)).toEqual([bookingId, bookingId]);
  expect(mappings.every((m) => m.mappingType === 'DPS_CREATED')).toBe(true);
  expect(await resyncKinds(prisonNumber, 2)).toEqual([SyncKind.resync, SyncKind.resyncFromDps]);
});

test('recall corrected onto a previous booking from DPS: the reinstated booking gets the DPS alerts', async () => {
  const prisonNumber = await syncedPrisoner(ALERTS, [{ alerts: [{ alertCode: 'RSS', date: '2020-05-05' }] }]);
  const previousBookingId = (await harness.apis.nomis.getAlertsToMigrate(prisonNumber)).previousBookingsAlerts[0]!
    .bookingId;
  // A DPS user's new alert reaches NOMIS's current booking, which the correction then abandons.
  let since = new Date();
  await harness.control.createDpsAlert(prisonNumber, { alertCode: 'PEEP', activeFrom: '2024-04-04' });
  await waitForPrisonerSync(harness, prisonNumber, since);
  const before = await dpsAlerts(prisonNumber);

  since = new Date();
  await harness.control.receiveOntoPreviousBooking(prisonNumber, previousBookingId);
  await waitForPrisonerSync(harness, prisonNumber, since);

  expect(await invariantViolations(harness, prisonNumber)).toEqual([]);
  expect(await dpsAlerts(prisonNumber)).toEqual(before);
  expect(await nomisCodes(prisonNumber)).toEqual(['HA', 'PEEP', 'VI', 'XA']);
  const { mappings } = await removedPrisonerState(harness, prisonNumber);
  expect(new Set(mappings.map((m) => m.nomisBookingId))).toEqual(new Set([previousBookingId]));
});

test('booking moved from DPS: each prisoner’s current booking gets their own DPS alerts', async () => {
  // `to` first, so the booking moved from `from` is newer than any of `to`'s and becomes its current booking.
  const to = await syncedPrisoner([{ alertCode: 'HS', date: '2023-05-05', comment: 'self harm history' }]);
  const from = await syncedPrisoner(ALERTS, [{ alerts: [{ alertCode: 'RSS', date: '2020-05-05' }] }]);
  const movedBookingId = (await harness.apis.nomis.getAlertsToMigrate(from)).latestBookingAlerts[0]!.bookingId;
  const [toBefore, fromBefore] = [await dpsAlerts(to), await dpsAlerts(from)];

  const since = new Date();
  await harness.control.moveBooking({ bookingId: movedBookingId, from, to });
  await Promise.all([waitForPrisonerSync(harness, from, since), waitForPrisonerSync(harness, to, since)]);

  expect(await invariantViolations(harness, from)).toEqual([]);
  expect(await invariantViolations(harness, to)).toEqual([]);
  // From NOMIS, `to` would have taken the moved booking's XA, HA and VI, and `from` its old booking's RSS.
  expect(await dpsAlerts(to)).toEqual(toBefore);
  expect(await dpsAlerts(from)).toEqual(fromBefore);
  expect(await nomisCodes(to)).toEqual(['HS']);
  expect(await nomisCodes(from)).toEqual(['HA', 'VI', 'XA']);
});

test('booking moved off the prisoner’s only booking, from DPS: no DPS alerts and no mappings are left', async () => {
  const to = await syncedPrisoner([{ alertCode: 'HS', date: '2023-05-05' }]);
  const from = await syncedPrisoner();
  const movedBookingId = (await harness.apis.nomis.getAlertsToMigrate(from)).latestBookingAlerts[0]!.bookingId;

  const since = new Date();
  await harness.control.moveBooking({ bookingId: movedBookingId, from, to });
  await Promise.all([waitForPrisonerSync(harness, from, since), waitForPrisonerSync(harness, to, since)]);

  expect(await removedPrisonerState(harness, from)).toEqual({ dpsAlerts: [], mappings: [] });
  expect(await invariantViolations(harness, from)).toEqual([]);
  expect(await invariantViolations(harness, to)).toEqual([]);
  expect(await nomisCodes(to)).toEqual(['HS']);
});

test('merge from DPS: the retained prisoner gets the union of both prisoners’ active DPS alerts, one per code', async () => {
  const retained = await syncedPrisoner([
    { alertCode: 'XA', date: '2024-01-10', comment: 'retained XA' },
    { alertCode: 'RSS', date: '2024-01-11', comment: 'retained RSS' },
  ]);
  const removed = await syncedPrisoner([
    { alertCode: 'RSS', date: '2024-03-03', comment: 'removed RSS, a code the retained has active' },
    { alertCode: 'HA', date: '2024-02-02', comment: 'removed HA' },
    { alertCode: 'HS', date: '2022-01-01', expiryDate: '2022-02-01', comment: 'removed HS, inactive' },
  ]);
  // DPS no longer has the retained prisoner's XA: a merge from NOMIS would bring it back.
  await dpsDropsSilently(retained, 'XA');

  const since = new Date();
  await harness.control.merge({ retained, removed });
  const run = await waitForPrisonerSync(harness, retained, since);

  expect(run.status.name).toBe('COMPLETED');
  expect(await invariantViolations(harness, retained)).toEqual([]);
  const merged = await harness.apis.dps.getPrisonerAlerts(retained);
  expect(merged.map((a) => `${a.alertCode.code} ${a.description}`).sort()).toEqual([
    'HA removed HA',
    'RSS retained RSS',
  ]);
  expect(await nomisCodes(retained)).toEqual(['HA', 'RSS']);
  expect(await removedPrisonerState(harness, removed)).toEqual({ dpsAlerts: [], mappings: [] });
  expect(await invariantViolations(harness, removed)).toEqual([]);
  const result = await prisonerSyncResult(harness, retained);
  expect(result.passes.flatMap((p) => p.removedPrisonNumbers)).toEqual([removed]);
  expect(await resyncKinds(retained, 2)).toEqual([SyncKind.resync, SyncKind.mergeFromDps]);
});

/** The operator's command, as an operator runs it, against this harness's deployment (its task queue). */
function switchesCommand(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'clients/switches.ts', ...args], {
      cwd: path.resolve(__dirname, '..', '..'),
      env: {
        ...process.env,
        DATABASE_URL: config.postgres.url,
        TEMPORAL_TASK_QUEUE: harness.taskQueue,
        // As long as the harness's processes keep what they read.
        SYNC_SWITCHES_CACHE_MS: '300',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) =>
      code === 0 ? resolve(output) : reject(new Error(`switches exited ${code}: ${output}`)),
    );
  });
}

/** ADR002's end state, switched on for `run` with the operator's command, and back to two-way after. */
async function inOneWayEndState(run: () => Promise<void>): Promise<void> {
  await switchesCommand(
    'set',
    'resync-source=dps',
    'nomis-to-dps=off',
    '--reason',
    'ADR002 end state',
    '--by',
    'tester',
  );
  try {
    await run();
  } finally {
    await switchesCommand('set', 'nomis-to-dps=on', '--reason', 'back to two-way', '--by', 'tester');
  }
}

test('switches flipped while events flow: each change applies from the next event on, and nothing is lost', async () => {
  const prisoners = await Promise.all([1, 2, 3, 4, 5, 6].map(() => syncedPrisoner()));
  const [first, second, third, fourth, ...busy] = prisoners as [string, string, string, string, string, string];
  await switchesCommand('set', 'resync-source=nomis', '--reason', 'start from NOMIS', '--by', 'tester');

  // Users keep changing alerts on both sides of two other prisoners the whole time, across the flip.
  let stop = false;
  const changes: Array<{ prisonNumber: string; side: 'NOMIS' | 'DPS'; text: string }> = [];
  const users = (async () => {
    for (let n = 0; !stop; n++) {
      const prisonNumber = busy[n % busy.length]!;
      const text = `flow change ${n}`;
      // NOMIS users edit the XA alert, DPS users the HA one: not one alert edited on both sides at once.
      if (n % 4 < 2) {
        const alerts = (await harness.apis.nomis.getAlertsToMigrate(prisonNumber)).latestBookingAlerts;
        const alert = alerts.find((a) => a.alertCode.code === 'XA')!;
        await harness.control.updateNomisAlert(alert.bookingId, alert.alertSequence, { comment: text });
      } else {
        const alert = (await harness.apis.dps.getPrisonerAlerts(prisonNumber)).find((a) => a.alertCode.code === 'HA')!;
        await harness.control.updateDpsAlert(alert.alertUuid, { description: text });
      }
      changes.push({ prisonNumber, side: n % 4 < 2 ? 'NOMIS' : 'DPS', text });
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  })();
  users.catch(() => undefined); // awaited below

  let since = new Date();
  await harness.control.newBooking(first);
  await waitForPrisonerSync(harness, first, since);
  const flipped = await switchesCommand('set', 'resync-source=dps', '--reason', 'ADR004 rehearsal', '--by', 'tester');
  expect(flipped).toContain('after:  resync-source=dps nomis-to-dps=on dps-to-nomis=on (by tester');
  expect(flipped).toContain('in force for every event consumed from now on');
  since = new Date();
  await harness.control.newBooking(second);
  await harness.control.merge({ retained: third, removed: fourth });
  await Promise.all([waitForPrisonerSync(harness, second, since), waitForPrisonerSync(harness, third, since)]);
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  stop = true;
  await users;

  // Before the flip from NOMIS, after it from DPS: from the next event on.
  expect(await resyncKinds(first, 2)).toEqual([SyncKind.resync, SyncKind.resync]);
  expect(await resyncKinds(second, 2)).toEqual([SyncKind.resync, SyncKind.resyncFromDps]);
  expect(await resyncKinds(third, 2)).toEqual([SyncKind.resync, SyncKind.mergeFromDps]);
  expect(await removedPrisonerState(harness, fourth)).toEqual({ dpsAlerts: [], mappings: [] });
  // Every user's last change of each alert reached the other side, none undone, and every prisoner is in step.
  expect(changes.length).toBeGreaterThan(8);
  for (const prisonNumber of busy) {
    const mine = changes.filter((c) => c.prisonNumber === prisonNumber);
    const lasts = [mine.filter((c) => c.side === 'NOMIS').at(-1)!, mine.filter((c) => c.side === 'DPS').at(-1)!];
    await eventually(
      async () => {
        const nomis = (await harness.apis.nomis.getAlertsToMigrate(prisonNumber)).latestBookingAlerts;
        const dps = await harness.apis.dps.getPrisonerAlerts(prisonNumber);
        const both = lasts.every(
          (last) => nomis.some((a) => a.comment === last.text) && dps.some((a) => a.description === last.text),
        );
        return both && (await invariantViolations(harness, prisonNumber)).length === 0 ? true : undefined;
      },
      `${prisonNumber}'s last changes (${lasts.map((l) => l.text).join(', ')}) on both sides`,
    );
    await waitForPrisonerSync(harness, prisonNumber, new Date(0));
    const result = await prisonerSyncResult(harness, prisonNumber);
    expect(result.alertSyncs.filter((a) => a.outcome === 'failed')).toEqual([]);
  }
  for (const prisonNumber of prisoners) expect(await invariantViolations(harness, prisonNumber)).toEqual([]);

  const shown = await switchesCommand('show');
  expect(shown).toContain('resync-source=dps');
  expect(shown).toMatch(/tester: resync-source=nomis .* -> resync-source=dps .*\(ADR004 rehearsal\)/);
});

test('one-way DPS -> NOMIS (ADR002’s end state): a NOMIS user’s new alert is not copied, a DPS user’s still reaches NOMIS', async () => {
  const prisonNumber = await syncedPrisoner();
  await inOneWayEndState(async () => {
    let since = new Date();
    await harness.control.addNomisAlert(prisonNumber, { alertCode: 'RSS', date: '2024-05-05', comment: 'NOMIS user' });
    await harness.control.createDpsAlert(prisonNumber, { alertCode: 'PEEP', activeFrom: '2024-05-06' });
    await waitForPrisonerSync(harness, prisonNumber, since);
    const dpsCodes = (await harness.apis.dps.getPrisonerAlerts(prisonNumber)).map((a) => a.alertCode.code).sort();
    expect(dpsCodes).toEqual(['HA', 'PEEP', 'VI', 'XA']);
    expect(await nomisCodes(prisonNumber)).toEqual(['HA', 'PEEP', 'RSS', 'VI', 'XA']);

    // The next prisoner-level event makes NOMIS match DPS: the uncopied NOMIS alert goes.
    since = new Date();
    await harness.control.newBooking(prisonNumber);
    await waitForPrisonerSync(harness, prisonNumber, since);
    expect(await nomisCodes(prisonNumber)).toEqual(['HA', 'PEEP', 'VI', 'XA']);
    expect(await invariantViolations(harness, prisonNumber)).toEqual([]);
  });
});

test('one-way: a DPS user’s alert NOMIS refuses fails visibly, and the resync that follows is from DPS, keeping it', async () => {
  const prisonNumber = await syncedPrisoner();
  await inOneWayEndState(async () => {
    // A NOMIS user's RSS, not copied; then a DPS user's RSS, which NOMIS refuses (an active RSS is on the booking).
    await harness.control.addNomisAlert(prisonNumber, { alertCode: 'RSS', date: '2024-05-05', comment: 'NOMIS user' });
    const since = new Date();
    await harness.control.createDpsAlert(prisonNumber, {
      alertCode: 'RSS',
      activeFrom: '2024-05-07',
      description: 'DPS user',
    });
    await eventually(async () => {
      const result = await prisonerSyncResult(harness, prisonNumber).catch(() => undefined);
      return result && result.passes.length > 0 ? result : undefined;
    }, 'the failed alert sync and the resync after it');
    await waitForPrisonerSync(harness, prisonNumber, since);
    const result = await prisonerSyncResult(harness, prisonNumber);
    expect(result.alertSyncs.filter((a) => a.outcome === 'failed').map((a) => a.failure?.type)).toEqual([
      'NomisConflict',
    ]);
    expect(await resyncKinds(prisonNumber, 2)).toEqual([SyncKind.resync, SyncKind.resyncFromDps]);
    const rss = (await harness.apis.nomis.getAlertsToMigrate(prisonNumber)).latestBookingAlerts.filter(
      (a) => a.alertCode.code === 'RSS',
    );
    expect(rss.map((a) => a.comment)).toEqual(['DPS user']);
    expect(await invariantViolations(harness, prisonNumber)).toEqual([]);
  });
});

test('a bulk resync copies from the side switched on, or from the one it is told', async () => {
  const [a, b] = await Promise.all([syncedPrisoner(), syncedPrisoner()]);
  await dpsDropsSilently(a!, 'HA');
  await dpsDropsSilently(b!, 'HA');
  const fromSwitch = await startOrAttachBatch(harness.client, harness.taskQueue, {
    prisonNumbers: [a!],
    concurrency: 2,
    ratePerSecond: 10,
  });
  const told = await startOrAttachBatch(harness.client, harness.taskQueue, {
    prisonNumbers: [b!],
    concurrency: 2,
    ratePerSecond: 10,
    source: 'NOMIS',
  });
  expect(told.batchId).toMatch(/-from-nomis$/);
  expect(await fromSwitch.handle.result()).toMatchObject({ done: 1, failed: 0 });
  expect(await told.handle.result()).toMatchObject({ done: 1, failed: 0 });
  // From DPS, NOMIS lost HA as DPS had; from NOMIS, DPS got HA back.
  expect(await nomisCodes(a!)).toEqual(['VI', 'XA']);
  expect((await harness.apis.dps.getPrisonerAlerts(b!)).map((x) => x.alertCode.code).sort()).toEqual([
    'HA',
    'VI',
    'XA',
  ]);
  expect(await resyncKinds(a!, 2)).toEqual([SyncKind.resync, SyncKind.resyncFromDps]);
  expect(await resyncKinds(b!, 2)).toEqual([SyncKind.resync, SyncKind.resync]);
  for (const p of [a!, b!]) expect(await invariantViolations(harness, p)).toEqual([]);
});

test('from DPS, NOMIS users’ new alert, edit and delete not yet copied reach DPS before NOMIS is replaced', async () => {
  const prisonNumber = await syncedPrisoner();
  // Their events are skipped while the direction is off: as if still on their way when the resync runs.
  await harness.setSwitches({ nomisToDps: false });
  const skippedBefore = harness.router.snapshot()['skipped:direction-switched-off'] ?? 0;
  const alerts = (await harness.apis.nomis.getAlertsToMigrate(prisonNumber)).latestBookingAlerts;
  const find = (code: string) => alerts.find((a) => a.alertCode.code === code)!;
  await harness.control.addNomisAlert(prisonNumber, { alertCode: 'RSS', date: '2024-05-05', comment: 'new in NOMIS' });
  await harness.control.updateNomisAlert(find('XA').bookingId, find('XA').alertSequence, {
    comment: 'edited in NOMIS',
  });
  await harness.control.deleteNomisAlert(find('HA').bookingId, find('HA').alertSequence);
  // Only once the router has passed all three may the direction come back on: a later one would be copied and its
  // workflow, started before the resync is asked for, would carry the resync too.
  await eventually(
    async () => (harness.router.snapshot()['skipped:direction-switched-off'] ?? 0) >= skippedBefore + 3 || undefined,
    'the router to skip the three NOMIS events',
  );
  await harness.setSwitches({ nomisToDps: true });

  const since = new Date();
  await requestResync(harness.client, harness.taskQueue, prisonNumber, 'operator, from DPS', 'DPS');
  await waitForPrisonerSync(harness, prisonNumber, since);

  const dps = await harness.apis.dps.getPrisonerAlerts(prisonNumber);
  expect(dps.map((a) => `${a.alertCode.code} ${a.description}`).sort()).toEqual([
    'RSS new in NOMIS',
    'VI victim of assault',
    'XA edited in NOMIS',
  ]);
  expect(await nomisCodes(prisonNumber)).toEqual(['RSS', 'VI', 'XA']);
  expect(await invariantViolations(harness, prisonNumber)).toEqual([]);
  const result = await prisonerSyncResult(harness, prisonNumber);
  expect(result.failedResyncs).toEqual([]);
});
