import fs from 'node:fs';

/** Reads a file named by a setting (a certificate, a key), naming the setting when it cannot. */
export function readSetting(file: string, setting: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new Error(`${setting}: cannot read ${file} (${err instanceof Error ? err.message : String(err)})`);
  }
}
