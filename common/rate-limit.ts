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

/** Milliseconds until the next whole token (0 if one is there). */
export function msUntilToken(bucket: TokenBucket, ratePerSecond: number): number {
  return bucket.tokens >= 1 ? 0 : Math.ceil(((1 - bucket.tokens) * 1000) / ratePerSecond);
}
