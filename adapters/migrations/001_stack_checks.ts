import type { Knex } from 'knex';

// Rows the stack-check workflow (since removed) wrote; 005 drops the table. Kept: a database that applied it needs it.
export const name = '001_stack_checks';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('stack_checks', (table) => {
    table.string('check_id', 100).primary();
    table.string('requested_by', 100).notNullable();
    table.timestamp('checked_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('stack_checks');
}
