// Data tables from describe: create, widen with new columns (never drop), comment, index the cursor.
import type pg from 'pg';
import { isShortened, pgIdentifier } from '../schemas/pgNames.ts';
import { type ColumnTypeOptions, columnTypeOf } from '../schemas/fieldTypes.ts';
import type { FieldSpec, ObjectSpec } from '../schemas/records.ts';
import { qualified, quoteIdent, quoteLiteral } from './postgres.ts';

/** Picklists longer than this would turn a column comment into a wall of text. */
const MAX_COMMENTED_PICKLIST_VALUES = 20;
const ID_COLUMN = 'id';

/**
 * True on a row whose current state sfsync wrote itself rather than read as a version of the record: marked deleted
 * (getDeleted, reconciliation) or given refreshed columns (formulas, back-fills). Those writes leave the cursor as it
 * was, so a stale read with an equal cursor (a backfill's older snapshot) must not undo them: only a strictly newer
 * version of the record replaces such a row (loaders/merge.ts).
 */
export const MARK_COLUMN = '_sfsync_marked';
const MARK_COLUMN_SQL = `${quoteIdent(MARK_COLUMN)} boolean NOT NULL DEFAULT false`;
const MARK_COMMENT =
  'sfsync: true when sfsync marked this row deleted or refreshed some of its columns; only a newer version replaces it';

function columnSql(field: FieldSpec, types: ColumnTypeOptions): string {
  const pk = field.column === ID_COLUMN ? ' PRIMARY KEY' : '';
  return `${quoteIdent(field.column)} ${columnTypeOf(field, types)}${pk}`;
}

export function createTableSql(schema: string, spec: ObjectSpec, types: ColumnTypeOptions = {}): string {
  const columns = spec.fields.map((f) => columnSql(f, types));
  // Every Salesforce object has Id; the guard keeps the primary key even if a caller filtered it out.
  if (!spec.fields.some((f) => f.column === ID_COLUMN)) columns.unshift(`${quoteIdent(ID_COLUMN)} text PRIMARY KEY`);
  columns.push(MARK_COLUMN_SQL);
  return `CREATE TABLE IF NOT EXISTS ${qualified(schema, spec.table)} (\n  ${columns.join(',\n  ')}\n)`;
}

export function addColumnSql(schema: string, table: string, field: FieldSpec, types: ColumnTypeOptions = {}): string {
  const column = `${quoteIdent(field.column)} ${columnTypeOf(field, types)}`;
  return `ALTER TABLE ${qualified(schema, table)} ADD COLUMN IF NOT EXISTS ${column}`;
}

/** Said of a name past PostgreSQL's 63 bytes (schemas/pgNames.ts), so the dictionary tells which object it is. */
const SHORTENED = "name shortened to PostgreSQL's 63 bytes";

/**
 * Said of a hashed field's column (transforms/hashValue.ts). It is also the record that the column holds hashes only:
 * pipelines/completeness/hashExisting.ts writes it in the transaction that hashes a column's older values, and a
 * column created for a hashed field gets it before any row is written.
 */
export const HASHED_COMMENT = 'values are HMAC-SHA256 hashes';

export function isHashedComment(comment: string | null | undefined): boolean {
  return comment?.includes(`, ${HASHED_COMMENT}`) === true;
}

export function columnComment(field: FieldSpec): string {
  let text = `${field.label} (Salesforce ${field.name}, type ${field.sfType}`;
  if (field.calculated) text += ', formula';
  if (field.hashed) text += `, ${HASHED_COMMENT}`;
  if (isShortened(field.name, field.column)) text += `, ${SHORTENED}`;
  text += ')';
  if (field.picklistValues.length > 0 && field.picklistValues.length <= MAX_COMMENTED_PICKLIST_VALUES) {
    text += `. Values: ${field.picklistValues.join(', ')}`;
  }
  return text;
}

export function tableComment(spec: ObjectSpec): string {
  // A relationship pipeline's table is named after the pipeline (its label says which), not after the object.
  const shortened = !spec.relationship && isShortened(spec.name, spec.table);
  return `${spec.label} (Salesforce ${spec.name}${shortened ? `, ${SHORTENED}` : ''})`;
}

/**
 * COMMENT statements for the table and every column, as one multi-statement string (one round trip). With `have`
 * (the comments in place, '' keying the table's own), only those that differ: an unchanged table gets none.
 */
