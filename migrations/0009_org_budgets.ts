// 0009: each org's API budget as every `sfsync worker` sees it (pipelines/fleet/sharedBudget.ts): the newest reading
// of the org's daily allowances, and the stop a worker recorded once one of them reached its share, so that the
// other workers start nothing for that org without asking Salesforce again.
import type { Knex } from 'knex';

export const name = '0009_org_budgets';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.withSchema('sfsync').createTable('org_budgets', (t) => {
    // The org's schema, its key everywhere in sfsync (0008_orgs).
    t.text('schema').primary();
    t.text('org').notNullable();
    // docs/salesforce.md#limits-resource: {DailyApiRequests: {max, remaining}, ...} as last read.
    t.jsonb('limits');
    t.specificType('read_at', 'timestamptz');
    // Why nothing more starts for the org; null while the budget allows work.
    t.text('stopped');
    t.specificType('stopped_at', 'timestamptz');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.withSchema('sfsync').dropTable('org_budgets');
}
