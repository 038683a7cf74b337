// 0002: what the completeness checks keep per object (delete checks, the describe seen last) and schema drift history.
import type { Knex } from 'knex';

export const name = '0002_completeness';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.withSchema('sfsync').createTable('object_state', (t) => {
    t.text('target_schema').notNullable();
    t.text('object').notNullable();
    t.primary(['target_schema', 'object']);
    // docs/salesforce.md#hard-delete-detection: the next getDeleted window starts here (latestDateCovered of the last
    // call).
    t.specificType('last_deleted_check', 'timestamptz');
    // Set when deletes may have been lost (earliestDateAvailable, INVALID_REPLICATION_DATE:
    // docs/salesforce.md#getdeleted): reconcile next.
    t.boolean('needs_reconcile').notNullable().defaultTo(false);
    // The describe seen at the last completed run: { FieldName: { sfType, pgType, formula } }
    // (docs/salesforce.md#sobject-describe).
    t.jsonb('fields');
    t.specificType('updated_at', 'timestamptz').notNullable().defaultTo(knex.fn.now());
  });
  await knex.schema.withSchema('sfsync').createTable('schema_events', (t) => {
    t.bigIncrements('id').primary();
    t.text('target_schema').notNullable();
    t.text('object').notNullable();
    t.text('field').notNullable();
    t.text('kind').notNullable(); // added | removed | type-changed | formula-changed
    t.text('old_type');
    t.text('new_type');
    t.text('action');
    t.specificType('at', 'timestamptz').notNullable().defaultTo(knex.fn.now());
    t.index(['target_schema', 'object', 'id'], 'schema_events_object_id_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.withSchema('sfsync').dropTable('schema_events');
  await knex.schema.withSchema('sfsync').dropTable('object_state');
}
