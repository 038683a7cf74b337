// readSourceCatalog: what `sfsync dbt-sources` declares. The data dictionary of the schema, plus for each relation the
// table it stands for (a view's table, a `__history` table's table) and the query that tells when sfsync last brought
// that table up to date (sfsync.runs), since no column of a data table records when its row was loaded.
import type pg from 'pg';
import { tableNameOf } from '../schemas/pgNames.ts';
import { type DictionaryRelation, readDictionary } from './dictionary.ts';
import { quoteLiteral } from './postgres.ts';

export interface SourceRelation extends DictionaryRelation {
  /** The table a view reads (its only one) or a `<table>__history` table follows; null for other relations. */
  base: string | null;
  /** One-value SQL: when the last successful sync of the relation's table started; null when sfsync ran none. */
  loadedAtQuery: string | null;
}

export interface SourceCatalog {
  schema: string;
  relations: SourceRelation[];
}

/**
 * Runs after which the table holds every change Salesforce had when the run started. A backfill re-reads an old
 * range, a formula refresh re-reads some columns and a reconciliation looks only for deletes: none says the table is
 * current. Any other mode (initial, incremental, full-refresh, and whatever future loaders record) does.
 */
const NOT_CURRENT_MODES = ['backfill', 'formulas', 'reconcile'];

/** dbt runs it as `with source_query as (<this>) select (select * from source_query) ...`: one row, one value. */
export function lastSyncQuery(schema: string, object: string): string {
  return (
    `select max(started_at) from sfsync.runs where target_schema = ${quoteLiteral(schema)} ` +
    `and object = ${quoteLiteral(object)} and status = 'succeeded' ` +
    `and mode not in (${NOT_CURRENT_MODES.map(quoteLiteral).join(', ')})`
  );
}

const HISTORY_SUFFIX = '__history';

/** Each view of the schema that reads exactly one table of the schema, with that table. */
async function viewTables(client: pg.ClientBase, schema: string): Promise<Map<string, string>> {
  const { rows } = await client.query<{ view: string; table: string }>(
    `SELECT v.relname AS view, min(t.relname::text) AS table
     FROM pg_class v
     JOIN pg_namespace n ON n.oid = v.relnamespace
     JOIN pg_rewrite r ON r.ev_class = v.oid
     JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
       AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> v.oid
     JOIN pg_class t ON t.oid = d.refobjid AND t.relkind IN ('r', 'p') AND t.relnamespace = n.oid
     WHERE n.nspname = $1 AND v.relkind = 'v'
     GROUP BY v.relname
     HAVING count(DISTINCT t.oid) = 1`,
    [schema],
  );
  return new Map(rows.map((r) => [r.view, r.table]));
}

/** The objects sfsync recorded runs of for this schema, by their table's name (schemas/pgNames.ts tableNameOf). */
async function objectsByTable(client: pg.ClientBase, schema: string): Promise<Map<string, string>> {
  const { rows } = await client.query<{ object: string }>(
    'SELECT DISTINCT object FROM sfsync.runs WHERE target_schema = $1 ORDER BY object',
    [schema],
  );
  return new Map(rows.map((r) => [tableNameOf(r.object), r.object]));
}

/** Relations sorted by name (code point order, whatever the database's collation); columns in table order. */
export async function readSourceCatalog(client: pg.ClientBase, schema: string): Promise<SourceCatalog> {
  const dictionary = await readDictionary(client, schema);
  const views = await viewTables(client, schema);
  const objects = await objectsByTable(client, schema);
  const byName = new Map(dictionary.tables.map((t) => [t.name, t]));
  const relations = dictionary.tables.map((rel): SourceRelation => {
    let base: string | null = null;
    if (rel.kind === 'view') base = views.get(rel.name) ?? null;
    else if (rel.name.endsWith(HISTORY_SUFFIX)) {
      const table = rel.name.slice(0, -HISTORY_SUFFIX.length);
      if (byName.get(table)?.kind === 'table') base = table;
    }
    const object = objects.get(base ?? rel.name);
    // A view's columns carry no COMMENT of their own (nor, maybe, a history table's): they are its table's columns.
    const baseColumns = new Map(base ? byName.get(base)?.columns.map((c) => [c.name, c.description]) : []);
    const columns = rel.columns.map((c) => ({ ...c, description: c.description ?? baseColumns.get(c.name) ?? null }));
    return { ...rel, columns, base, loadedAtQuery: object === undefined ? null : lastSyncQuery(schema, object) };
  });
  relations.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { schema, relations };
}
