// A burst of events is routed side by side, one lane per prisoner: the events of one Kafka key (one prisoner,
// contract §1) stay in order within their lane, and an offset is committed only once every message up to it is
// done, so at-least-once holds however the lanes interleave.

/** The batch's messages split by key, each lane in the batch's order; lanes in order of their first message. */
export function lanesByKey<M extends { key: Buffer | null }>(messages: M[]): M[][] {
  const lanes = new Map<string, M[]>();
  for (const message of messages) {
    // A message without a key has no prisoner to keep in order with: it shares one lane with its like.
    const key = message.key?.toString('hex') ?? '';
    const lane = lanes.get(key);
    if (lane) lane.push(message);
    else lanes.set(key, [message]);
  }
  return [...lanes.values()];
}

/** Tracks which messages of a batch are done, out of order, and what can be committed: the done prefix. */
export class DonePrefix {
  private readonly done = new Set<string>();
  private next = 0;

  constructor(private readonly offsets: readonly string[]) {}

  /** Marks the message done; returns the last offset of the done prefix when that prefix grew, else undefined. */
  finish(offset: string): string | undefined {
    this.done.add(offset);
    const before = this.next;
    while (this.next < this.offsets.length && this.done.has(this.offsets[this.next] as string)) this.next++;
    return this.next > before ? this.offsets[this.next - 1] : undefined;
  }
}

/**
 * Handles every lane's messages in order, at most `limit` lanes at once, until `stopped()`. `handle` takes the
 * lane and where to start, and says how many messages from there it finished (0: none, start there again). On a failure no
 * lane takes another message; the messages in hand finish, then the first failure is thrown (the batch is
 * redelivered from the last committed offset, and the prisoners' workflows drop what they have seen by event id).
 */
export async function runLanes<M>(
  lanes: M[][],
  limit: number,
  handle: (lane: readonly M[], start: number) => Promise<number>,
  stopped: () => boolean,
): Promise<void> {
  let failure: { error: unknown } | undefined;
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < lanes.length; i = next++) {
      const lane = lanes[i] as M[];
      for (let at = 0; at < lane.length; ) {
        if (failure || stopped()) return;
        try {
          at += await handle(lane, at);
        } catch (error) {
          failure ??= { error };
          return;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, lanes.length) }, worker));
  if (failure) throw failure.error;
}

/**
 * How many items from `start` make one run: consecutive items for one and the same prisoner, within `fits` (a
 * signal's size); an item that names no single prisoner (`prisonerOf` undefined) is a run of its own. A run's
 * requests go to the prisoner's workflow in one signal-with-start: while the router is behind, a batch holds
 * several events per prisoner, and one call to Temporal instead of several is most of what routing costs.
 */
export function runLength<T>(
  lane: readonly T[],
  start: number,
  prisonerOf: (item: T) => string | undefined,
  fits: (run: readonly T[]) => boolean,
): number {
  const prisonNumber = prisonerOf(lane[start] as T);
  if (prisonNumber === undefined) return 1;
  let end = start + 1;
  while (end < lane.length && prisonerOf(lane[end] as T) === prisonNumber && fits(lane.slice(start, end + 1))) end++;
  return end - start;
}
