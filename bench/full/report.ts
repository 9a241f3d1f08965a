import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import type { Config } from '../../common/config';
import type { PhaseResult } from './context';
import type { EncryptionSeen } from './encryption';
import type { Options } from './options';
import { optionsLine } from './options';

// The full benchmark's figures: a table on stdout, and the same as JSON when asked for.

function machine(): { cpus: number; cpuModel: string; memoryGiB: number; os: string } {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryGiB: Number((os.totalmem() / 1024 ** 3).toFixed(1)),
    os: `${os.type()} ${os.release()}`,
  };
}

export function printReport(results: PhaseResult[], config: Config, options: Options, encryption: string): void {
  const m = machine();
  console.log('');
  console.log(`alerts-sync benchmark, ${new Date().toISOString()}`);
  console.log(`  machine      ${m.cpus} x ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.os}, node ${process.version}`);
  console.log(`  Temporal     ${config.temporal.address} (namespace ${config.temporal.namespace})`);
  console.log(`  encryption   ${encryption}`);
  console.log(`  options      ${optionsLine(options)}`);
  console.log('');
  const rows = results.map((r) => [
    r.phase,
    r.refused ? 'REFUSED' : (r.figure ?? ''),
    r.target ?? '-',
    r.met === undefined || r.refused ? '' : r.met ? 'met' : 'NOT met',
  ]);
  const header = ['phase', 'figure', 'target', 'target met'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of rows) console.log(line(row));
  const refused = results.filter((r) => r.refused);
  if (refused.length > 0) {
    console.log('');
    for (const r of refused) console.log(`REFUSED ${r.phase}: ${r.refused}`);
  }
}

export async function writeJson(
  file: string,
  results: PhaseResult[],
  config: Config,
  options: Options,
  encryption: EncryptionSeen,
): Promise<void> {
  const document = {
    at: new Date().toISOString(),
    machine: machine(),
    node: process.version,
    temporalAddress: config.temporal.address,
    encryption,
    options,
    // A refused phase keeps no numbers here either: only why it was refused.
    phases: results.map(({ phase, unit, target, value, figure, refused, details }) =>
      refused ? { phase, unit, target, refused } : { phase, unit, target, value, figure, details },
    ),
  };
  await writeFile(file, `${JSON.stringify(document, null, 2)}\n`);
  console.log(`figures written to ${file}`);
}
