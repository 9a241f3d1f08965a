import { deleteMappingByDpsAlertId, listPrisonerMappings } from '../../adapters/db';
import { startOrAttachBatch } from '../../clients/bulk-batch';
import type { ScheduleSettings } from '../../clients/reconciliation';
import { runReconciliationNow, upsertReconciliationSchedule } from '../../clients/reconciliation';
import { SYNC_AUDIT_MODULE } from '../../common/contract';
import { SYNC_KIND } from '../../common/search-attributes';
import { SyncKind } from '../../common/sync-kinds';
import type { Harness } from '../helpers/harness';
import { prisonersOutOfSync, seedPrisoners } from '../helpers/harness';
import { useHarness } from '../helpers/e2e';
import { uniqueSuffix } from '../helpers/stack';

// Reconciliation as a real Temporal Schedule on the real stack: data made to drift behind the sync's back (writes
// whose events the router rightly ignores as the sync's own, a lost mapping row) is found, exactly, and with
// auto-resync on, put right.

let harness: Harness;
let settings: ScheduleSettings;
// Declared first: after-all hooks run in declaration order, and the schedule goes while the harness's client is open.
afterAll(async () => {
  await harness?.client.schedule
    .getHandle(settings.scheduleId)
    .delete()
    .catch(() => undefined);
});
useHarness('reconcile', (started) => (harness = started));
beforeAll(async () => {
  const suffix = uniqueSuffix();
  settings = {
    scheduleId: `reconciliation-test-${suffix}`,
    workflowId: `reconciliation-test-${suffix}`,
    taskQueue: harness.taskQueue,
    interval: '1h',
    // Paused: only the test's triggers run it.
    paused: true,
    input: { autoResync: false, pageSize: 7, recheckDelay: '1s', resync: { concurrency: 5, ratePerSecond: 50 } },
  };
});

test('reconciliation finds exactly the prisoners that drifted and, with auto-resync on, fixes them', async () => {
  const prisonNumbers = await seedPrisoners(harness, 24, 'RCN');
  const batch = await startOrAttachBatch(harness.client, harness.taskQueue, {
    prisonNumbers,
    concurrency: 10,
    ratePerSecond: 100,
  });
  expect(await batch.handle.result()).toMatchObject({ done: 24, failed: 0 });
  expect(await prisonersOutOfSync(harness, prisonNumbers)).toEqual([]);

  // Drift, four ways, none of which the sync hears about.
  const [dpsLost, nomisExtra, mappingLost, dpsExtra] = [
    prisonNumbers[2],
    prisonNumbers[9],
    prisonNumbers[15],
    prisonNumbers[22],
  ] as [string, string, string, string];
  const [lostAlert] = await harness.apis.dps.getPrisonerAlerts(dpsLost);
  await harness.apis.dps.deleteAlert(lostAlert?.alertUuid ?? ''); // with Source: NOMIS, so its event is ignored
  await harness.apis.nomis.createAlert(nomisExtra, {
    alertCode: 'RCP',
    date: '2024-09-01',
    isActive: true,
    createUsername: SYNC_AUDIT_MODULE, // audited DPS_SYNCHRONISATION, so its event is ignored
  });
  const [mapping] = await listPrisonerMappings(harness.db, mappingLost);
  await deleteMappingByDpsAlertId(harness.db, mapping?.dpsAlertId ?? '');
  await harness.apis.dps.createAlert(dpsExtra, {
    alertCode: 'RCP',
    activeFrom: '2024-09-02',
    createdAt: '2024-09-02T10:00:00',
    createdBy: 'SOMEONE',
    createdByDisplayName: 'Someone',
  });
  const drifted = [dpsLost, nomisExtra, mappingLost, dpsExtra].sort();
  expect(await prisonersOutOfSync(harness, prisonNumbers)).toEqual(drifted);

  // Report only.
  expect(await upsertReconciliationSchedule(harness.client, settings)).toBe('created');
  const reportRun = await runReconciliationNow(harness.client, settings.scheduleId);
  const report = await reportRun.result();
  expect(report.checked).toBe(24);
  expect(report.mismatched).toBe(4);
  expect(report.drifted.map((d) => d.prisonNumber).sort()).toEqual(drifted);
  for (const d of report.drifted) expect(d.problems.length).toBeGreaterThan(0);
  expect(report.resync).toBeUndefined();
  expect((await reportRun.describe()).typedSearchAttributes.get(SYNC_KIND)).toBe(SyncKind.reconciliation);
  expect(await prisonersOutOfSync(harness, prisonNumbers)).toEqual(drifted);

  // Auto-resync on (a config change, applied by updating the schedule).
  settings = { ...settings, input: { ...settings.input, autoResync: true } };
  expect(await upsertReconciliationSchedule(harness.client, settings)).toBe('updated');
  const fixRun = await runReconciliationNow(harness.client, settings.scheduleId);
  const fixed = await fixRun.result();
  expect(fixed.drifted.map((d) => d.prisonNumber).sort()).toEqual(drifted);
  expect(fixed.resync).toMatchObject({ total: 4, done: 4, failed: 0 });
  expect(await prisonersOutOfSync(harness, prisonNumbers)).toEqual([]);

  // And the next run finds nothing.
  const clean = await (await runReconciliationNow(harness.client, settings.scheduleId)).result();
  expect(clean).toMatchObject({ checked: 24, mismatched: 0, drifted: [] });
});
