// 0001: the sfsync metadata schema: one watermark per object, one row per run (issue 3 §6).
import type { Knex } from 'knex';

export const name = '0001_sfsync';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.withSchema('sfsync').createTable('watermarks', (t) => {
    t.text('object').primary();
    t.text('cursor_field').notNullable();
    t.specificType('watermark', 'timestamptz').notNullable();
    t.specificType('updated_at', 'timestamptz').notNullable().defaultTo(knex.fn.now());
  });
  await knex.schema.withSchema('sfsync').createTable('runs', (t) => {
    t.bigIncrements('id').primary();
    t.text('object').notNullable();
    t.text('mode').notNullable();
    t.text('status').notNullable();
    t.specificType('started_at', 'timestamptz').notNullable().defaultTo(knex.fn.now());
    t.specificType('finished_at', 'timestamptz');
    t.bigInteger('rows_inserted');
    t.bigInteger('rows_updated');
    t.bigInteger('rows_deleted');
    t.bigInteger('bytes');
    t.integer('api_calls');
    t.specificType('bulk_job_ids', 'text[]');
    t.specificType('window_from', 'timestamptz');
    t.specificType('window_to', 'timestamptz');
    t.text('error');
    t.index(['object', 'id'], 'runs_object_id_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.withSchema('sfsync').dropTable('runs');
  await knex.schema.withSchema('sfsync').dropTable('watermarks');
}