export function commentSql(schema: string, spec: ObjectSpec, have?: ReadonlyMap<string, string | null>): string {
  const table = qualified(schema, spec.table);
  const wanted: [string, string, string][] = [['', `COMMENT ON TABLE ${table}`, tableComment(spec)]];
  for (const field of spec.fields)
    wanted.push([field.column, `COMMENT ON COLUMN ${table}.${quoteIdent(field.column)}`, columnComment(field)]);
  wanted.push([MARK_COLUMN, `COMMENT ON COLUMN ${table}.${quoteIdent(MARK_COLUMN)}`, MARK_COMMENT]);
  return wanted
    .filter(([key, , text]) => !have || have.get(key) !== text)
    .map(([, target, text]) => `${target} IS ${quoteLiteral(text)};`)
    .join('\n');
}

/** Incremental reads filter and order by the cursor; maxCursor reads its maximum. */
export function cursorIndexSql(schema: string, spec: ObjectSpec): string | null {
  const name = cursorIndexName(spec);
  if (!name || !spec.cursorField) return null;
  return (
    `CREATE INDEX IF NOT EXISTS ${quoteIdent(name)} ON ${qualified(schema, spec.table)} ` +
    `(${quoteIdent(spec.cursorField.toLowerCase())})`
  );
}

export function cursorIndexName(spec: ObjectSpec): string | null {
  return spec.cursorField ? pgIdentifier(`${spec.table}_${spec.cursorField.toLowerCase()}`, '_idx') : null;
}

/**
 * The name cursorIndexName gave before names were shortened with a hash: cut at 63 characters, so two tables could get
 * the same one (the second then got no index). A table whose index has that name keeps it rather than get a second.
 */
function legacyCursorIndexName(spec: ObjectSpec): string | null {
  return spec.cursorField ? `${spec.table}_${spec.cursorField.toLowerCase()}_idx`.slice(0, 63) : null;
}

/** The table's columns in order; none when it does not exist. pg_attribute, not information_schema.columns: the
 * view scans every column of the database, which in a warehouse of many tables takes far longer. */
export async function existingColumns(client: pg.ClientBase, schema: string, table: string): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    'SELECT attname AS name FROM pg_attribute ' +
      'WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped ORDER BY attnum',
    [qualified(schema, table)],
  );
  return rows.map((r) => r.name);
}

export async function tableIsEmpty(client: pg.ClientBase, schema: string, table: string): Promise<boolean> {
  const { rows } = await client.query<{ empty: boolean }>(
    `SELECT NOT EXISTS (SELECT 1 FROM ${qualified(schema, table)}) AS empty`,
  );
  return rows[0]!.empty;
}

/**
 * Creates the schema and table, or adds the columns describe gained since; comments are refreshed each time.
 * Call it outside a transaction: a lost CREATE SCHEMA race is tolerated, which an open transaction cannot survive.
 */
export async function ensureTable(
  client: pg.ClientBase,
  schema: string,
  spec: ObjectSpec,
  types: ColumnTypeOptions = {},
): Promise<{ created: boolean; addedColumns: string[] }> {
  await ensureSchema(client, schema);
  const before = await existingColumns(client, schema, spec.table);
  const created = before.length === 0;
  const have = new Set(before);
  const missing = created ? [] : spec.fields.filter((f) => !have.has(f.column));
  if (created) await client.query(createTableSql(schema, spec, types));
  for (const field of missing) await client.query(addColumnSql(schema, spec.table, field, types));
  if (!created && !have.has(MARK_COLUMN)) await addMarkColumn(client, schema, spec.table);
  // CREATE INDEX and COMMENT lock the table against autovacuum (which a big load sets off), and a conflicting
  // autovacuum is only cancelled after deadlock_timeout (1 s): so neither runs when nothing would change.
  const index = cursorIndexName(spec);
  if (index && !(await relationExists(client, schema, index)) && !(await hasLegacyIndex(client, schema, spec)))
    await client.query(cursorIndexSql(schema, spec)!);
  const comments = commentSql(schema, spec, created ? undefined : await currentComments(client, schema, spec.table));
  if (comments) await client.query(comments);
  return { created, addedColumns: missing.map((f) => f.column) };
}

async function relationExists(client: pg.ClientBase, schema: string, name: string): Promise<boolean> {
  const { rows } = await client.query<{ oid: string | null }>('SELECT to_regclass($1)::text AS oid', [
    qualified(schema, name),
  ]);
  return rows[0]?.oid != null;
}

async function hasLegacyIndex(client: pg.ClientBase, schema: string, spec: ObjectSpec): Promise<boolean> {
  const legacy = legacyCursorIndexName(spec);
  if (!legacy || legacy === cursorIndexName(spec)) return false;
  const { rowCount } = await client.query(
    'SELECT 1 FROM pg_index WHERE indexrelid = to_regclass($1) AND indrelid = to_regclass($2)',
    [qualified(schema, legacy), qualified(schema, spec.table)],
  );
  return (rowCount ?? 0) > 0;
}

