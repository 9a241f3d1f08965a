import type { Config } from '../common/config';
import { SimulatorControl } from '../simulators/control-client';
import { startOrAttachBatch } from './bulk-batch';
import { scheduleSettingsFromConfig, upsertReconciliationSchedule } from './reconciliation';
import { DEMO_SCENARIOS } from '../simulators/seed';
import { connectClient } from '../adapters/temporal';

/**
 * The simulators seed NOMIS only; a bulk resync of every demo prisoner brings DPS and the mappings in step, as
 * the initial migration did for the real systems — and fills the Web UI with workflows to look at. Also puts
 * the reconciliation schedule in place. Returns what it did, a line each.
 */
export async function bootstrapDemo(config: Config): Promise<string[]> {
  const control = new SimulatorControl({
    nomis: config.apis.nomisUrl,
    dps: config.apis.dpsUrl,
    auth: config.apis.authUrl,
  });
  const state = await control.state();
  const prisonNumbers = state.nomis.filter((p) => p.bookings.length > 0).map((p) => p.offenderNo);
  const { client, close } = await connectClient(config);
  try {
    // redo: the simulators start afresh each time, so an earlier demo's "done" means nothing now.
    const batch = await startOrAttachBatch(client, config.temporal.taskQueue, {
      batchId: 'demo-start',
      prisonNumbers,
      ...config.bulkResync,
      redo: true,
    });
    const settings = scheduleSettingsFromConfig(config);
    const schedule = await upsertReconciliationSchedule(client, settings);
    return [
      `demo      bulk resync ${batch.batchId} of the ${prisonNumbers.length} seeded prisoners started`,
      `reconcile schedule ${settings.scheduleId} ${schedule}: every ${String(settings.interval)}, auto-resync ${settings.input.autoResync ? 'on' : 'off'}`,
    ];
  } finally {
    await close();
  }
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
  retry a resync:   node --import tsx clients/resync.ts ${merge.retained}
  bulk resync:      node --import tsx clients/bulk-resync.ts --prison MDI
  reconcile now:    node --import tsx clients/reconcile.ts run`;
}
