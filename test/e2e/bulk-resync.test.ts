import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { attachBatch, startOrAttachBatch, watchBatch } from '../../clients/bulk-batch';
import { prisonerSyncWorkflowId } from '../../common/ids';
import { PRISON_NUMBER, SYNC_KIND } from '../../common/search-attributes';
import { SyncKind } from '../../common/sync-kinds';
import type { BulkResyncProgress } from '../../workflows/messages';
import type { PrisonerSyncResult } from '../../workflows/prisoner-sync';
import type { Harness } from '../helpers/harness';
import { prisonersOutOfSync, seedPrisoners } from '../helpers/harness';
import { useHarness } from '../helpers/e2e';
import { eventually, uniqueSuffix } from '../helpers/stack';

// Bulk resync on the real stack: the batch workflow, its sliding window of resyncs through each prisoner's own
// workflow, the report, re-attaching after the client died, and not redoing finished prisoners.

const REPO_ROOT = path.resolve(__dirname, '../..');

let harness: Harness;
useHarness('bulk', (started) => (harness = started));
afterEach(async () => {
  await harness.control.clearFaults();
});

/**
 * How many resyncs each prisoner has had on this file's task queue: the passes every run of their workflow reports,
 * whether a pass ran in place or as a child run.
 */
async function resyncRunsPerPrisoner(): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const query = `TaskQueue="${harness.taskQueue}" AND ${SYNC_KIND.name}="${SyncKind.prisoner}"`;
  for await (const run of harness.client.workflow.list({ query })) {
    const prisonNumber = run.typedSearchAttributes.get(PRISON_NUMBER);
    if (!prisonNumber || run.status.name !== 'COMPLETED') continue;
    const result: PrisonerSyncResult = await harness.client.workflow.getHandle(run.workflowId, run.runId).result();
    counts.set(prisonNumber, (counts.get(prisonNumber) ?? 0) + result.passes.length);
  }
  return counts;
}

test('a bulk resync of 500 prisoners at a prison completes with a correct report and every prisoner in sync', async () => {
  const prisonId = `B${uniqueSuffix().slice(0, 3).toUpperCase()}`;
  const prisonNumbers = await seedPrisoners(harness, 500, prisonId);
  // Someone at another prison is not part of the batch.
  const [elsewhere] = await seedPrisoners(harness, 1, 'ZZZ');

  const { handle, batchId, attached } = await startOrAttachBatch(harness.client, harness.taskQueue, {
    prisonId,
    concurrency: 40,
    ratePerSecond: 50,
  });
  expect(attached).toBe(false);
  expect(batchId).toBe(`prison-${prisonId}`);
  const seen: BulkResyncProgress[] = [];
  const report = await watchBatch(handle, (p) => seen.push(p), 500);

  expect(report).toMatchObject({ batchId, total: 500, done: 500, failed: 0, skipped: 0, failures: [] });
  // The window was used and never exceeded; the counts always add up.
  expect(seen.some((p) => p.running > 1)).toBe(true);
  for (const p of seen) {
    expect(p.running).toBeLessThanOrEqual(40);
    expect(p.done + p.failed + p.running + p.pending).toBe(p.total - p.skipped);
  }
  expect(await prisonersOutOfSync(harness, prisonNumbers)).toEqual([]);
  expect(await harness.apis.dps.getPrisonerAlerts(elsewhere ?? '')).toEqual([]);

  // The Web UI's filter, through the same visibility API: one prisoner's workflow, and only theirs. Its resync
  // ran in place, in that workflow: no child run.
  const prisonNumber = prisonNumbers[17] ?? '';
  const runs = await eventually(async () => {
    const found = [];
    for await (const run of harness.client.workflow.list({ query: `${PRISON_NUMBER.name}="${prisonNumber}"` })) {
      found.push(run);
    }
    return found.length >= 1 ? found : undefined;
  }, `the workflows of ${prisonNumber} in visibility`);
  expect(runs.map((r) => r.workflowId)).toEqual([prisonerSyncWorkflowId(prisonNumber)]);
  expect(runs.map((r) => r.typedSearchAttributes.get(SYNC_KIND))).toEqual([SyncKind.prisoner]);
  const result: PrisonerSyncResult = await harness.client.workflow.getHandle(runs[0]!.workflowId).result();
  expect(result.passes).toEqual([
    {
      reasons: [`bulk resync prison-${prisonId}`],
      alertCount: expect.any(Number),
      removedPrisonNumbers: [],
      inPlace: true,
      source: 'NOMIS',
    },
  ]);
}, 900_000);

