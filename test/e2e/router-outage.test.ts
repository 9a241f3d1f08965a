import { WorkflowNotFoundError } from '@temporalio/client';
import { prisonerSyncWorkflowId } from '../../common/ids';
import type { Harness } from '../helpers/harness';
import { invariantViolations, startHarness, waitForPrisonerSync } from '../helpers/harness';
import { randomPrisonNumber } from '../helpers/prisoners';
import { config, eventually } from '../helpers/stack';
import { TcpProxy } from '../helpers/tcp-proxy';

// A Temporal outage pauses the router: the good event is neither dead-lettered nor dropped (its offset is not
// committed), and it is processed once Temporal is reachable again.

const [temporalHost = '127.0.0.1', temporalPort = '7233'] = config.temporal.address.split(':');
const proxy = new TcpProxy(temporalHost, Number(temporalPort));
let harness: Harness;

beforeAll(async () => {
  await proxy.up();
  harness = await startHarness('outage', { routerTemporalAddress: `127.0.0.1:${proxy.port}` });
});
afterAll(async () => {
  await harness?.close();
  await proxy.down();
});

test('events that arrive while Temporal is down wait, then run when it is back', async () => {
  const prisonNumber = randomPrisonNumber();
  await harness.control.createPrisoner({ offenderNo: prisonNumber, alerts: [{ alertCode: 'XA', date: '2024-01-10' }] });

  await proxy.down();
  const since = new Date();
  await harness.control.newBooking(prisonNumber); // publishes prisoner.received NEW_ADMISSION
  await eventually(
    async () => ((harness.router.snapshot()['temporal-unavailable-retries'] ?? 0) >= 2 ? true : undefined),
    'the router to retry against the unreachable Temporal',
  );
  expect(harness.router.snapshot()['dead-lettered']).toBeUndefined();
  await expect(
    harness.client.workflow.getHandle(prisonerSyncWorkflowId(prisonNumber)).describe(),
  ).rejects.toBeInstanceOf(WorkflowNotFoundError);

  await proxy.up();
  const run = await waitForPrisonerSync(harness, prisonNumber, since, 90_000);
  expect(run.status.name).toBe('COMPLETED');
  expect(harness.router.snapshot()['resync-requested']).toBe(1);
  expect(await invariantViolations(harness, prisonNumber)).toEqual([]);
});
