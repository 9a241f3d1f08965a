import type { AlertAction, AlertSyncRequest, ResyncRequest, SyncRequest } from '../../workflows/messages';
import { InPlaceResyncWatch, MAX_REMEMBERED_EVENT_IDS, PrisonerQueue } from '../../workflows/prisoner-queue';

// The prisoner queue's rules without a server: what runs next, what a resync covers, what a delete supersedes.

const nomis = (action: AlertAction, alertSeq: number, eventId?: string): AlertSyncRequest => ({
  kind: 'alert',
  reason: `NOMIS ${alertSeq} ${action}`,
  change: { direction: 'NOMIS_TO_DPS', action, bookingId: 1, alertSeq },
  ...(eventId ? { eventId } : {}),
});
const dps = (action: AlertAction, dpsAlertId: string): AlertSyncRequest => ({
  kind: 'alert',
  reason: `DPS ${dpsAlertId} ${action}`,
  change: { direction: 'DPS_TO_NOMIS', action, dpsAlertId, alertCode: 'XA' },
});
const resync = (reason: string, source?: 'DPS' | 'NOMIS'): ResyncRequest => ({
  kind: 'resync',
  reason,
  ...(source ? { source } : {}),
});
const never = () => false;
const reasons = (requests: readonly SyncRequest[]) => requests.map((r) => r.reason);

function drain(queue: PrisonerQueue) {
  const steps = [];
  for (let step = queue.next(); step; step = queue.next()) steps.push(step);
  return steps;
}

