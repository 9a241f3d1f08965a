import { parseCommandLine, positiveNumber, resyncSourceOption, UsageError } from '../../common/cli-args';

// The command-line conventions every entry point shares (common/cli-args.ts).

describe('parseCommandLine', () => {
  const options = { from: { type: 'string' }, 'no-wait': { type: 'boolean' } } as const;

  test('options and positionals in any order; a repeated option keeps its last value', () => {
    const { values, positionals } = parseCommandLine(
      ['A1234BC', '--from', 'dps', 'B2345CD', '--no-wait', '--from=nomis'],
      options,
      true,
    );
    expect(values).toEqual({ from: 'nomis', 'no-wait': true });
    expect(positionals).toEqual(['A1234BC', 'B2345CD']);
  });

  test.each([
    [['--frm', 'dps'], "Unknown option '--frm'"],
    [['--from'], "Option '--from <value>' argument missing"],
    [['--from', '--no-wait'], "Option '--from' argument is ambiguous"],
    [['--no-wait=yes'], "Option '--no-wait' does not take an argument"],
  ])('%j is a usage mistake that names the option', (args, message) => {
    const parse = () => parseCommandLine(args, options, true);
    expect(parse).toThrow(UsageError);
    expect(parse).toThrow(message);
  });

  test('positionals only where the command takes them', () => {
    expect(() => parseCommandLine(['stray'], {})).toThrow(UsageError);
    expect(() => parseCommandLine(['stray'], {})).toThrow("Unexpected argument 'stray'");
  });

  test('-h and --help ask for the usage text, not a usage mistake', () => {
    for (const help of ['-h', '--help']) {
      let thrown: unknown;
      try {
        parseCommandLine(['A1234BC', help], options, true);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(Error);
      expect(thrown).not.toBeInstanceOf(UsageError);
    }
  });

  test('a value after -- is a positional, even if it looks like an option', () => {
    expect(parseCommandLine(['--', '--from'], options, true).positionals).toEqual(['--from']);
  });
});

describe('positiveNumber', () => {
  test('numbers above 0', () => {
    expect(positiveNumber('--rate', '2.5')).toBe(2.5);
    expect(positiveNumber('--concurrency', '40', { integer: true })).toBe(40);
  });

  test.each([
    ['--rate', '0', {}, '--rate must be a number above 0, got "0"'],
    ['--rate', '-1', {}, '--rate must be a number above 0, got "-1"'],
    ['--rate', 'fast', {}, '--rate must be a number above 0, got "fast"'],
    ['--rate', '', {}, '--rate must be a number above 0, got ""'],
    ['--batch', '2.5', { integer: true }, '--batch must be a whole number above 0, got "2.5"'],
    ['--batch', '1e3', { integer: true }, '--batch must be a whole number above 0, got "1e3"'],
    ['<bookingId>', '0', { integer: true }, '<bookingId> must be a whole number above 0, got "0"'],
  ])('%s %j is refused by name', (name, raw, options, message) => {
    expect(() => positiveNumber(name, raw, options)).toThrow(UsageError);
    expect(() => positiveNumber(name, raw, options)).toThrow(message);
  });
});

describe('resyncSourceOption', () => {
  test('nomis or dps, in either case', () => {
    expect(resyncSourceOption('dps')).toBe('DPS');
    expect(resyncSourceOption('NOMIS')).toBe('NOMIS');
    expect(() => resyncSourceOption('both')).toThrow(new UsageError('--from must be nomis or dps, got "both"'));
  });
});
