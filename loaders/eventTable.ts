// A platform event's table: one row per event, keyed by its replay id, so an event delivered again (a replay after a
// crash) is not stored twice. Columns are added as the event's schema gains fields.
import type pg from 'pg';
import type { EventColumn } from '../transforms/platformEvent.ts';
import { existingColumns, ensureSchema } from './ddl.ts';
import { qualified, quoteIdent, quoteLiteral } from './postgres.ts';

const COLUMN_TYPE: Readonly<Record<EventColumn['pgType'], string>> = {
  text: 'text',
  boolean: 'boolean',
  integer: 'integer',
  bigint: 'bigint',
  numeric: 'numeric',
  date: 'date',
  timestamptz: 'timestamptz',
  time: 'time',
  jsonb: 'jsonb',
};

/** Creates the table, or adds the columns it lacks; outside a transaction (a schema race is tolerated there). */
export async function ensureEventTable(
  client: pg.ClientBase,
  schema: string,
  table: string,
  columns: readonly EventColumn[],
): Promise<void> {
  await ensureSchema(client, schema);
  const have = new Set(await existingColumns(client, schema, table));
  const target = qualified(schema, table);
  if (have.size === 0) {
    const defs = columns.map((c) => `${quoteIdent(c.column)} ${COLUMN_TYPE[c.pgType]}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${target} (replay_id bytea PRIMARY KEY, published_at timestamptz` +
        `${defs.map((d) => `, ${d}`).join('')})`,
    );
    await client.query(
      `COMMENT ON TABLE ${target} IS ${quoteLiteral('sfsync: platform events, one row each, keyed by replay id')}`,
    );
    return;
  }
  for (const c of columns)
    if (!have.has(c.column))
      await client.query(
        `ALTER TABLE ${target} ADD COLUMN IF NOT EXISTS ${quoteIdent(c.column)} ${COLUMN_TYPE[c.pgType]}`,
      );
}

/** Stores events (in the caller's transaction); one already stored is left as it is. Returns how many were new. */
export async function insertEvents(
  client: pg.ClientBase,
  schema: string,
  table: string,
  columns: readonly EventColumn[],
  events: readonly { replayId: Buffer; publishedAt: Date | null; values: readonly (string | null)[] }[],
): Promise<number> {
  const names = ['replay_id', 'published_at', ...columns.map((c) => c.column)].map(quoteIdent);
  const sql =
    `INSERT INTO ${qualified(schema, table)} (${names.join(', ')}) ` +
    `VALUES (${names.map((_, i) => `$${i + 1}`).join(', ')}) ON CONFLICT (replay_id) DO NOTHING`;
  let inserted = 0;
  for (const e of events) inserted += (await client.query(sql, [e.replayId, e.publishedAt, ...e.values])).rowCount ?? 0;
  return inserted;
}
