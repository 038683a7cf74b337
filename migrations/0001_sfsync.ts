// 0001: the sfsync metadata schema: one watermark per object, one row per run.
import type { Knex } from 'knex';

export const name = '0001_sfsync';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.withSchema('sfsync').createTable('watermarks', (t) => {
    // Keyed by the target schema too: a watermark belongs to the tables it describes, so pointing SFSYNC_SCHEMA
    // at a new schema starts with an initial load instead of a delta into empty tables.
    t.text('target_schema').notNullable();
    t.text('object').notNullable();
    t.primary(['target_schema', 'object']);
    t.text('cursor_field').notNullable();
    t.specificType('watermark', 'timestamptz').notNullable();
    t.specificType('updated_at', 'timestamptz').notNullable().defaultTo(knex.fn.now());
  });
  await knex.schema.withSchema('sfsync').createTable('runs', (t) => {
    t.bigIncrements('id').primary();
    t.text('target_schema').notNullable();
    t.text('object').notNullable();
    t.text('mode').notNullable();
    t.text('status').notNullable();
    t.specificType('started_at', 'timestamptz').notNullable().defaultTo(knex.fn.now());
    t.specificType('finished_at', 'timestamptz');
    t.bigInteger('rows_fetched');
    t.bigInteger('rows_inserted');
    t.bigInteger('rows_updated');
    t.bigInteger('rows_deleted');
    t.bigInteger('bytes');
    t.integer('api_calls');
    t.specificType('bulk_job_ids', 'text[]');
    t.specificType('window_from', 'timestamptz');
    t.specificType('window_to', 'timestamptz');
    t.text('error');
    t.index(['target_schema', 'object', 'id'], 'runs_object_id_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.withSchema('sfsync').dropTable('runs');
  await knex.schema.withSchema('sfsync').dropTable('watermarks');
}
