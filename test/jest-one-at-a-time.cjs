// The test environment of every test file: one file at a time across jest's workers, as the suite always ran
// (the end-to-end files share one stack, and the machine has two cores). A file that only waits (the long
// database outage, on a PostgreSQL of its own) opts out with the docblock `@jest-environment node`, so it can
// run beside the others; jest-sequencer.cjs starts such files first.
const fs = require('node:fs');
const path = require('node:path');
const { TestEnvironment } = require('jest-environment-node');

const LOCK = path.join(__dirname, '..', '.stack', 'jest-one-at-a-time.lock');
const POLL_MS = 100;

function holder() {
  try {
    return Number(fs.readFileSync(LOCK, 'utf8')) || undefined;
  } catch {
    return undefined;
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

async function acquire() {
  fs.mkdirSync(path.dirname(LOCK), { recursive: true });
  for (;;) {
    try {
      // 'wx': created only if absent, atomically, so two workers cannot both take it.
      fs.writeFileSync(LOCK, String(process.pid), { flag: 'wx' });
      return;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    // Left by a worker that died (or an earlier run killed): taken back. An empty file is one being written.
    const pid = holder();
    if (pid !== undefined && !alive(pid)) fs.rmSync(LOCK, { force: true });
    else await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function release() {
  if (holder() === process.pid) fs.rmSync(LOCK, { force: true });
}

class OneAtATimeEnvironment extends TestEnvironment {
  async setup() {
    await acquire();
    await super.setup();
  }

  async teardown() {
    try {
      await super.teardown();
    } finally {
      release();
    }
  }
}

module.exports = OneAtATimeEnvironment;
