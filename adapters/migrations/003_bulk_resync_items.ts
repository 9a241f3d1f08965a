import type { Knex } from 'knex';

// What each bulk resync batch did for each prisoner, so running the same batch again skips the ones already done.
export const name = '003_bulk_resync_items';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('bulk_resync_items', (table) => {
    table.string('batch_id', 100).notNullable();
    table.string('prison_number', 10).notNullable();
    table.enu('status', ['DONE', 'FAILED'], { useNative: false, enumName: 'bulk_resync_status' }).notNullable();
    table.text('failure');
    table.timestamp('finished_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.primary(['batch_id', 'prison_number']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('bulk_resync_items');
}
