import { ApplicationFailure } from '@temporalio/activity';
import { ApiError } from '../adapters/http';

/**
 * Turns a classified API error into Temporal's language: non-retryable failures fail the run at once with a
 * readable type (DpsBadRequest, NomisNotFound...); throttling honours Retry-After; the rest is retried by the
 * activity's retry policy.
 */
export function toActivityFailure(err: unknown): unknown {
  if (!(err instanceof ApiError)) return err;
  const details = { status: err.status, responseBody: err.responseBody };
  if (!err.retryable) return ApplicationFailure.nonRetryable(err.message, err.type, details);
  return ApplicationFailure.create({
    message: err.message,
    type: err.type,
    details: [details],
    nextRetryDelay: err.retryAfterMs,
  });
}

export async function classified<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw toActivityFailure(err);
  }
}

/** Like classified(), but a 404 means "the alert is gone" and answers null instead of failing. */
export async function orNullIfGone<T>(call: () => Promise<T>): Promise<T | null> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw toActivityFailure(err);
  }
}
