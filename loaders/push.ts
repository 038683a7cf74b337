// The SQL of `sfsync push`: the source's columns and rows (streamed through a server-side cursor, never the whole
// result in memory) and sfsync.push_runs / sfsync.push_results (migrations/0004_push.ts).
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { quoteIdent } from './postgres.ts';

export interface SourceColumn {
  name: string;
  /** format_type(): e.g. `text`, `integer`, `timestamp with time zone`, `character varying(40)`. */
  pgType: string;
}

/** `--from a.b` -> `SELECT * FROM "a"."b"`; `--sql` as given. */
export function sourceSql(from: { table?: string; sql?: string }): string {
  if (from.sql !== undefined) return from.sql.trim().replace(/;\s*$/, '');
  const parts = (from.table ?? '').split('.');
  return `SELECT * FROM ${parts.map(quoteIdent).join('.')}`;
}

export async function sourceColumns(client: pg.ClientBase, sql: string): Promise<SourceColumn[]> {
  const res = await client.query(`SELECT * FROM (${sql}) AS source LIMIT 0`);
  const oids = [...new Set(res.fields.map((f) => f.dataTypeID))];
  const types = await client.query<{ oid: number; name: string }>(
    'SELECT oid::int AS oid, format_type(oid, NULL) AS name FROM pg_type WHERE oid = ANY($1::oid[])',
    [oids],
  );
  const byOid = new Map(types.rows.map((t) => [t.oid, t.name]));
  return res.fields.map((f) => ({ name: f.name, pgType: byOid.get(f.dataTypeID) ?? 'unknown' }));
}

export async function countSource(client: pg.ClientBase, sql: string): Promise<number> {
  const res = await client.query<{ n: string }>(`SELECT count(*)::bigint AS n FROM (${sql}) AS source`);
  return Number(res.rows[0]?.n ?? 0);
}

/**
 * A column's value as the text Salesforce takes (docs/salesforce.md#bulk-api-20-ingest: dateTime with a Z, date as
 * yyyy-MM-dd, booleans true/false), rendered by PostgreSQL so every value reaches Node as a string.
 */
export function cellExpression(column: SourceColumn): string {
  const c = `source.${quoteIdent(column.name)}`;
  if (column.pgType === 'timestamp with time zone')
    return `to_char(${c} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
  if (column.pgType === 'timestamp without time zone') return `to_char(${c}, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
  if (column.pgType === 'date') return `to_char(${c}, 'YYYY-MM-DD')`;
  if (column.pgType === 'boolean') return `CASE WHEN ${c} THEN 'true' WHEN NOT ${c} THEN 'false' END`;
  return `${c}::text`;
}

/**
 * The source's rows, `batch` at a time, through DECLARE ... CURSOR in a read-only transaction: memory stays one batch
 * whatever the size of the source. The client is held until the generator ends.
 */
export async function* streamSource(
  client: pg.ClientBase,
  sql: string,
  columns: readonly SourceColumn[],
  batch = 10_000,
): AsyncGenerator<(string | null)[][]> {
  await client.query('BEGIN READ ONLY');
  try {
    const select = columns.map(cellExpression).join(', ');
    await client.query(`DECLARE sfsync_push NO SCROLL CURSOR FOR SELECT ${select} FROM (${sql}) AS source`);
    for (;;) {
      const res = await client.query<(string | null)[]>({ text: `FETCH ${batch} FROM sfsync_push`, rowMode: 'array' });
      if (res.rows.length === 0) break;
      yield res.rows;
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    // A consumer that stopped early (an error elsewhere) leaves the transaction open: end it.
    await client.query('ROLLBACK').catch(() => {});
  }
}

export async function startPushRun(
  client: pg.ClientBase,
  run: { object: string; operation: string; externalId?: string; source: string; schema?: string },
): Promise<number> {
  const res = await client.query<{ id: string }>(
    `INSERT INTO sfsync.push_runs (object, operation, external_id, source, status, target_schema)
     VALUES ($1, $2, $3, $4, 'running', $5) RETURNING id`,
    [run.object, run.operation, run.externalId ?? null, run.source, run.schema ?? null],
  );
  return Number(res.rows[0]!.id);
}

export async function finishPushRun(
  client: pg.ClientBase,
  id: number,
  end: { status: 'succeeded' | 'failed'; rowsSent: number; rowsFailed: number; jobIds: string[]; error?: string },
): Promise<void> {
  await client.query(
    `UPDATE sfsync.push_runs SET status = $2, finished_at = now(), rows_sent = $3, rows_failed = $4,
       bulk_job_ids = $5, error = $6 WHERE id = $1`,
    [id, end.status, end.rowsSent, end.rowsFailed, end.jobIds, end.error ?? null],
  );
}

/** A run of this org (its schema, lib/config.ts Config.schema), or one from before orgs were recorded. */
export async function pushRunExists(client: pg.ClientBase, id: number, schema?: string): Promise<boolean> {
  const res = await client.query(
    `SELECT 1 FROM sfsync.push_runs
     WHERE id = $1 AND ($2::text IS NULL OR target_schema IS NULL OR target_schema = $2)`,
    [id, schema ?? null],
  );
  return res.rows.length > 0;
}

export const RESULT_COLUMNS = ['run_id', 'row_key', 'job_id', 'sf_id', 'created', 'error_code', 'message'] as const;

/** CSV records (no header) in RESULT_COLUMNS order into sfsync.push_results. */
export async function copyPushResults(client: pg.ClientBase, source: Readable): Promise<number> {
  const cols = RESULT_COLUMNS.map(quoteIdent).join(', ');
  const copy = client.query(copyFrom(`COPY sfsync.push_results (${cols}) FROM STDIN (FORMAT csv)`));
  await pipeline(source, copy);
  return copy.rowCount;
}

/** The row keys that failed (or were never processed) in a run: what `--only-failed` sends again. */
export async function failedRowKeys(client: pg.ClientBase, runId: number): Promise<Set<string>> {
  const res = await client.query<{ row_key: string }>(
    `SELECT DISTINCT row_key FROM sfsync.push_results WHERE run_id = $1 AND error_code IS NOT NULL
     EXCEPT SELECT row_key FROM sfsync.push_results WHERE run_id = $1 AND error_code IS NULL`,
    [runId],
  );
  return new Set(res.rows.map((r) => r.row_key));
}

export interface ErrorCount {
  errorCode: string;
  rows: number;
  example: string;
}

/** Failed rows of a run per error code, most frequent first, with one message each. */
export async function pushErrorSummary(client: pg.ClientBase, runId: number): Promise<ErrorCount[]> {
  const res = await client.query<{ error_code: string; n: string; example: string }>(
    `SELECT error_code, count(*) AS n, min(message) AS example FROM sfsync.push_results
     WHERE run_id = $1 AND error_code IS NOT NULL GROUP BY error_code ORDER BY count(*) DESC, error_code`,
    [runId],
  );
  return res.rows.map((r) => ({ errorCode: r.error_code, rows: Number(r.n), example: r.example ?? '' }));
}
