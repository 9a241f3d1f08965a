import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { createDpsActivities } from '../../activities/dps';
import { createNomisActivities } from '../../activities/nomis';
import type { Db } from '../../adapters/db';
import type { DpsAlertsApiClient } from '../../adapters/dps';
import { ApiError, parseRetryAfter } from '../../adapters/http';
import type { NomisApiClient } from '../../adapters/nomis';

// Failure classification at the edge: what Temporal is told decides between "retry" and "fail the run now".

function nomisThrowing(error: unknown): NomisApiClient {
  return { getAlertsToMigrate: async () => Promise.reject(error) } as unknown as NomisApiClient;
}

async function failureOf(run: () => Promise<unknown>): Promise<unknown> {
  return run().then(
    () => undefined,
    (err: unknown) => err,
  );
}

test('a 404 from NOMIS is non-retryable and typed NomisNotFound', async () => {
  const { getCurrentBookingAlerts } = createNomisActivities({
    db: {} as Db,
    nomis: nomisThrowing(new ApiError('NOMIS GET ... returned 404', 'NOMIS', 404, false)),
  });
  const failure = await failureOf(() =>
    new MockActivityEnvironment().run(getCurrentBookingAlerts, { prisonNumber: 'A1234BC' }),
  );
  expect(failure).toBeInstanceOf(ApplicationFailure);
  expect(failure).toMatchObject({ type: 'NomisNotFound', nonRetryable: true });
});

test('a 503 with Retry-After is retryable and asks for that delay', async () => {
  const { getCurrentBookingAlerts } = createNomisActivities({
    db: {} as Db,
    nomis: nomisThrowing(new ApiError('busy', 'NOMIS', 503, true, 7000)),
  });
  const failure = await failureOf(() =>
    new MockActivityEnvironment().run(getCurrentBookingAlerts, { prisonNumber: 'A1234BC' }),
  );
  expect(failure).toMatchObject({ type: 'NomisServiceUnavailable', nonRetryable: false, nextRetryDelay: 7000 });
});

test('a network error is retryable', async () => {
  const { getCurrentBookingAlerts } = createNomisActivities({
    db: {} as Db,
    nomis: nomisThrowing(new ApiError('ECONNREFUSED', 'NOMIS', undefined, true)),
  });
  const failure = await failureOf(() =>
    new MockActivityEnvironment().run(getCurrentBookingAlerts, { prisonNumber: 'A1234BC' }),
  );
  expect(failure).toMatchObject({ type: 'NomisUnavailable', nonRetryable: false });
});

test('a DPS answer that does not match what was sent fails the attempt', async () => {
  const dps = { resyncPrisonerAlerts: async () => [] } as unknown as DpsAlertsApiClient;
  const { resyncDpsAlerts } = createDpsActivities({ dps, db: {} as Db });
  const alert = {
    offenderBookId: 1,
    alertSeq: 1,
    alertCode: 'XA',
    activeFrom: '2024-01-01',
    isActive: true,
    createdAt: '2024-01-01T10:00:00',
    createdBy: 'X',
    createdByDisplayName: 'X',
  };
  await expect(
    new MockActivityEnvironment().run(resyncDpsAlerts, { prisonNumber: 'A1234BC', alerts: [alert] }),
  ).rejects.toThrow(/answered 0 alerts for 1 sent/);
});

test('Retry-After in seconds or as a date', () => {
  expect(parseRetryAfter('3')).toBe(3000);
  expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
  expect(parseRetryAfter(undefined)).toBeUndefined();
  expect(parseRetryAfter('soon')).toBeUndefined();
});
