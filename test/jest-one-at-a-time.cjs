// The test environment of every test file: one file at a time across jest's workers, as the suite always ran
// (the end-to-end files share one stack, and the machine has two cores). A file that only waits (the long
// database outage, on a PostgreSQL of its own) opts out with the docblock `@jest-environment node`, so it can
// run beside the others; jest-sequencer.cjs starts such files first, and clears a lock an earlier run left.
const fs = require('node:fs');
const path = require('node:path');
const { TestEnvironment } = require('jest-environment-node');

const LOCK = path.join(__dirname, '..', '.stack', 'jest-one-at-a-time.lock');
/** Held only while a stale lock is removed, so that two workers cannot both remove it and then both take it. */
const breakerOf = (lock) => `${lock}.breaking`;
const POLL_MS = 100;
const SAY_AFTER_MS = 60_000;

function holder(file) {
  try {
    return Number(fs.readFileSync(file, 'utf8')) || undefined;
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

/** Creates `file` holding this process's pid, never empty: written aside, then linked into place (atomic). */
function create(file) {
  const aside = `${file}.${process.pid}`;
  fs.writeFileSync(aside, String(process.pid));
  try {
    fs.linkSync(aside, file);
    return true;
  } catch (err) {
    if (err.code !== 'EEXIST') throw err;
    return false;
  } finally {
    fs.rmSync(aside, { force: true });
  }
}

/** A lock whose holder has died (a worker that crashed) is removed, by one worker only. */
function removeIfStale(lock) {
  const pid = holder(lock);
  if (pid === undefined || alive(pid)) return;
  const breaker = breakerOf(lock);
  if (!create(breaker)) {
    // Left by a worker that died while removing: only seconds old unless so.
    const age = Date.now() - (fs.statSync(breaker, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
    if (age > 10_000) fs.rmSync(breaker, { force: true });
    return;
  }
  try {
    if (holder(lock) === pid) fs.rmSync(lock, { force: true });
  } finally {
    fs.rmSync(breaker, { force: true });
  }
}

async function acquire(lock = LOCK) {
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  const since = Date.now();
  let said = false;
  while (!create(lock)) {
    removeIfStale(lock);
    if (!said && Date.now() - since > SAY_AFTER_MS) {
      console.warn(`waiting for ${lock}, held by pid ${holder(lock)}: another test file is running`);
      said = true;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function release(lock = LOCK) {
  if (holder(lock) === process.pid) fs.rmSync(lock, { force: true });
}

/** Before any worker starts: a lock left then is an interrupted run's. */
function clear(lock = LOCK) {
  fs.rmSync(lock, { force: true });
  fs.rmSync(breakerOf(lock), { force: true });
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
Object.assign(module.exports, { acquire, release, clear });
