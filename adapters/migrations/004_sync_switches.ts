import type { Knex } from 'knex';

// The sync's run-time switches (common/sync-switches.ts): one current row per deployment (named by its task
// queue), and every change with who made it, when and why.
export const name = '004_sync_switches';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('sync_switches', (table) => {
    // The task queue: one row per deployment, so a change is an UPDATE every reader sees at once.
    table.string('id', 200).primary();
    table.string('resync_source', 10).notNullable();
    table.boolean('nomis_to_dps').notNullable();
    table.boolean('dps_to_nomis').notNullable();
    table.string('changed_by', 100).notNullable();
    table.timestamp('changed_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.text('reason').notNullable();
  });
  await knex.schema.createTable('sync_switch_changes', (table) => {
    table.increments('id');
    table.string('scope', 200).notNullable().index();
    table.timestamp('changed_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.string('changed_by', 100).notNullable();
    table.text('reason').notNullable();
    table.text('before').notNullable();
    table.text('after').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('sync_switch_changes');
  await knex.schema.dropTable('sync_switches');
}
