// A token bucket on the workflow's clock: pure, so a workflow can use it deterministically.

export interface TokenBucket {
  tokens: number;
  /** Epoch ms of the last refill. */
  at: number;
}

/** Up to one second's worth of tokens accumulate, so a batch never bursts beyond its rate after a pause. */
export function refill(bucket: TokenBucket, now: number, ratePerSecond: number): TokenBucket {
  const capacity = Math.max(1, ratePerSecond);
  const elapsed = Math.max(0, now - bucket.at);
  return { tokens: Math.min(capacity, bucket.tokens + (elapsed * ratePerSecond) / 1000), at: now };
}

/** Milliseconds until `count` whole tokens are there (0 if they are). */
export function msUntilToken(bucket: TokenBucket, ratePerSecond: number, count = 1): number {
  return bucket.tokens >= count ? 0 : Math.ceil(((count - bucket.tokens) * 1000) / ratePerSecond);
}

/** What a sliding window of resyncs does next. */
export type WindowStep =
  | { action: 'start'; count: number }
  | { action: 'wait-for-rate'; ms: number }
  | { action: 'wait-for-finish' };

/**
 * The batch's window (workflows/bulk-resync.ts): start resyncs while there is room and rate, but only `refillAt`
 * or more at a time (fewer only when fewer are left), so that one finishing resync does not cost the batch a
 * request of its own. `refillAt` is capped by what the window and the bucket can ever hold, so the window always
 * moves on.
 */
export function nextWindowStep(window: {
  running: number;
  pending: number;
  concurrency: number;
  bucket: TokenBucket;
  ratePerSecond: number;
  refillAt: number;
}): WindowStep {
  const { running, pending, concurrency, bucket, ratePerSecond } = window;
  const free = Math.min(concurrency - running, pending);
  const want = Math.max(1, Math.min(window.refillAt, pending, concurrency, Math.floor(Math.max(1, ratePerSecond))));
  if (pending === 0 || free < want) return { action: 'wait-for-finish' };
  if (Math.floor(bucket.tokens) >= want) return { action: 'start', count: Math.min(free, Math.floor(bucket.tokens)) };
  return { action: 'wait-for-rate', ms: Math.max(1, msUntilToken(bucket, ratePerSecond, want)) };
}
