// Values of a data table's columns rewritten in place through a function (hashing a column the config now hashes,
// pipelines/completeness/hashExisting.ts): batch by batch in id order, inside the caller's transaction, so memory holds
// one batch whatever the table's size. NULL stays NULL.
import type pg from 'pg';
import { qualified, quoteIdent } from './postgres.ts';

const BATCH_ROWS = 5_000;

/**
 * The column as text, each value spelled as Salesforce sends it: a date as YYYY-MM-DD whatever the session's
 * DateStyle, a boolean as true/false, a whole number in decimal.
 */
export async function alterColumnToText(
  client: pg.ClientBase,
  schema: string,
  table: string,
  column: string,
  currentType: string,
): Promise<void> {
  const col = quoteIdent(column);
  const text = currentType === 'date' ? `to_char(${col}, 'YYYY-MM-DD')` : `${col}::text`;
  await client.query(`ALTER TABLE ${qualified(schema, table)} ALTER COLUMN ${col} TYPE text USING ${text}`);
}

/** `columns` are text columns; returns the rows rewritten. */
export async function rewriteColumns(
  client: pg.ClientBase,
  target: { schema: string; table: string; columns: readonly string[] },
  rewrite: (text: string) => string,
  batchRows = BATCH_ROWS,
): Promise<number> {
  const table = qualified(target.schema, target.table);
  const cols = target.columns.map(quoteIdent);
  const select =
    `SELECT id, ${cols.map((c, i) => `${c} AS "v${i}"`).join(', ')} FROM ${table} ` +
    `WHERE id > $1 AND (${cols.map((c) => `${c} IS NOT NULL`).join(' OR ')}) ORDER BY id LIMIT ${batchRows}`;
  const update =
    `UPDATE ${table} AS t SET ${cols.map((c, i) => `${c} = v."v${i}"`).join(', ')} ` +
    `FROM unnest($1::text[]${cols.map((_, i) => `, $${i + 2}::text[]`).join('')}) ` +
    `AS v(id${cols.map((_, i) => `, "v${i}"`).join('')}) WHERE t.id = v.id`;
  let after = '';
  let rewritten = 0;
  for (;;) {
    const { rows } = await client.query<Record<string, string | null>>(select, [after]);
    if (rows.length === 0) return rewritten;
    const values = cols.map((_, i) => rows.map((r) => (r[`v${i}`] == null ? null : rewrite(r[`v${i}`]!))));
    await client.query(update, [rows.map((r) => r.id), ...values]);
    rewritten += rows.length;
    after = rows[rows.length - 1]!.id!;
  }
}

/**
 * Every value of text `columns` in a table keyed by anything (a history table holds many rows per id) through
 * `rewrite`. The distinct values are numbered in a temporary table on the server first, then read a batch at a time
 * and their rewrites sent back by number: memory holds one batch, a rewritten value is never read back as one still
 * to rewrite, and no raw value is ever a statement's parameter, which the server's log (log_statement, pgaudit) could
 * record beside its hash. Call it in a transaction.
 */
export async function rewriteDistinctValues(
  client: pg.ClientBase,
  target: { schema: string; table: string; columns: readonly string[] },
  rewrite: (text: string) => string,
  batchRows = BATCH_ROWS,
): Promise<void> {
  const table = qualified(target.schema, target.table);
  await client.query(
    'CREATE TEMP TABLE IF NOT EXISTS sfsync_value_map (n bigint PRIMARY KEY, v text NOT NULL, r text) ON COMMIT DROP',
  );
  for (const column of target.columns) {
    const col = quoteIdent(column);
    await client.query('TRUNCATE sfsync_value_map');
    await client.query(
      `INSERT INTO sfsync_value_map (n, v) SELECT row_number() OVER (ORDER BY v), v ` +
        `FROM (SELECT DISTINCT ${col} AS v FROM ${table} WHERE ${col} IS NOT NULL) AS d`,
    );
    let after = 0;
    for (;;) {
      const { rows } = await client.query<{ n: string; v: string }>(
        `SELECT n, v FROM sfsync_value_map WHERE n > $1 ORDER BY n LIMIT ${batchRows}`,
        [after],
      );
      if (rows.length === 0) break;
      await client.query(
        'UPDATE sfsync_value_map AS m SET r = u.r FROM unnest($1::bigint[], $2::text[]) AS u(n, r) WHERE m.n = u.n',
        [rows.map((r) => r.n), rows.map((r) => rewrite(r.v))],
      );
      after = Number(rows[rows.length - 1]!.n);
    }
    await client.query(`UPDATE ${table} AS t SET ${col} = m.r FROM sfsync_value_map AS m WHERE t.${col} = m.v`);
  }
}
