import type { Knex } from 'knex';
import { up as createStackChecks } from './001_stack_checks';

// The stack-check workflow that wrote these rows is gone: the end-to-end tests prove the stack by the sync itself.
export const name = '005_drop_stack_checks';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('stack_checks');
}

export async function down(knex: Knex): Promise<void> {
  await createStackChecks(knex);
}
