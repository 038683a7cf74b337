// 0008: several Salesforce orgs. Every sfsync table is keyed by the target schema and each org has a schema of its own,
// so the schema is the org's key; sfsync.orgs names the org of each schema and the Salesforce org it was loaded from,
// which stops a second org from writing into a schema that holds the first one's records (loaders/orgs.ts).
// Schemas an install used before this migration belong to the implicit org `default` (lib/config.ts DEFAULT_ORG),
// their Salesforce org id recorded at their next run; their watermarks and runs stay as they are.
import type { Knex } from 'knex';

export const name = '0008_orgs';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.withSchema('sfsync').createTable('orgs', (t) => {
    t.text('schema').primary();
    // The config's name for the org (a label: renaming the org in the config renames it here).
    t.text('name').notNullable();
    // docs/salesforce.md#org-identity: the 18-character org id of the token's identity URL; null until first known.
    t.text('salesforce_org_id');
    t.specificType('created_at', 'timestamptz').notNullable().defaultTo(knex.fn.now());
    t.specificType('updated_at', 'timestamptz').notNullable().defaultTo(knex.fn.now());
    t.index(['name'], 'orgs_name_idx');
  });
  await knex.raw(
    `INSERT INTO sfsync.orgs (schema, name)
     SELECT DISTINCT target_schema, 'default' FROM (
       SELECT target_schema FROM sfsync.watermarks UNION SELECT target_schema FROM sfsync.runs
       UNION SELECT target_schema FROM sfsync.object_state UNION SELECT target_schema FROM sfsync.stream_state
       UNION SELECT target_schema FROM sfsync.backfills
     ) used`,
  );
  // A push writes to an org: `--only-failed` must resend a run of the same org. Null: a run from before this migration.
  await knex.schema.withSchema('sfsync').alterTable('push_runs', (t) => {
    t.text('target_schema');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.withSchema('sfsync').alterTable('push_runs', (t) => {
    t.dropColumn('target_schema');
  });
  await knex.schema.withSchema('sfsync').dropTable('orgs');
}
