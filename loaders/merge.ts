// Stage -> target upserts (an older version of a record never overwrites a newer one), deletes, cursor max.
import type pg from 'pg';
import { FILTER_COLUMN, MARK_COLUMN } from './ddl.ts';
import { qualified, quoteIdent } from './postgres.ts';
import { STAGE_SCHEMA } from './stage.ts';

export interface MergeRequest {
  schema: string;
  table: string;
  stage: string;
  /** Defaults to pg_temp, where createStage puts it. */
  stageSchema?: string;
  columns: readonly string[];
  /** Lowercased cursor column (e.g. systemmodstamp); null = the newest load always wins. */
  cursorColumn: string | null;
  /**
   * The target has the filter flag (loaders/ddl.ts FILTER_COLUMN) and the stage holds versions that match the filter:
   * a row replaced by one of them matches again.
   */
  filterFlag?: boolean;
  /**
   * The filter names a parent's field, and the stage was read after every flag was set: a flagged row is also
   * replaced by a matching version of the same cursor (its parent changed back).
   */
  parentFilter?: boolean;
  /**
   * The stage was read after every mark sfsync set on the target (a relationship pipeline's read: under the pipeline's
   * lock, and no read of a pipeline is made ahead of time as a backfill's job is): a marked row is also replaced by a
   * version of the same cursor, one that matches the pipeline's WHERE again (a parent changed back, a wider WHERE).
   */
  readAfterMarks?: boolean;
}

export interface MergeResult {
  inserted: number;
  updated: number;
}

/**
 * One statement. DISTINCT ON keeps one row per id (the newest by cursor; among equals the last copied, ctid).
 * An update happens only if the incoming cursor is not older AND some value differs, so re-reading the overlap
 * window (docs/salesforce.md#incremental-cursor-windows) reports, and writes, nothing. A row sfsync marked itself
 * (MARK_COLUMN: deleted, or refreshed columns) is replaced only by a strictly newer cursor: an equal one may come from
 * a snapshot read before the mark (unless req.readAfterMarks says none can).
 */
export function mergeSql(req: MergeRequest): string {
  const target = qualified(req.schema, req.table);
  const stage = qualified(req.stageSchema ?? STAGE_SCHEMA, req.stage);
  const cols = req.columns.map(quoteIdent);
  const list = cols.join(', ');
  const updatable = cols.filter((c) => c !== '"id"' && c !== quoteIdent(MARK_COLUMN));
  const cursor = req.cursorColumn ? quoteIdent(req.cursorColumn) : null;
  const order = cursor ? `id, ${cursor} DESC NULLS LAST, ctid DESC` : 'id, ctid DESC';
  const mark = quoteIdent(MARK_COLUMN);
  // A flagged row is also marked, so only a strictly newer version (that matches) replaces it and clears the flag;
  // with a filter on a parent's field, one of the same cursor too: the parent took the record in and out with its own
  // cursor unchanged (docs/salesforce.md#soql-filters).
  const flag = quoteIdent(FILTER_COLUMN);
  const parentFilter = req.filterFlag === true && req.parentFilter === true;
  const unflag = req.filterFlag ? `, ${flag} = false` : '';
  const sameOk = parentFilter ? `(NOT t.${mark} OR t.${flag})` : `NOT t.${mark}`;
  const notOlder = req.readAfterMarks
    ? `EXCLUDED.${cursor} >= t.${cursor}`
    : `EXCLUDED.${cursor} > t.${cursor} OR (EXCLUDED.${cursor} = t.${cursor} AND ${sameOk})`;
  const newer = cursor ? `(t.${cursor} IS NULL OR ${notOlder}) AND ` : '';
  const differs =
    `ROW(${updatable.map((c) => `t.${c}`).join(', ')}) IS DISTINCT FROM ` +
    `ROW(${updatable.map((c) => `EXCLUDED.${c}`).join(', ')})`;
  const changed = parentFilter ? `(${differs} OR t.${flag})` : differs;
  const conflict =
    updatable.length === 0
      ? 'DO NOTHING'
      : `DO UPDATE SET ${updatable.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}, ${mark} = false${unflag}\n` +
        `  WHERE ${newer}${changed}`;
  return (
    `WITH merged AS (
  INSERT INTO ${target} AS t (${list})
  SELECT DISTINCT ON (id) ${list} FROM ${stage} ORDER BY ${order}
  ON CONFLICT (id) ${conflict}
  RETURNING (xmax = 0) AS inserted
)
SELECT count(*) FILTER (WHERE inserted)::int AS inserted, ` +
    'count(*) FILTER (WHERE NOT inserted)::int AS updated FROM merged'
  );
}

export async function mergeStage(client: pg.ClientBase, req: MergeRequest): Promise<MergeResult> {
  const { rows } = await client.query<MergeResult>(mergeSql(req));
  return rows[0]!;
}

/**
 * Overwrites only `columns` of rows already in the target, e.g. formula fields refreshed without
 * a cursor change. Ids absent from the target are ignored. Returns the number of rows changed.
 */
