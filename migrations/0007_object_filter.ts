// 0007: the filter (config objects[].where) an object's rows were last brought in line with: when the configured one
// differs, the next sync reads the object in full and flags the rows the new filter leaves out
// (pipelines/sync/filterCheck.ts).
import type { Knex } from 'knex';

export const name = '0007_object_filter';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.withSchema('sfsync').alterTable('object_state', (t) => {
    // Null: no filter (the whole object).
    t.text('filter');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.withSchema('sfsync').alterTable('object_state', (t) => {
    t.dropColumn('filter');
  });
}
