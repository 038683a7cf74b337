// A column the config has started to hash (columns.hash) may still hold the values loaded before: they are hashed where
// they lie, before anything else is written to the table. Every row is covered, those of records Salesforce no longer
// returns (hard-deleted, purged) too, which a re-read from Salesforce would miss, and no API call is spent. The column
// comment that says the column holds hashes (loaders/ddl.ts HASHED_COMMENT) is written in the same transaction, so a
// run that fails later never hashes a value twice.
import type pg from 'pg';
import { columnComment, columnTypes, currentComments, isHashedComment } from '../../loaders/ddl.ts';
import { recordSchemaEvents } from '../../loaders/objectState.ts';
import { qualified, quoteIdent, quoteLiteral, withTransaction } from '../../loaders/postgres.ts';
import { historyTableName } from '../../loaders/history.ts';
import { alterColumnToText, rewriteColumns, rewriteDistinctValues } from '../../loaders/rewriteColumns.ts';
import { dropLiveView, ensureLiveView } from '../../loaders/views.ts';
import type { ObjectSpec } from '../../schemas/records.ts';
import { hashValue, requireHashKey } from '../../transforms/hashValue.ts';
import type { RunContext } from '../runtime/runContext.ts';

/**
 * Call it inside the object lock, before ensureTable (which would mark the column hashed without hashing it) and
 * before any load. Returns the names of the fields whose columns it hashed.
 */
export async function hashExistingColumns(
  ctx: Pick<RunContext, 'config' | 'log'>,
  client: pg.ClientBase,
  spec: ObjectSpec,
): Promise<string[]> {
  const hashed = spec.fields.filter((f) => f.hashed);
  if (hashed.length === 0) return [];
  const schema = ctx.config.schema;
  const types = await columnTypes(client, schema, spec.table);
  if (types.size === 0) return [];
  const comments = await currentComments(client, schema, spec.table);
  const todo = hashed.filter((f) => types.has(f.column) && !isHashedComment(comments.get(f.column)));
  if (todo.length === 0) return [];
  const key = requireHashKey(ctx.config.hashKey);
  const table = qualified(schema, spec.table);
  const rows = await withTransaction(client, async () => {
    // A hashed value is hex text; a view over the column blocks the type change, so it is made again after.
    const retype = todo.filter((f) => types.get(f.column) !== 'text');
    if (retype.length > 0) await dropLiveView(client, schema, spec.table);
    for (const f of retype) await alterColumnToText(client, schema, spec.table, f.column, types.get(f.column)!);
    const columns = todo.map((f) => f.column);
    // History first (loaders/history.ts): every older version is hashed too, and the current table's rewrite then
    // matches its current version, so hashing adds no version and no raw value stays behind in history.
    await hashHistory(client, schema, spec.table, columns, (v) => hashValue(key, v));
    const n = await rewriteColumns(client, { schema, table: spec.table, columns }, (v) => hashValue(key, v));
    for (const f of todo)
      await client.query(`COMMENT ON COLUMN ${table}.${quoteIdent(f.column)} IS ${quoteLiteral(columnComment(f))}`);
    if (retype.length > 0) await ensureLiveView(client, schema, spec.table);
    const action = `values already loaded hashed in place (${n} rows)`;
    await recordSchemaEvents(
      client,
      { schema, object: spec.stateKey ?? spec.name },
      todo.map((f) => ({ field: f.name, kind: 'hashed' as const, oldType: null, newType: null, action })),
    );
    return n;
  });
  const fields = todo.map((f) => f.name);
  ctx.log.info({ object: spec.name, fields, rows }, 'schema drift: newly hashed columns hashed in place');
  return fields;
}

async function hashHistory(
  client: pg.ClientBase,
  schema: string,
  table: string,
  columns: readonly string[],
  hash: (text: string) => string,
): Promise<void> {
  const history = historyTableName(table);
  const types = await columnTypes(client, schema, history);
  const present = columns.filter((c) => types.has(c));
  if (present.length === 0) return;
  for (const c of present)
    if (types.get(c) !== 'text') await alterColumnToText(client, schema, history, c, types.get(c)!);
  await rewriteDistinctValues(client, { schema, table: history, columns: present }, hash);
}