export async function updateColumns(client: pg.ClientBase, req: Omit<MergeRequest, 'cursorColumn'>): Promise<number> {
  const cols = req.columns.filter((c) => c !== 'id').map(quoteIdent);
  if (cols.length === 0) return 0;
  const stage = qualified(req.stageSchema ?? STAGE_SCHEMA, req.stage);
  const set = cols.map((c) => `${c} = s.${c}`).join(', ');
  const sql =
    `UPDATE ${qualified(req.schema, req.table)} AS t SET ${set}, ${quoteIdent(MARK_COLUMN)} = true
FROM (SELECT DISTINCT ON (id) id, ${cols.join(', ')} FROM ${stage} ORDER BY id, ctid DESC) AS s
WHERE t.id = s.id AND ROW(${cols.map((c) => `t.${c}`).join(', ')}) IS DISTINCT FROM ` +
    `ROW(${cols.map((c) => `s.${c}`).join(', ')})`;
  const { rowCount } = await client.query(sql);
  return rowCount ?? 0;
}

/** The highest cursor value in a table or stage as ISO 8601 UTC with milliseconds (Salesforce's precision). */
export async function maxCursor(
  client: pg.ClientBase,
  schema: string,
  table: string,
  cursorColumn: string,
): Promise<string | null> {
  const col = quoteIdent(cursorColumn);
  const { rows } = await client.query<{ max: string | null }>(
    `SELECT to_char(max(${col}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS max ` +
      `FROM ${qualified(schema, table)}`,
  );
  return rows[0]!.max;
}

/**
 * getDeleted entries (docs/salesforce.md#getdeleted) -> isdeleted = true, unless the row's cursor is newer than the
 * deletion (an undeleted record re-read in the same run). Without a cursor column every listed id is marked.
 */
export async function markDeletedAsOf(
  client: pg.ClientBase,
  req: { schema: string; table: string; cursorColumn: string | null },
  entries: readonly { id: string; deletedDate: string }[],
): Promise<number> {
  if (entries.length === 0) return 0;
  const newer = req.cursorColumn
    ? `AND (t.${quoteIdent(req.cursorColumn)} IS NULL OR t.${quoteIdent(req.cursorColumn)} <= d.at)`
    : '';
  const { rowCount } = await client.query(
    `UPDATE ${qualified(req.schema, req.table)} AS t SET isdeleted = true, ${quoteIdent(MARK_COLUMN)} = true
     FROM unnest($1::text[], $2::timestamptz[]) AS d(id, at)
     WHERE t.id = d.id AND t.isdeleted IS DISTINCT FROM true ${newer}`,
    [entries.map((e) => e.id), entries.map((e) => e.deletedDate)],
  );
  return rowCount ?? 0;
}

/**
 * Reconciliation (docs/salesforce.md#hard-delete-detection): rows whose id is not in `idsTable` (every live Salesforce
 * id) are marked deleted.
 */
export async function markAbsentDeleted(
  client: pg.ClientBase,
  req: { schema: string; table: string; idsSchema: string; idsTable: string },
): Promise<number> {
  const { rowCount } = await client.query(
    `UPDATE ${qualified(req.schema, req.table)} AS t SET isdeleted = true, ${quoteIdent(MARK_COLUMN)} = true
     WHERE t.isdeleted IS DISTINCT FROM true
       AND NOT EXISTS (SELECT 1 FROM ${qualified(req.idsSchema, req.idsTable)} AS i WHERE i.id = t.id)`,
  );
  return rowCount ?? 0;
}

/**
 * Rows whose record no longer matches the object's filter (`idsTable`: the Ids and cursors a `NOT (<where>)` read
 * returned) are flagged, unless the row holds a newer version than the one read (it matched again since). Marked
 * too, so a stale read of the older, matching version cannot clear the flag (mergeSql).
 */
export async function markFilteredOut(
  client: pg.ClientBase,
  req: { schema: string; table: string; idsSchema: string; idsTable: string; cursorColumn: string | null },
): Promise<number> {
  const cursor = req.cursorColumn ? quoteIdent(req.cursorColumn) : null;
  const older = cursor ? `AND (t.${cursor} IS NULL OR t.${cursor} <= u.${cursor})` : '';
  const { rowCount } = await client.query(
    `UPDATE ${qualified(req.schema, req.table)} AS t
     SET ${quoteIdent(FILTER_COLUMN)} = true, ${quoteIdent(MARK_COLUMN)} = true
     FROM ${qualified(req.idsSchema, req.idsTable)} AS u
     WHERE t.id = u.id AND NOT t.${quoteIdent(FILTER_COLUMN)} ${older}`,
  );
  return rowCount ?? 0;
}

/**
 * Filter flags cleared: the filter changed or was removed, and a full read applies the new one. With `keep` (the Ids
 * and cursors the new filter leaves out), the rows markFilteredOut is about to flag keep their flag, so a row whose
 * standing did not change is not written (a history table would get two false versions of it).
 */
export async function clearFilteredOut(
  client: pg.ClientBase,
  req: { schema: string; table: string; keep?: { schema: string; table: string; cursorColumn: string | null } },
): Promise<number> {
  const flag = quoteIdent(FILTER_COLUMN);
  const keep = req.keep;
  const cursor = keep?.cursorColumn ? quoteIdent(keep.cursorColumn) : null;
  const older = cursor ? `AND (t.${cursor} IS NULL OR t.${cursor} <= u.${cursor})` : '';
  const kept = keep
    ? ` AND NOT EXISTS (SELECT 1 FROM ${qualified(keep.schema, keep.table)} AS u WHERE u.id = t.id ${older})`
    : '';
  const { rowCount } = await client.query(
    `UPDATE ${qualified(req.schema, req.table)} AS t SET ${flag} = false WHERE t.${flag}${kept}`,
  );
  return rowCount ?? 0;
}
