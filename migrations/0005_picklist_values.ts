// 0005: every picklist entry describe lists for the loaded fields, so analysts can join a value to its label
// (docs/salesforce.md#picklist-values). Keyed by the data schema too: two data schemas in one database never mix.
import type { Knex } from 'knex';

export const name = '0005_picklist_values';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.withSchema('sfsync').createTable('picklist_values', (t) => {
    t.text('target_schema').notNullable();
    t.text('object').notNullable();
    t.text('field').notNullable();
    t.text('value').notNullable();
    t.text('label').notNullable();
    t.boolean('active').notNullable();
    t.boolean('is_default').notNullable().defaultTo(false);
    // 1-based position in describe's list.
    t.integer('sort_order').notNullable();
    // Set when describe no longer lists the value: records may still hold it, so its label stays joinable.
    t.specificType('removed_at', 'timestamptz');
    t.specificType('updated_at', 'timestamptz').notNullable().defaultTo(knex.fn.now());
    t.primary(['target_schema', 'object', 'field', 'value']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.withSchema('sfsync').dropTable('picklist_values');
}
