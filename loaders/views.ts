// `<table>_live` views: what analysts query when they want the records that still exist in Salesforce.
import type pg from 'pg';
import { existingColumns } from './ddl.ts';
import { qualified, quoteLiteral } from './postgres.ts';

/** PostgreSQL truncates identifiers at 63 bytes; cut the table part so the suffix survives. */
export function liveViewName(table: string): string {
  return `${table.slice(0, 63 - '_live'.length)}_live`;
}

/**
 * Creates or refreshes `<schema>.<table>_live` when the table has an isdeleted column; returns the view name, or null
 * when there is nothing to hide. Call it after ensureTable, inside the object lock: `SELECT *` is expanded when the
 * view is (re)created, and CREATE OR REPLACE accepts the columns ensureTable appended since.
 */
export async function ensureLiveView(client: pg.ClientBase, schema: string, table: string): Promise<string | null> {
  const columns = await existingColumns(client, schema, table);
  if (!columns.includes('isdeleted')) return null;
  const view = liveViewName(table);
  // SELECT * is expanded when the view is made: it is replaced only when the table gained columns. Replacing
  // takes an exclusive lock on the view, which would queue behind (and then block) analysts' queries on it.
  const current = await existingColumns(client, schema, view);
  if (current.join(',') === columns.join(',')) return view;
  // IS NOT TRUE rather than NOT: a row whose deletion state is unknown is not known to be deleted.
  await client.query(
    `CREATE OR REPLACE VIEW ${qualified(schema, view)} AS SELECT * FROM ${qualified(schema, table)} WHERE isdeleted IS NOT TRUE`,
  );
  await client.query(
    `COMMENT ON VIEW ${qualified(schema, view)} IS ${quoteLiteral(`${schema}.${table} without the records deleted in Salesforce`)}`,
  );
  return view;
}
