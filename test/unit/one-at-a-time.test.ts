import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

// The suite's one-file-at-a-time lock (test/jest-one-at-a-time.cjs), across real processes as jest's workers
// are: never two holders, and a lock left by a dead holder taken back.

const MODULE = path.resolve(__dirname, '..', 'jest-one-at-a-time.cjs');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'one-at-a-time-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A process that takes the lock `rounds` times, noting in `log` when it holds it and when it lets it go. */
function contender(lock: string, log: string, rounds: number): Promise<number | null> {
  const script = `
    const fs = require('node:fs');
    const { acquire, release } = require(${JSON.stringify(MODULE)});
    (async () => {
      for (let i = 0; i < ${rounds}; i++) {
        await acquire(${JSON.stringify(lock)});
        fs.appendFileSync(${JSON.stringify(log)}, 'holds ' + process.pid + '\\n');
        await new Promise((resolve) => setTimeout(resolve, 50));
        fs.appendFileSync(${JSON.stringify(log)}, 'lets go ' + process.pid + '\\n');
        release(${JSON.stringify(lock)});
      }
    })();
  `;
  const child = spawn(process.execPath, ['-e', script], { stdio: 'inherit' });
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

function deadPid(): number {
  const { pid } = spawnSync(process.execPath, ['-e', '']);
  return pid;
}

test('three processes taking turns never hold it together, also when a dead holder left it', async () => {
  const lock = path.join(dir, 'lock');
  const log = path.join(dir, 'log');
  writeFileSync(log, '');
  writeFileSync(lock, String(deadPid()));

  const codes = await Promise.all([contender(lock, log, 4), contender(lock, log, 4), contender(lock, log, 4)]);

  expect(codes).toEqual([0, 0, 0]);
  const lines = readFileSync(log, 'utf8').trim().split('\n');
  expect(lines).toHaveLength(3 * 4 * 2);
  for (let i = 0; i < lines.length; i += 2) {
    const pid = lines[i]!.replace('holds ', '');
    expect([lines[i], lines[i + 1]]).toEqual([`holds ${pid}`, `lets go ${pid}`]);
  }
}, 30_000);

test('a lock held by a live process is waited for', async () => {
  const lock = path.join(dir, 'lock');
  const log = path.join(dir, 'log');
  writeFileSync(log, '');
  writeFileSync(lock, String(process.pid));
  const waiting = contender(lock, log, 1);
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(readFileSync(log, 'utf8')).toBe('');
  rmSync(lock);
  expect(await waiting).toBe(0);
  expect(readFileSync(log, 'utf8')).toMatch(/^holds \d+\nlets go \d+\n$/);
}, 30_000);