describe('PrisonerQueue', () => {
  test('alert changes alone run one at a time, in arrival order', () => {
    const queue = new PrisonerQueue();
    for (const request of [nomis('CREATED', 1), dps('UPDATED', 'a'), nomis('UPDATED', 1)])
      queue.receive(request, never);
    const steps = drain(queue);
    expect(steps.map((s) => (s.kind === 'alert' ? s.request.reason : s.kind))).toEqual([
      'NOMIS 1 CREATED',
      'DPS a UPDATED',
      'NOMIS 1 UPDATED',
    ]);
    expect(queue.length).toBe(0);
  });

  test('every resync waiting coalesces into one, and it covers the NOMIS changes queued before it', () => {
    const queue = new PrisonerQueue([
      nomis('CREATED', 1),
      resync('received'),
      nomis('UPDATED', 1),
      resync('booking moved'),
      nomis('UPDATED', 2),
    ]);
    const [first, ...rest] = drain(queue);
    expect(first).toEqual({
      kind: 'resync',
      alertSyncsFirst: [],
      resyncs: [{ source: 'NOMIS', requests: [resync('received'), resync('booking moved')] }],
    });
    expect(queue.absorbed).toBe(2);
    // What arrived after the last resync is not covered: it runs after it.
    expect(rest).toEqual([{ kind: 'alert', request: nomis('UPDATED', 2) }]);
  });

  test("a DPS user's change queued before a resync from NOMIS runs first, in order, not absorbed", () => {
    const queue = new PrisonerQueue([dps('CREATED', 'a'), nomis('CREATED', 1), dps('UPDATED', 'a'), resync('merge')]);
    const step = queue.next();
    expect(step?.kind === 'resync' && reasons(step.alertSyncsFirst)).toEqual(['DPS a CREATED', 'DPS a UPDATED']);
    expect(queue.absorbed).toBe(1);
  });

  test('a resync from DPS covers the DPS changes and lets the NOMIS changes run first', () => {
    const queue = new PrisonerQueue([dps('UPDATED', 'a'), nomis('UPDATED', 1), resync('ADR004', 'DPS')]);
    const step = queue.next();
    expect(step?.kind === 'resync' && reasons(step.alertSyncsFirst)).toEqual(['NOMIS 1 UPDATED']);
    expect(step?.kind === 'resync' && step.resyncs.map((r) => r.source)).toEqual(['DPS']);
    expect(queue.absorbed).toBe(1);
  });

  test('with the resync source switched between requests, one resync per source, the latest last, nothing absorbed', () => {
    const queue = new PrisonerQueue([
      resync('a', 'DPS'),
      nomis('UPDATED', 1),
      resync('b'),
      dps('UPDATED', 'x'),
      resync('c', 'DPS'),
    ]);
    const step = queue.next();
    expect(step?.kind === 'resync' && reasons(step.alertSyncsFirst)).toEqual(['NOMIS 1 UPDATED', 'DPS x UPDATED']);
    expect(step?.kind === 'resync' && step.resyncs.map((r) => [r.source, reasons(r.requests)])).toEqual([
      ['NOMIS', ['b']],
      ['DPS', ['a', 'c']],
    ]);
    expect(queue.absorbed).toBe(0);
  });

  test('a redelivered event is ignored and counted; one without an id is never taken for a duplicate', () => {
    const queue = new PrisonerQueue([nomis('CREATED', 1, 'e1')], ['e0']);
    expect(queue.receive(nomis('CREATED', 1, 'e1'), never)).toBe(false);
    expect(queue.receive(nomis('CREATED', 2, 'e0'), never)).toBe(false);
    expect(queue.receive(nomis('UPDATED', 2), never)).toBe(true);
    expect(queue.receive(nomis('UPDATED', 2), never)).toBe(true);
    expect(queue.duplicatesIgnored).toBe(2);
    expect(queue.length).toBe(3);
  });

  test('only a DPS edit is asked whether a resync may overwrite it, and is marked so', () => {
    const queue = new PrisonerQueue();
    const asked: string[] = [];
    const overwritable = (reason: string) => () => (asked.push(reason), true);
    for (const request of [dps('UPDATED', 'a'), dps('CREATED', 'b'), nomis('UPDATED', 1), dps('DELETED', 'c')])
      queue.receive(request, overwritable(request.reason));
    expect(asked).toEqual(['DPS a UPDATED']);
    expect(drain(queue).map((s) => s.kind === 'alert' && s.request.duringResync)).toEqual([
      true,
      undefined,
      undefined,
      undefined,
    ]);
  });

  test('a resync from NOMIS starting marks the DPS edits already queued behind it', () => {
    const queue = new PrisonerQueue([dps('UPDATED', 'a'), dps('CREATED', 'b'), nomis('UPDATED', 1)]);
    queue.resyncFromNomisStarted();
    expect(drain(queue).map((s) => s.kind === 'alert' && s.request.duringResync)).toEqual([true, undefined, undefined]);
  });

  test("a DPS user's change is superseded by their delete queued behind it; NOMIS changes never are", () => {
    const queue = new PrisonerQueue([dps('DELETED', 'a')]);
    expect(queue.supersededBy(dps('UPDATED', 'a'))).toEqual({ runIt: false, superseded: [dps('UPDATED', 'a')] });
    expect(queue.supersededBy(dps('UPDATED', 'b'))).toEqual({ runIt: true, superseded: [] });
    expect(queue.supersededBy(nomis('UPDATED', 1))).toEqual({ runIt: true, superseded: [] });
    expect(queue.length).toBe(1);
  });

  test("a DPS delete takes the same alert's changes put back to wait out of the queue, and runs", () => {
    const queue = new PrisonerQueue([
      dps('UPDATED', 'a'),
      nomis('UPDATED', 1),
      dps('CREATED', 'a'),
      dps('UPDATED', 'b'),
    ]);
    const { runIt, superseded } = queue.supersededBy(dps('DELETED', 'a'));
    expect(runIt).toBe(true);
    expect(reasons(superseded)).toEqual(['DPS a CREATED', 'DPS a UPDATED']);
    expect(reasons(drain(queue).map((s) => (s.kind === 'alert' ? s.request : resync('?'))))).toEqual([
      'NOMIS 1 UPDATED',
      'DPS b UPDATED',
    ]);
  });

  test('a change put back waits behind what is queued; alone, it says so (the workflow then sleeps)', () => {
    const queue = new PrisonerQueue([nomis('CREATED', 1)]);
    expect(queue.defer(nomis('UPDATED', 1))).toBe(false);
    const step = queue.next();
    expect(step).toEqual({ kind: 'alert', request: nomis('CREATED', 1) });
    const deferred = queue.next();
    expect(deferred).toEqual({ kind: 'alert', request: { ...nomis('UPDATED', 1), deferrals: 1 } });
    expect(deferred?.kind === 'alert' && queue.defer(deferred.request)).toBe(true);
    expect(queue.next()).toEqual({ kind: 'alert', request: { ...nomis('UPDATED', 1), deferrals: 2 } });
  });

  test('a resync queued after a failure runs behind everything queued, from the source given', () => {
    const queue = new PrisonerQueue([dps('UPDATED', 'a')]);
    queue.queueResync('after failed x', 'DPS');
    queue.queueResync('after failed y', 'NOMIS');
    const step = queue.next();
    expect(step?.kind === 'resync' && step.resyncs).toEqual([
      { source: 'DPS', requests: [{ kind: 'resync', reason: 'after failed x', source: 'DPS' }] },
      { source: 'NOMIS', requests: [{ kind: 'resync', reason: 'after failed y' }] },
    ]);
  });

  test('continue-as-new carries what is queued and the latest event ids, bounded', () => {
    const handled = Array.from({ length: MAX_REMEMBERED_EVENT_IDS + 5 }, (_, i) => `e${i}`);
    const queue = new PrisonerQueue([nomis('UPDATED', 1, 'last')], handled);
    queue.next();
    queue.receive(resync('received'), never);
    const carried = queue.carryOver();
    expect(carried.requests).toEqual([resync('received')]);
    expect(carried.handledEventIds).toHaveLength(MAX_REMEMBERED_EVENT_IDS);
    expect(carried.handledEventIds.at(-1)).toBe('last');
    expect(carried.handledEventIds).not.toContain('e0');
    // The next run still knows the ids it carried.
    expect(
      new PrisonerQueue(carried.requests, carried.handledEventIds).receive(nomis('UPDATED', 1, 'last'), never),
    ).toBe(false);
  });
});

describe('InPlaceResyncWatch', () => {
  test('only the first workflow task after an in-place resync holds what was sent while it ran', () => {
    const watch = new InPlaceResyncWatch();
    expect(watch.sentDuring(5)).toBe(false); // none ran yet
    watch.ended(20);
    expect(watch.sentDuring(20)).toBe(false); // the same task
    expect(watch.sentDuring(24)).toBe(true); // the first task after it
    expect(watch.sentDuring(24)).toBe(true); // more of that task's signals
    expect(watch.sentDuring(30)).toBe(false); // a later task
    watch.ended(40);
    expect(watch.sentDuring(43)).toBe(true);
  });
});