/** The table's comment (key '') and each column's, as they are now. */
export async function currentComments(
  client: pg.ClientBase,
  schema: string,
  table: string,
): Promise<Map<string, string | null>> {
  const { rows } = await client.query<{ key: string; comment: string | null }>(
    `SELECT '' AS key, obj_description($1::regclass, 'pg_class') AS comment
     UNION ALL
     SELECT attname, col_description(attrelid, attnum) FROM pg_attribute
     WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped`,
    [qualified(schema, table)],
  );
  return new Map(rows.map((r) => [r.key, r.comment]));
}

/** Objects sync concurrently; two CREATE SCHEMA IF NOT EXISTS can still race on pg_namespace's unique index. */
export async function ensureSchema(client: pg.ClientBase, schema: string): Promise<void> {
  const { rowCount } = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
  if (rowCount) return;
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
  } catch (err) {
    // 23505: the loser of the race on pg_namespace; 42P06: the schema appeared between our check and CREATE.
    const code = (err as { code?: string }).code;
    if (code !== '23505' && code !== '42P06') throw err;
  }
}

/** Column -> Postgres type as format_type spells it ('integer', 'timestamp with time zone', ...). */
export async function columnTypes(client: pg.ClientBase, schema: string, table: string): Promise<Map<string, string>> {
  const { rows } = await client.query<{ name: string; type: string }>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
     FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped`,
    [schema, table],
  );
  return new Map(rows.map((r) => [r.name, r.type]));
}

/** Changes a column's type, converting every value with a plain cast (the caller decides the cast is safe). */
export async function alterColumnType(
  client: pg.ClientBase,
  schema: string,
  table: string,
  column: string,
  type: string,
): Promise<void> {
  const col = quoteIdent(column);
  await client.query(`ALTER TABLE ${qualified(schema, table)} ALTER COLUMN ${col} TYPE ${type} USING ${col}::${type}`);
}

const DELETED_COLUMN = 'isdeleted';

/**
 * Objects without IsDeleted (no Recycle Bin, docs/salesforce.md#objects-without-system-fields) still need a place to
 * record that a row no longer exists in Salesforce: rows are never physically removed. True when it added the column.
 */
export async function ensureDeletedFlag(client: pg.ClientBase, schema: string, table: string): Promise<boolean> {
  // Checked first: ALTER TABLE locks the table (against readers too) even when the column is already there.
  if ((await existingColumns(client, schema, table)).includes(DELETED_COLUMN)) return false;
  await client.query(
    `ALTER TABLE ${qualified(schema, table)} ADD COLUMN IF NOT EXISTS ${DELETED_COLUMN} boolean NOT NULL DEFAULT false`,
  );
  return true;
}

/** Tables created before the mark column get it on first use; a table that has it is not locked to check. */
export async function ensureMarkColumn(client: pg.ClientBase, schema: string, table: string): Promise<void> {
  if (!(await existingColumns(client, schema, table)).includes(MARK_COLUMN)) await addMarkColumn(client, schema, table);
}

async function addMarkColumn(client: pg.ClientBase, schema: string, table: string): Promise<void> {
  await client.query(`ALTER TABLE ${qualified(schema, table)} ADD COLUMN IF NOT EXISTS ${MARK_COLUMN_SQL}`);
}

/**
 * True on a row whose record no longer matches the object's filter (config objects[].where): kept, like a deleted
 * one, and left out of `<table>_live` (loaders/views.ts). Only a newer version that matches clears it
 * (loaders/merge.ts).
 */
export const FILTER_COLUMN = '_sfsync_filtered_out';
const FILTER_COMMENT =
  "sfsync: true when the record no longer matches the object's filter (objects[].where); hidden from the _live view";

/** Filtered objects get the flag column on first use; a table that has it is not locked to check. True when added. */
export async function ensureFilterFlag(client: pg.ClientBase, schema: string, table: string): Promise<boolean> {
  if ((await existingColumns(client, schema, table)).includes(FILTER_COLUMN)) return false;
  const target = qualified(schema, table);
  await client.query(
    `ALTER TABLE ${target} ADD COLUMN IF NOT EXISTS ${quoteIdent(FILTER_COLUMN)} boolean NOT NULL DEFAULT false`,
  );
  await client.query(`COMMENT ON COLUMN ${target}.${quoteIdent(FILTER_COLUMN)} IS ${quoteLiteral(FILTER_COMMENT)}`);
  return true;
}
