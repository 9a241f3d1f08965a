import knex from 'knex';
import type { Knex } from 'knex';
import * as stackChecks from './migrations/001_stack_checks';

// The one module that owns the database: connection, schema (knex migrations) and every query.

interface Migration {
  name: string;
  up: (knex: Knex) => Promise<void>;
  down: (knex: Knex) => Promise<void>;
}

const MIGRATIONS: Migration[] = [stackChecks];

// Migrations are imported, not globbed from disk, so they run the same under tsx, jest and a bundle.
const migrationSource: Knex.MigrationSource<Migration> = {
  getMigrations: async () => MIGRATIONS,
  getMigrationName: (migration) => migration.name,
  getMigration: async (migration) => migration,
};

export type Db = Knex;

export function createDb(url: string, pool: { min: number; max: number } = { min: 0, max: 10 }): Db {
  return knex({ client: 'pg', connection: url, pool });
}

export async function migrateLatest(db: Db): Promise<string[]> {
  const [, applied] = (await db.migrate.latest({ migrationSource })) as [number, string[]];
  return applied;
}

export interface StackCheckRow {
  checkId: string;
  requestedBy: string;
  checkedAt: Date;
}

/** Idempotent: a retried insert of the same check id keeps the first row. */
export async function recordStackCheck(
  db: Db,
  check: { checkId: string; requestedBy: string },
): Promise<StackCheckRow> {
  await db('stack_checks')
    .insert({ check_id: check.checkId, requested_by: check.requestedBy })
    .onConflict('check_id')
    .ignore();
  const row = await findStackCheck(db, check.checkId);
  if (!row) throw new Error(`stack check ${check.checkId} vanished right after it was written`);
  return row;
}

export async function findStackCheck(db: Db, checkId: string): Promise<StackCheckRow | undefined> {
  const row = await db('stack_checks')
    .where({ check_id: checkId })
    .first<{ check_id: string; requested_by: string; checked_at: Date } | undefined>();
  return row && { checkId: row.check_id, requestedBy: row.requested_by, checkedAt: row.checked_at };
}
