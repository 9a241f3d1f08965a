import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import type { ResyncSource } from './sync-switches';

// The command-line conventions every entry point shares (clients/, bench/, simulators/cli.ts, infra/cli.ts):
// node:util parseArgs in strict mode, -h/--help prints the usage to stdout and exits 0, a mistake prints what was
// wrong and the usage to stderr and exits 2, any other failure prints its message and exits 1.

/** A mistake on the command line: shown with the usage text, exit status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

class HelpRequested extends Error {}

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;
const HELP = { help: { type: 'boolean', short: 'h' } } as const;
type Parsed<O extends OptionsConfig, P extends boolean> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O & typeof HELP; strict: true; allowPositionals: P }>
>;

/**
 * parseArgs, strict, with -h/--help added. Its own errors (unknown option, missing or ambiguous value) name the
 * option; they become UsageErrors so the entry point shows the usage with them.
 */
export function parseCommandLine<O extends OptionsConfig, P extends boolean = false>(
  args: string[],
  options: O,
  allowPositionals?: P,
): Omit<Parsed<O, P>, 'values'> & { values: Omit<Parsed<O, P>['values'], 'help'> } {
  let parsed: Parsed<O, P>;
  try {
    parsed = parseArgs({
      args,
      options: { ...options, ...HELP },
      strict: true,
      allowPositionals: (allowPositionals ?? false) as P,
    });
  } catch (err) {
    if (isParseArgsError(err)) throw new UsageError(err.message);
    throw err;
  }
  // The generic values type does not resolve inside this function; at call sites it does.
  if ((parsed.values as { help?: boolean }).help) throw new HelpRequested();
  return parsed;
}

/** By its code, not its class: under jest, Node's own errors come from another realm than the test's TypeError. */
function isParseArgsError(err: unknown): err is { code: string; message: string } {
  if (typeof err !== 'object' || err === null || !('code' in err) || !('message' in err)) return false;
  return typeof err.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS') && typeof err.message === 'string';
}

/**
 * A number above 0 from the command line, else a UsageError naming it. Whole numbers are plain digits, so "1e3" or
 * "0x10" is refused rather than read as something the operator may not have meant.
 */
export function positiveNumber(name: string, raw: string, { integer = false } = {}): number {
  const n = Number(raw);
  const valid = integer ? /^\d+$/.test(raw) && Number.isSafeInteger(n) && n > 0 : Number.isFinite(n) && n > 0;
  if (!valid) throw new UsageError(`${name} must be ${integer ? 'a whole number' : 'a number'} above 0, got "${raw}"`);
  return n;
}

/** The operator commands' `--from nomis|dps`, in either case. */
export function resyncSourceOption(raw: string): ResyncSource {
  const source = raw.toUpperCase();
  if (source !== 'NOMIS' && source !== 'DPS') throw new UsageError(`--from must be nomis or dps, got "${raw}"`);
  return source;
}

/**
 * Runs an entry point's main with the conventions above; `usage` is the text -h/--help and mistakes show. With
 * `stack`, a failure prints the whole error (the benchmarks: their failures are investigated, not just read).
 */
export function runCommand(name: string, usage: string, main: () => Promise<void>, { stack = false } = {}): void {
  main().catch((err: unknown) => {
    if (err instanceof HelpRequested) {
      console.log(usage);
      process.exit(0);
    }
    if (err instanceof UsageError) {
      console.error(`${name}: ${err.message}\n\n${usage}`);
      process.exit(2);
    }
    console.error(err instanceof Error && !stack ? err.message : err);
    process.exit(1);
  });
}
