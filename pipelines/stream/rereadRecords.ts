// Records a change event could not give whole (docs/salesforce.md#change-event-header: gap events; an UPDATE of a row
// the table lacks; a field sent as a diff) are read again by Id through REST queryAll and merged like a sync's rows,
// in the batch's transaction. An Id Salesforce no longer returns was deleted for good: its row is marked deleted.
import type pg from 'pg';
import { assertSoqlName } from '../../extractors/soql.ts';
import { restQueryFits } from '../../extractors/rest/query.ts';
import { markDeletedAsOf } from '../../loaders/merge.ts';
import { qualified } from '../../loaders/postgres.ts';
import { STAGE_SCHEMA } from '../../loaders/stage.ts';
import { DataError } from '../../lib/errors.ts';
import type { ObjectSpec } from '../../schemas/records.ts';
import type { RunContext } from '../runtime/runContext.ts';
import { stageAndMerge } from '../sync/commitLoad.ts';
import { openRestCsvReader } from '../sync/restLoad.ts';

/** Ids per query: 200 Ids of 18 characters keep the URI near 4 KB (docs/salesforce.md#uri-length). */
const IDS_PER_QUERY = 200;

const RECORD_ID = /^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$/;

export function rereadSoql(spec: ObjectSpec, ids: readonly string[]): string {
  const object = assertSoqlName(spec.name, 'Object');
  const fields = spec.fields.map((f) => assertSoqlName(f.name, `Field of ${object}`));
  for (const id of ids) if (!RECORD_ID.test(id)) throw new DataError(`${object}: '${id}' is not a record Id`);
  return `SELECT ${fields.join(', ')} FROM ${object} WHERE Id IN (${ids.map((id) => `'${id}'`).join(', ')})`;
}

/**
 * False when even a few Ids do not fit in a GET URI (a very wide object): the caller syncs the object instead.
 */
export function rereadFits(ctx: RunContext, spec: ObjectSpec): boolean {
  return restQueryFits(ctx.sf, rereadSoql(spec, Array(IDS_PER_QUERY).fill('001000000000000AAA')), true);
}

/** Reads `ids` again and merges them; returns how many rows it inserted or updated and how many it marked deleted. */
export async function rereadRecords(
  ctx: RunContext,
  client: pg.ClientBase,
  spec: ObjectSpec,
  ids: readonly string[],
  asOf: Date,
): Promise<{ merged: number; deleted: number }> {
  let merged = 0;
  let deleted = 0;
  const reader = openRestCsvReader(ctx.sf, spec.fields, ctx.config.hashKey);
  try {
    for (let i = 0; i < ids.length; i += IDS_PER_QUERY) {
      const chunk = ids.slice(i, i + IDS_PER_QUERY);
      const first = await reader.first(rereadSoql(spec, chunk));
      const r = await stageAndMerge(ctx, client, spec, { kind: 'pages', pages: reader.pages(first) });
      merged += r.inserted + r.updated;
      const { rows } = await client.query<{ id: string }>(`SELECT id FROM ${qualified(STAGE_SCHEMA, r.stage)}`);
      const found = new Set(rows.map((row) => row.id));
      const gone = chunk.filter((id) => !found.has(id)).map((id) => ({ id, deletedDate: asOf.toISOString() }));
      deleted += await markDeletedAsOf(
        client,
        { schema: ctx.config.schema, table: spec.table, cursorColumn: spec.cursorField?.toLowerCase() ?? null },
        gone,
      );
    }
  } finally {
    await reader.close();
  }
  return { merged, deleted };
}
