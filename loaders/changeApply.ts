// One change event into its table, in the caller's transaction: only the columns the event sets, and an older
// version never overwrites a newer row (docs/salesforce.md#change-events-and-systemmodstamp). The rule mirrors
// loaders/merge.ts: a row's cursor column orders its versions, whoever wrote them.
import type pg from 'pg';
import type { DecodedChange } from '../transforms/changeEvent.ts';
import { MARK_COLUMN } from './ddl.ts';
import { qualified, quoteIdent } from './postgres.ts';

export interface ChangeTarget {
  schema: string;
  table: string;
  /** Lowercased cursor column (systemmodstamp); null = the event always wins. */
  cursorColumn: string | null;
}

export interface Applied {
  /** Rows written. */
  rows: number;
  /**
   * Ids an UPDATE found no row for, or only a row marked deleted: the row is missing or stale, and must be read whole
   * from Salesforce.
   */
  absent: string[];
}

const DELETED = quoteIdent('isdeleted');

/**
 * An UPDATE did not write these ids: their rows are newer, missing, or marked deleted. An update of a deleted record
 * means the record came back and the UNDELETE that said so did not apply (an older version than the row's, which the
 * delete's re-read stamped): missing and marked deleted are both absent.
 */
async function absentOf(client: pg.ClientBase, target: ChangeTarget, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const { rows } = await client.query<{ id: string }>(
    `SELECT id FROM ${qualified(target.schema, target.table)} AS t
     WHERE t.id = ANY($1::text[]) AND t.${DELETED} IS DISTINCT FROM true`,
    [ids],
  );
  const present = new Set(rows.map((r) => r.id));
  return ids.filter((id) => !present.has(id));
}

/** CREATE and UNDELETE carry the whole record: insert it, or replace the row unless the row is newer. */
async function upsert(client: pg.ClientBase, target: ChangeTarget, change: DecodedChange): Promise<number> {
  const values = new Map(change.values);
  if (target.cursorColumn) values.set(target.cursorColumn, change.cursor);
  values.set('isdeleted', 'false');
  values.delete('id');
  const columns = ['id', ...values.keys()].map(quoteIdent);
  const params = [...values.values()];
  const cursor = target.cursorColumn ? quoteIdent(target.cursorColumn) : null;
  const notOlder = cursor ? ` WHERE t.${cursor} IS NULL OR EXCLUDED.${cursor} >= t.${cursor}` : '';
  const set = columns
    .filter((c) => c !== '"id"')
    .map((c) => `${c} = EXCLUDED.${c}`)
    .join(', ');
  const sql =
    `INSERT INTO ${qualified(target.schema, target.table)} AS t (${columns.join(', ')}) ` +
    `VALUES ($1, ${params.map((_, i) => `$${i + 2}`).join(', ')}) ` +
    `ON CONFLICT (id) DO UPDATE SET ${set}, ${quoteIdent(MARK_COLUMN)} = false${notOlder}`;
  let rows = 0;
  for (const id of change.recordIds) rows += (await client.query(sql, [id, ...params])).rowCount ?? 0;
  return rows;
}

/** UPDATE carries the changed fields only: set them on the rows that are not newer. */
async function update(client: pg.ClientBase, target: ChangeTarget, change: DecodedChange): Promise<Applied> {
  const values = new Map(change.values);
  values.delete('id');
  if (target.cursorColumn) values.set(target.cursorColumn, change.cursor);
  const columns = [...values.keys()];
  const set = columns.map((c, i) => `${quoteIdent(c)} = $${i + 2}`).join(', ');
  const cursor = target.cursorColumn ? quoteIdent(target.cursorColumn) : null;
  const cursorParam = columns.length + 2;
  const notOlder = cursor ? ` AND (t.${cursor} IS NULL OR t.${cursor} <= $${cursorParam})` : '';
  const { rows } = await client.query<{ id: string }>(
    `UPDATE ${qualified(target.schema, target.table)} AS t SET ${set}, ${quoteIdent(MARK_COLUMN)} = false ` +
      `WHERE t.id = ANY($1::text[]) AND t.${DELETED} IS DISTINCT FROM true${notOlder} RETURNING t.id`,
    [change.recordIds, ...values.values(), ...(cursor ? [change.cursor] : [])],
  );
  const done = new Set(rows.map((r) => r.id));
  return {
    rows: rows.length,
    absent: await absentOf(
      client,
      target,
      change.recordIds.filter((id) => !done.has(id)),
    ),
  };
}

/**
 * DELETE: marked deleted (rows are never removed), like getDeleted's marks (loaders/merge.ts markDeletedAsOf): the
 * cursor stays, so only a strictly newer version replaces the mark, and no version read before the delete does. The
 * deleted version itself (a delete stamps LastModifiedDate, LastModifiedById, SystemModstamp) is the caller's to read.
 */
async function markDeleted(client: pg.ClientBase, target: ChangeTarget, change: DecodedChange): Promise<number> {
  const cursor = target.cursorColumn ? quoteIdent(target.cursorColumn) : null;
  const notNewer = cursor ? ` AND (t.${cursor} IS NULL OR t.${cursor} <= $2)` : '';
  const { rowCount } = await client.query(
    `UPDATE ${qualified(target.schema, target.table)} AS t SET ${DELETED} = true, ${quoteIdent(MARK_COLUMN)} = true ` +
      `WHERE t.id = ANY($1::text[]) AND t.${DELETED} IS DISTINCT FROM true${notNewer}`,
    [change.recordIds, ...(cursor ? [new Date(change.commitTimestamp).toISOString()] : [])],
  );
  return rowCount ?? 0;
}

/** Applies one CREATE, UPDATE, DELETE or UNDELETE; gap events are the caller's (they carry no values). */
export async function applyChange(
  client: pg.ClientBase,
  target: ChangeTarget,
  change: DecodedChange,
): Promise<Applied> {
  switch (change.changeType) {
    case 'CREATE':
    case 'UNDELETE':
      return { rows: await upsert(client, target, change), absent: [] };
    case 'UPDATE':
      return update(client, target, change);
    case 'DELETE':
      return { rows: await markDeleted(client, target, change), absent: [] };
    default:
      return { rows: 0, absent: [] };
  }
}
