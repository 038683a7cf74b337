// 0004: `sfsync push`: one row per push run, one row per pushed record with what Salesforce answered, so a rerun can
// send again only the rows that failed (docs/salesforce.md#bulk-api-20-ingest).
import type { Knex } from 'knex';

export const name = '0004_push';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.withSchema('sfsync').createTable('push_runs', (t) => {
    t.bigIncrements('id').primary();
    t.text('object').notNullable();
    t.text('operation').notNullable();
    t.text('external_id');
    t.text('source').notNullable();
    t.text('status').notNullable(); // running | failed | succeeded
    t.specificType('started_at', 'timestamptz').notNullable().defaultTo(knex.fn.now());
    t.specificType('finished_at', 'timestamptz');
    t.bigInteger('rows_sent');
    t.bigInteger('rows_failed');
    t.specificType('bulk_job_ids', 'text[]');
    t.text('error');
  });
  await knex.schema.withSchema('sfsync').createTable('push_results', (t) => {
    t.bigInteger('run_id').notNullable().references('id').inTable('sfsync.push_runs').onDelete('CASCADE');
    // The row's Id, its external id (upsert), else a hash of the row as sent (insert).
    t.text('row_key').notNullable();
    t.text('job_id').notNullable();
    t.text('sf_id');
    t.boolean('created');
    // Null on success; the STATUS_CODE of sf__Error, or UNPROCESSED for a row the job never attempted.
    t.text('error_code');
    t.text('message');
    t.index(['run_id', 'row_key'], 'push_results_run_key_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.withSchema('sfsync').dropTable('push_results');
  await knex.schema.withSchema('sfsync').dropTable('push_runs');
}
