import { z } from 'zod';
import { parseCommandLine, positiveNumber, runCommand, UsageError } from '../common/cli-args';
import { loadConfig } from '../common/config';
import { ALL_AWKWARD, WELL_BEHAVED } from './awkward';
import { SimulatorControl, SimulatorControlError } from './control-client';
import { faultRuleSchema } from './faults';
import { describeRequestIssues } from './http';
import { DEMO_SCENARIOS } from './seed';

// Operator commands against running simulators (URLs from the same config as everything else), for demos and
// for poking a live stack: node --import tsx simulators/cli.ts <command> ...

const { merge, moveBooking, receivePrevious, newBooking } = DEMO_SCENARIOS;
const USAGE = `usage: npm run sim -- <command> [args]   (or node --import tsx simulators/cli.ts <command> [args])

commands:
  state [offenderNo]                       dump NOMIS and DPS state, faults and request counters
  merge <retained> <removed>               NOMIS merges <removed> into <retained>
  move-booking <bookingId> <from> <to>     NOMIS moves a booking between prisoners
  new-booking <offenderNo> [prisonId]      new admission: a new current booking, active alerts copied
  receive-previous <offenderNo> [bookingId]  received back onto a previous booking
  add-alert <offenderNo> <code> [comment]  a NOMIS user adds an alert on the current booking
  delete-alert <bookingId> <alertSequence> a NOMIS user deletes an alert
  dps-add-alert <prisonNumber> <code>      a DPS user adds an alert
  drift <prisonNumber>                     silently remove the prisoner's first DPS alert (for reconciliation)
  faults <json>                            set fault rules, e.g. '[{"api":"dps","errorRate":0.3}]'
  clear-faults                             remove all fault rules
  awkward <on|off>                         NOMIS reuses alert sequences and omits auditModuleName from its
                                           events, and a fifth of all events reach Kafka twice (on); or not
  events [key]                             the last events the simulators published
  expire-tokens                            every issued token gets 401 from now on
  seed [count]                             create the demo prisoners (on an empty simulator)
  reset                                    clear everything

demo prisoners (seeded by simulators/main.ts):
  merge ${merge.removed} into ${merge.retained}     merge ${merge.retained} ${merge.removed}
  move booking ${moveBooking.bookingId}           move-booking ${moveBooking.bookingId} ${moveBooking.from} ${moveBooking.to}
  recall correction              receive-previous ${receivePrevious.offenderNo} ${receivePrevious.bookingId}
  new admission                  new-booking ${newBooking.offenderNo}
  ordinary prisoners             A0001AA, A0002AA, ... (SIM_DEMO_PRISONERS, default 20)`;

const arg = (args: string[], index: number, name: string): string => {
  const value = args[index];
  if (value === undefined) throw new UsageError(`missing <${name}>`);
  return value;
};

const int = (raw: string, name: string): number => positiveNumber(`<${name}>`, raw, { integer: true });

async function run(control: SimulatorControl, command: string | undefined, args: string[]): Promise<unknown> {
  switch (command) {
    case 'state':
      return control.state(args[0]);
    case 'merge':
      return control.merge({ retained: arg(args, 0, 'retained'), removed: arg(args, 1, 'removed') });
    case 'move-booking':
      return control.moveBooking({
        bookingId: int(arg(args, 0, 'bookingId'), 'bookingId'),
        from: arg(args, 1, 'from'),
        to: arg(args, 2, 'to'),
      });
    case 'new-booking':
      return control.newBooking(arg(args, 0, 'offenderNo'), args[1]);
    case 'receive-previous':
      return control.receiveOntoPreviousBooking(
        arg(args, 0, 'offenderNo'),
        args[1] === undefined ? undefined : int(args[1], 'bookingId'),
      );
    case 'add-alert':
      return control.addNomisAlert(arg(args, 0, 'offenderNo'), { alertCode: arg(args, 1, 'code'), comment: args[2] });
    case 'delete-alert':
      await control.deleteNomisAlert(
        int(arg(args, 0, 'bookingId'), 'bookingId'),
        int(arg(args, 1, 'alertSequence'), 'alertSequence'),
      );
      return 'deleted';
    case 'dps-add-alert':
      return control.createDpsAlert(arg(args, 0, 'prisonNumber'), { alertCode: arg(args, 1, 'code') });
    case 'drift': {
      const prisonNumber = arg(args, 0, 'prisonNumber');
      const removed = await control.driftDpsAlert(prisonNumber);
      return removed
        ? {
            drifted: prisonNumber,
            removedDpsAlert: removed,
            note: 'the sync was not told: reconciliation will find it',
          }
        : { drifted: null, note: `${prisonNumber} has no DPS alerts to remove` };
    }
    case 'faults': {
      let json: unknown;
      try {
        json = JSON.parse(arg(args, 0, 'json'));
      } catch {
        throw new UsageError('<json> is not valid JSON');
      }
      const parsed = z.array(faultRuleSchema).safeParse(Array.isArray(json) ? json : [json]);
      if (!parsed.success) throw new UsageError(`bad fault rules: ${describeRequestIssues(parsed.error)}`);
      return control.setFaults(parsed.data);
    }
    case 'clear-faults':
      await control.clearFaults();
      return 'faults cleared';
    case 'awkward': {
      const mode = arg(args, 0, 'on|off');
      if (mode !== 'on' && mode !== 'off') throw new UsageError(`awkward takes "on" or "off", got "${mode}"`);
      return control.setAwkward(mode === 'on' ? ALL_AWKWARD : WELL_BEHAVED);
    }
    case 'events':
      return control.events({ key: args[0], limit: 50 });
    case 'expire-tokens':
      return control.expireTokens();
    case 'seed':
      return control.seedDemo(args[0] === undefined ? undefined : int(args[0], 'count'));
    case 'reset':
      await control.reset();
      return 'reset';
    case undefined:
    case 'help':
      return USAGE;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

async function main(argv: string[]): Promise<void> {
  const {
    positionals: [command, ...args],
  } = parseCommandLine(argv, {}, true);
  const { apis } = loadConfig();
  const control = new SimulatorControl(
    { nomis: apis.nomisUrl, dps: apis.dpsUrl, auth: apis.authUrl },
    { clientId: apis.clientId, clientSecret: apis.clientSecret },
  );
  let result: unknown;
  try {
    result = await run(control, command, args);
  } catch (err) {
    if (err instanceof UsageError || err instanceof SimulatorControlError) throw err;
    const cause = err instanceof Error && err.cause instanceof Error ? ` (${err.cause.message})` : '';
    throw new Error(
      `${err instanceof Error ? err.message : String(err)}${cause} — are the simulators running at ${apis.nomisUrl}?`,
    );
  }
  console.log(typeof result === 'string' ? result : JSON.stringify(result, null, 2));
  // Done: fetch's idle keep-alive sockets would hold the process open for seconds more.
  process.exit(0);
}

runCommand('sim', USAGE, () => main(process.argv.slice(2)));
