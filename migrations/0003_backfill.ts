// 0003: backfills: one row per `sfsync backfill` of an object, one row per window it loads, so an
// interrupted backfill resumes at the windows not yet done.
import type { Knex } from 'knex';

export const name = '0003_backfill';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.withSchema('sfsync').createTable('backfills', (t) => {
    t.bigIncrements('id').primary();
    t.text('target_schema').notNullable();
    t.text('object').notNullable();
    // The field the windows cut: the object's cursor (SystemModstamp...) or CreatedDate (--by created).
    t.text('field').notNullable();
    t.specificType('since', 'timestamptz').notNullable();
    t.specificType('until', 'timestamptz').notNullable();
    // `window` is a reserved word in PostgreSQL.
    t.text('window_spec').notNullable();
    t.text('status').notNullable(); // running | failed | succeeded
    t.specificType('started_at', 'timestamptz').notNullable().defaultTo(knex.fn.now());
    t.specificType('finished_at', 'timestamptz');
    t.index(['target_schema', 'object', 'id'], 'backfills_object_id_idx');
  });
  await knex.schema.withSchema('sfsync').createTable('backfill_windows', (t) => {
    t.bigInteger('backfill_id').notNullable().references('id').inTable('sfsync.backfills').onDelete('CASCADE');
    t.specificType('window_from', 'timestamptz').notNullable();
    t.specificType('window_to', 'timestamptz').notNullable();
    t.primary(['backfill_id', 'window_from']);
    t.text('status').notNullable().defaultTo('pending'); // pending | running | done | failed
    // The sfsync.runs row of the latest attempt, and its Bulk job (docs/salesforce.md#bulk-api-20-query-jobs).
    t.bigInteger('run_id');
    t.text('bulk_job_id');
    t.bigInteger('rows_fetched');
    t.bigInteger('rows_inserted');
    t.bigInteger('rows_updated');
    t.text('error');
    t.specificType('finished_at', 'timestamptz');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.withSchema('sfsync').dropTable('backfill_windows');
  await knex.schema.withSchema('sfsync').dropTable('backfills');
}