test('a batch where some prisoners get DPS 400s reports exactly those; running it again does only them', async () => {
  const prisonNumbers = await seedPrisoners(harness, 30, 'FLT');
  const rejected = [prisonNumbers[3], prisonNumbers[11], prisonNumbers[25]] as string[];
  await harness.control.setFaults([
    { api: 'dps', method: 'POST', path: `^/resync/(${rejected.join('|')})/alerts$`, status: 400 },
  ]);
  const request = { prisonNumbers, concurrency: 10, ratePerSecond: 100 };

  const first = await startOrAttachBatch(harness.client, harness.taskQueue, request);
  const report = await first.handle.result();
  expect(report.done).toBe(27);
  expect(report.failures.map((f) => f.prisonNumber).sort()).toEqual([...rejected].sort());
  for (const failure of report.failures) expect(failure.reason).toMatch(/^DpsBadRequest: /);
  expect((await prisonersOutOfSync(harness, prisonNumbers)).sort()).toEqual(
    rejected.filter((p) => p !== undefined).sort(),
  );

  // Fixed; the same batch again: the 27 done are skipped, the 3 failed are retried.
  await harness.control.clearFaults();
  const before = await resyncRunsPerPrisoner();
  const second = await startOrAttachBatch(harness.client, harness.taskQueue, request);
  expect(second.batchId).toBe(first.batchId);
  expect(await second.handle.result()).toMatchObject({ total: 30, skipped: 27, done: 3, failed: 0 });
  expect(await prisonersOutOfSync(harness, prisonNumbers)).toEqual([]);
  const after = await resyncRunsPerPrisoner();
  const redone = prisonNumbers.filter((p) => (after.get(p) ?? 0) > (before.get(p) ?? 0));
  expect(redone.sort()).toEqual([...rejected].sort());
}, 300_000);

function cli(args: string[]): { child: ChildProcessWithoutNullStreams; output: () => string; exit: Promise<number> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'clients/bulk-resync.ts', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, TEMPORAL_TASK_QUEUE: harness.taskQueue },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  return { child, output: () => output, exit };
}

test('killing the client mid-batch and re-attaching finishes the batch without redoing done work', async () => {
  const prisonNumbers = await seedPrisoners(harness, 80, 'KIL');
  const batch = `kill-${uniqueSuffix()}`;
  const args = [...prisonNumbers, '--batch', batch, '--concurrency', '3', '--rate', '5'];

  const first = cli(args);
  const doneSoFar = () => Math.max(0, ...[...first.output().matchAll(/ done (\d+) /g)].map((m) => Number(m[1])));
  await eventually(async () => doneSoFar() >= 5 || undefined, 'the first client to show progress', 60_000);
  first.child.kill('SIGKILL');
  await first.exit;
  const handle = attachBatch(harness.client, batch);
  expect((await handle.describe()).status.name).toBe('RUNNING');

  const second = cli(args);
  expect(await second.exit).toBe(0);
  expect(second.output()).toContain(`batch ${batch} is already running: attached to it`);
  expect(second.output()).toMatch(/80 prisoners, 80 resynced, 0 failed, 0 skipped/);

  // Each prisoner resynced exactly once, although two clients watched the batch.
  const runs = await resyncRunsPerPrisoner();
  expect(prisonNumbers.map((p) => runs.get(p))).toEqual(prisonNumbers.map(() => 1));
  expect(await prisonersOutOfSync(harness, prisonNumbers)).toEqual([]);

  // Once more after it finished: a new run of the batch that has nothing left to do.
  const third = cli(args);
  expect(await third.exit).toBe(0);
  expect(third.output()).toMatch(/80 prisoners, 0 resynced, 0 failed, 80 skipped/);
  const runsAfter = await resyncRunsPerPrisoner();
  expect(prisonNumbers.map((p) => runsAfter.get(p))).toEqual(prisonNumbers.map(() => 1));

  // Unless asked (later options win: faster this time).
  const redo = cli([...args, '--redo', '--concurrency', '20', '--rate', '100']);
  expect(await redo.exit).toBe(0);
  expect(redo.output()).toMatch(/80 prisoners, 80 resynced, 0 failed, 0 skipped/);
  const runsRedone = await resyncRunsPerPrisoner();
  expect(prisonNumbers.map((p) => runsRedone.get(p))).toEqual(prisonNumbers.map(() => 2));
}, 600_000);

test('the client names bad input and exits 2', async () => {
  const bad = cli(['A1234BC', 'not-a-prisoner', '--concurrency', '0']);
  expect(await bad.exit).toBe(2);
  expect(bad.output()).toContain('--concurrency must be a number above 0, got "0"');
  const badNumber = cli(['A1234BC', 'not-a-prisoner']);
  expect(await badNumber.exit).toBe(2);
  expect(badNumber.output()).toContain('not prison numbers (like A1234BC): not-a-prisoner');
});
