import type { Config } from '../common/config';
import { SimulatorControl } from '../simulators/control-client';
import { DEMO_SCENARIOS } from '../simulators/seed';
import { connectClient, requestResync } from '../adapters/temporal';

/**
 * The simulators seed NOMIS only; a resync of every demo prisoner brings DPS and the mappings in step, as the
 * initial migration did for the real systems — and fills the Web UI with workflows to look at.
 */
export async function bootstrapDemo(config: Config): Promise<number> {
  const control = new SimulatorControl({
    nomis: config.apis.nomisUrl,
    dps: config.apis.dpsUrl,
    auth: config.apis.authUrl,
  });
  const state = await control.state();
  const prisonNumbers = state.nomis.filter((p) => p.bookings.length > 0).map((p) => p.offenderNo);
  const { client, close } = await connectClient(config);
  try {
    for (const prisonNumber of prisonNumbers) {
      await requestResync(client, config.temporal.taskQueue, prisonNumber, 'demo start: initial sync of the seeded prisoner');
    }
  } finally {
    await close();
  }
  return prisonNumbers.length;
}

export function demoInstructions(config: Config): string {
  const { merge, moveBooking, receivePrevious, newBooking } = DEMO_SCENARIOS;
  const ui = `${config.temporal.uiUrl}/namespaces/${config.temporal.namespace}/workflows`;
  const filter = (prisonNumber: string) => `${ui}?query=${encodeURIComponent(`PrisonNumber="${prisonNumber}"`)}`;
  const sim = 'node --import tsx simulators/cli.ts';
  return `Try a prisoner-level change in the NOMIS simulator, then watch the resync in the Web UI:
  merge:            ${sim} merge ${merge.retained} ${merge.removed}
                    ${filter(merge.retained)}
  booking moved:    ${sim} move-booking ${moveBooking.bookingId} ${moveBooking.from} ${moveBooking.to}
  recall corrected: ${sim} receive-previous ${receivePrevious.offenderNo} ${receivePrevious.bookingId}
  new admission:    ${sim} new-booking ${newBooking.offenderNo}
  inspect:          ${sim} state ${merge.retained}      (all commands: ${sim} help)
  retry a resync:   node --import tsx clients/resync.ts ${merge.retained}`;
}
