import { ReportGroups } from '../../activities/report-groups';

// A worker's reports to a batch, grouped into one signal per waiter and linger, and never acknowledged unsent.

interface Sent {
  workflowId: string;
  reports: string[];
}

function recorder(fail?: (workflowId: string) => Error | undefined) {
  const sent: Sent[] = [];
  const send = async (workflowId: string, reports: string[]) => {
    const err = fail?.(workflowId);
    if (err) throw err;
    sent.push({ workflowId, reports });
  };
  return { sent, send };
}

test('reports to one waiter within the linger go as one group, each waiter its own, each report once', async () => {
  const { sent, send } = recorder();
  const groups = new ReportGroups<string>(send, 30);

  await Promise.all([
    groups.report('batch-a', 'A0001AA'),
    groups.report('batch-b', 'B0001BB'),
    groups.report('batch-a', 'A0002AA'),
    groups.report('batch-a', 'A0003AA'),
  ]);

  expect(sent).toEqual([
    { workflowId: 'batch-a', reports: ['A0001AA', 'A0002AA', 'A0003AA'] },
    { workflowId: 'batch-b', reports: ['B0001BB'] },
  ]);
});

test('a report is not acknowledged before its group was sent, and one after the linger starts a new group', async () => {
  const { sent, send } = recorder();
  const groups = new ReportGroups<string>(send, 20);

  let acknowledged = false;
  const first = groups.report('batch-a', 'A0001AA').then(() => (acknowledged = true));
  expect(acknowledged).toBe(false);
  expect(sent).toEqual([]);
  await first;
  expect(sent).toEqual([{ workflowId: 'batch-a', reports: ['A0001AA'] }]);

  await groups.report('batch-a', 'A0002AA');
  expect(sent.map((s) => s.reports)).toEqual([['A0001AA'], ['A0002AA']]);
});

test('a full group goes at once, without waiting for the linger', async () => {
  const { sent, send } = recorder();
  const groups = new ReportGroups<string>(send, 60_000, 2);

  await Promise.all([groups.report('batch-a', 'A0001AA'), groups.report('batch-a', 'A0002AA')]);

  expect(sent).toEqual([{ workflowId: 'batch-a', reports: ['A0001AA', 'A0002AA'] }]);
});

test('a send that throws at once, not by rejecting, fails every report in its group too', async () => {
  const groups = new ReportGroups<string>(
    () => {
      throw new Error('no connection');
    },
    60_000,
    2,
  );

  const outcomes = await Promise.allSettled([groups.report('batch-a', 'A0001AA'), groups.report('batch-a', 'A0002AA')]);

  expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
});

test('a failed send fails every report in its group (their activities retry) and no other', async () => {
  const { sent, send } = recorder((workflowId) =>
    workflowId === 'batch-a' ? new Error('Temporal unavailable') : undefined,
  );
  const groups = new ReportGroups<string>(send, 20);

  const outcomes = await Promise.allSettled([
    groups.report('batch-a', 'A0001AA'),
    groups.report('batch-a', 'A0002AA'),
    groups.report('batch-b', 'B0001BB'),
  ]);

  expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'fulfilled']);
  expect(outcomes[0]).toMatchObject({ reason: new Error('Temporal unavailable') });
  expect(sent).toEqual([{ workflowId: 'batch-b', reports: ['B0001BB'] }]);
});
