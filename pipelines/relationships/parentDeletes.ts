// The rows a deleted parent leaves behind (docs/salesforce.md#relationship-pipelines). A lookup Salesforce clears when
// its parent is deleted may leave the child's own cursor as it was, and a deleted parent's SystemModstamp is no longer
// there to match: getDeleted of each parent object names the parents, the stored lookup columns name their rows, and
// the delta reads those rows again by Id.
import type pg from 'pg';
import type { Logger } from '../../lib/log.ts';
import { qualified, quoteIdent } from '../../loaders/postgres.ts';
import { checkDeleted } from '../completeness/deletes.ts';
import type { RunContext } from '../runtime/runContext.ts';
import type { PipelineRead } from './compilePipeline.ts';

export interface ParentDeletes {
  /** Ids of rows whose parent was deleted. */
  ids: string[];
  /** getDeleted could not cover the time since the last check for some parent: deletes may be missed. */
  lost: boolean;
}

export async function rowsOfDeletedParents(
  ctx: RunContext,
  client: pg.ClientBase,
  log: Logger,
  read: PipelineRead,
  since: string | null,
): Promise<ParentDeletes> {
  const columnsOf = new Map<string, { object: PipelineRead['parents'][number]['object']; columns: string[] }>();
  for (const p of read.parents) {
    const entry = columnsOf.get(p.object.name) ?? { object: p.object, columns: [] };
    if (!entry.columns.includes(p.column)) entry.columns.push(p.column);
    columnsOf.set(p.object.name, entry);
  }
  let lost = false;
  const terms: string[] = [];
  const values: string[][] = [];
  for (const { object, columns } of columnsOf.values()) {
    const check = await checkDeleted(ctx.sf, log, object, since, read.overlapMinutes);
    if (!check) continue;
    lost ||= check.lost;
    if (check.entries.length === 0) continue;
    values.push(check.entries.map((e) => e.id));
    for (const c of columns) terms.push(`${quoteIdent(c)} = ANY($${values.length}::text[])`);
  }
  if (terms.length === 0) return { ids: [], lost };
  const { rows } = await client.query<{ id: string }>(
    `SELECT id FROM ${qualified(ctx.config.schema, read.spec.table)} WHERE ${terms.join(' OR ')} ORDER BY id`,
    values,
  );
  return { ids: rows.map((r) => r.id), lost };
}
