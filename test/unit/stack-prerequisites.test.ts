import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { unreachableForPostgres } from '../../infra/stack';

// As root, `bin/start` runs the embedded PostgreSQL as the user postgres: a checkout it cannot enter is refused
// in one line that says what to do, before initdb would fail with a raw EACCES.

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'checkout-'));
  chmodSync(root, 0o755);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

test('a checkout inside a directory others cannot enter is named, with what to do', () => {
  const home = path.join(root, 'root');
  mkdirSync(path.join(home, 'alerts-sync', 'node_modules'), { recursive: true });
  chmodSync(home, 0o700);
  const binary = path.join(home, 'alerts-sync', 'node_modules', 'pg', 'bin', 'postgres');
  expect(unreachableForPostgres([binary])).toBe(
    `The embedded PostgreSQL runs as the user postgres when you are root, and postgres cannot enter ${home} ` +
      '(mode 0700): put the checkout where other users can enter (e.g. /opt or /srv), run as an ordinary user, ' +
      'or set DATABASE_URL to a PostgreSQL server of your own.',
  );
});

test('a checkout every user can enter passes, including directories not created yet', () => {
  mkdirSync(path.join(root, 'srv', 'alerts-sync'), { recursive: true });
  expect(unreachableForPostgres([path.join(root, 'srv', 'alerts-sync', '.stack', 'dev', 'postgres')])).toBeUndefined();
});
