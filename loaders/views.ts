// `<table>_live` views: what analysts query when they want the records that still exist in Salesforce.
import type pg from 'pg';
import { pgIdentifier } from '../schemas/pgNames.ts';
import { existingColumns, FILTER_COLUMN } from './ddl.ts';
import { qualified, quoteLiteral } from './postgres.ts';

/** `<table>_live`; past 63 bytes the table part is shortened with a hash (schemas/pgNames.ts), the suffix kept. */
export function liveViewName(table: string): string {
  return pgIdentifier(table, '_live');
}

/**
 * The name liveViewName gave before names were shortened with a hash: the table part cut, so two tables sharing their
 * first 58 characters had one view between them.
 */
function legacyLiveViewName(table: string): string {
  return `${table.slice(0, 63 - '_live'.length)}_live`;
}

/**
 * The table's view under its old cut name, if that view reads this table (it may as well be another table's: then it
 * is left alone). Dropped once the view has its own name, so no stale copy lingers.
 */
async function dropLegacyView(client: pg.ClientBase, schema: string, table: string): Promise<void> {
  const legacy = legacyLiveViewName(table);
  if (legacy === liveViewName(table)) return;
  const { rowCount } = await client.query(
    `SELECT 1 FROM pg_rewrite r JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
     WHERE r.ev_class = to_regclass($1) AND d.refobjid = to_regclass($2)`,
    [qualified(schema, legacy), qualified(schema, table)],
  );
  if (rowCount) await client.query(`DROP VIEW IF EXISTS ${qualified(schema, legacy)}`);
}

/** Drops the table's view (before a column type change, which a view over the column blocks). */
export async function dropLiveView(client: pg.ClientBase, schema: string, table: string): Promise<void> {
  await dropLegacyView(client, schema, table);
  await client.query(`DROP VIEW IF EXISTS ${qualified(schema, liveViewName(table))}`);
}

/**
 * Creates or refreshes `<schema>.<table>_live` when the table has an isdeleted column or the filter flag
 * (loaders/ddl.ts FILTER_COLUMN); returns the view name, or null when there is nothing to hide. Call it after
 * ensureTable, inside the object lock: `SELECT *` is expanded when the view is (re)created, and CREATE OR REPLACE
 * accepts the columns ensureTable appended since.
 */
export async function ensureLiveView(client: pg.ClientBase, schema: string, table: string): Promise<string | null> {
  const columns = await existingColumns(client, schema, table);
  const deleted = columns.includes('isdeleted');
  const filtered = columns.includes(FILTER_COLUMN);
  if (!deleted && !filtered) return null;
  const view = liveViewName(table);
  await dropLegacyView(client, schema, table);
  // SELECT * is expanded when the view is made: it is replaced only when the table gained columns. Replacing
  // takes an exclusive lock on the view, which would queue behind (and then block) analysts' queries on it.
  const current = await existingColumns(client, schema, view);
  if (current.join(',') === columns.join(',')) return view;
  // IS NOT TRUE rather than NOT: a row whose deletion state is unknown is not known to be deleted.
  const hidden = [...(deleted ? ['isdeleted IS NOT TRUE'] : []), ...(filtered ? [`NOT ${FILTER_COLUMN}`] : [])];
  await client.query(
    `CREATE OR REPLACE VIEW ${qualified(schema, view)} AS ` +
      `SELECT * FROM ${qualified(schema, table)} WHERE ${hidden.join(' AND ')}`,
  );
  const without = [
    ...(deleted ? ['the records deleted in Salesforce'] : []),
    ...(filtered ? ["those that no longer match the object's filter"] : []),
  ];
  await client.query(
    `COMMENT ON VIEW ${qualified(schema, view)} ` +
      `IS ${quoteLiteral(`${schema}.${table} without ${without.join(' and ')}`)}`,
  );
  return view;
}
