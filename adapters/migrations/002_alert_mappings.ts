import type { Knex } from 'knex';

// Contract §5: one row per synced alert, unique on both sides.
export const name = '002_alert_mappings';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('alert_mappings', (table) => {
    table.uuid('dps_alert_id').primary();
    table.bigInteger('nomis_booking_id').notNullable();
    table.integer('nomis_alert_sequence').notNullable();
    table.string('offender_no', 10).notNullable().index();
    table
      .enu('mapping_type', ['MIGRATED', 'NOMIS_CREATED', 'DPS_CREATED', 'RESYNC'], {
        useNative: false,
        enumName: 'alert_mapping_type',
      })
      .notNullable();
    table.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.unique(['nomis_booking_id', 'nomis_alert_sequence'], { indexName: 'alert_mappings_nomis_id_unique' });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('alert_mappings');
}
