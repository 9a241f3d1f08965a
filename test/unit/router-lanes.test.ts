import { DonePrefix, lanesByKey, runLanes, runLength } from '../../clients/router/lanes';

// The router's lanes: one prisoner's events in order, prisoners side by side, offsets committed only over a
// prefix of done messages.

/** A handler of one message at a time, as runLanes takes it (the lane and where to start; how many it did). */
const oneAtATime =
  (handle: (m: string) => Promise<void>) =>
  async (lane: readonly string[], start: number): Promise<number> => {
    await handle(lane[start] as string);
    return 1;
  };

const message = (key: string | null, offset: number) => ({
  key: key === null ? null : Buffer.from(key),
  offset: String(offset),
});

test('a batch splits into one lane per key, each in the batch order', () => {
  const batch = [
    message('A', 1),
    message('B', 2),
    message('A', 3),
    message(null, 4),
    message('C', 5),
    message(null, 6),
  ];
  expect(lanesByKey(batch).map((lane) => lane.map((m) => m.offset))).toEqual([['1', '3'], ['2'], ['4', '6'], ['5']]);
});

test('the committable offset moves only over a prefix of done messages', () => {
  const done = new DonePrefix(['10', '11', '12', '13']);
  expect(done.finish('12')).toBeUndefined();
  expect(done.finish('11')).toBeUndefined();
  expect(done.finish('10')).toBe('12');
  expect(done.finish('13')).toBe('13');
});

test('lanes run side by side, each in order, never more than the limit at once', async () => {
  const handled: string[] = [];
  let inFlight = 0;
  let most = 0;
  const lanes = [['A1', 'A2', 'A3'], ['B1', 'B2'], ['C1'], ['D1', 'D2']];
  await runLanes(
    lanes,
    2,
    oneAtATime(async (m) => {
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, m.startsWith('A') ? 15 : 5));
      handled.push(m);
      inFlight--;
    }),
    () => false,
  );
  expect(most).toBe(2);
  expect([...handled].sort()).toEqual(lanes.flat().sort());
  for (const lane of lanes) expect(handled.filter((m) => lane.includes(m))).toEqual(lane);
  // B's lane did not wait for A's: side by side.
  expect(handled.indexOf('B2')).toBeLessThan(handled.indexOf('A2'));
});

test('after a failure no lane takes another message; those in hand finish; the failure is thrown', async () => {
  const handled: string[] = [];
  const run = runLanes(
    [
      ['A1', 'A2'],
      ['B1', 'B2'],
    ],
    2,
    oneAtATime(async (m) => {
      if (m === 'A1') throw new Error('Temporal refused');
      await new Promise((resolve) => setTimeout(resolve, 10));
      handled.push(m);
    }),
    () => false,
  );
  await expect(run).rejects.toThrow('Temporal refused');
  expect(handled).toEqual(['B1']);
});

test('a stopping router takes no further message', async () => {
  const handled: string[] = [];
  let stopping = false;
  await runLanes(
    [['A1', 'A2', 'A3']],
    4,
    oneAtATime(async (m) => {
      handled.push(m);
      stopping = true;
    }),
    () => stopping,
  );
  expect(handled).toEqual(['A1']);
});

test("a run is a lane's consecutive items for one prisoner, while they fit; anything else stands alone", () => {
  // "A1" asks a sync of prisoner A; "X" names no single prisoner (a merge, a skip, a dead letter).
  const prisonerOf = (item: string) => (item.startsWith('X') ? undefined : item[0]);
  const upTo3 = (run: readonly string[]) => run.length <= 3;
  const lane = ['A1', 'A2', 'A3', 'A4', 'X1', 'A5', 'B1', 'B2', 'X2', 'X3', 'A6'];
  const runs: string[][] = [];
  for (let at = 0; at < lane.length; ) {
    const length = runLength(lane, at, prisonerOf, upTo3);
    runs.push(lane.slice(at, at + length));
    at += length;
  }
  expect(runs).toEqual([['A1', 'A2', 'A3'], ['A4'], ['X1'], ['A5'], ['B1', 'B2'], ['X2'], ['X3'], ['A6']]);
  // What fits is up to the caller (the router: a count and a size in bytes).
  expect(runLength(lane, 0, prisonerOf, () => true)).toBe(4);
  expect(runLength(lane, 0, prisonerOf, () => false)).toBe(1);
});

test('a handler that takes several messages at once moves its lane on by that many', async () => {
  const taken: string[][] = [];
  await runLanes(
    [['A1', 'A2', 'A3', 'A4', 'A5']],
    1,
    async (lane, start) => {
      const run = lane.slice(start, start + 2);
      taken.push(run);
      return run.length;
    },
    () => false,
  );
  expect(taken).toEqual([['A1', 'A2'], ['A3', 'A4'], ['A5']]);
});

test('a handler that finished nothing (it decides again) is called again at the same message', async () => {
  const calls: number[] = [];
  await runLanes(
    [['A1', 'A2']],
    1,
    async (_lane, start) => {
      calls.push(start);
      return calls.length === 1 ? 0 : 1;
    },
    () => false,
  );
  expect(calls).toEqual([0, 0, 1]);
});
