// Formula freshness: calculated fields change without a SystemModstamp bump, so incremental reads
// never see it. Re-read Id + those fields (a narrow Bulk job) and overwrite only their columns.
import type pg from 'pg';
import type { ObjectOptions } from '../../lib/config.ts';
import { oneLine } from '../../lib/errors.ts';
import type { ObjectSpec } from '../../schemas/records.ts';
import { ensureTable } from '../../loaders/ddl.ts';
import { updateColumns } from '../../loaders/merge.ts';
import { applyHistorySetting } from '../../loaders/history.ts';
import { withClient, withTransaction } from '../../loaders/postgres.ts';
import { STAGE_SCHEMA, createStage } from '../../loaders/stage.ts';
import { finishRun, startRun } from '../../loaders/state.ts';
import type { RunContext } from '../runtime/runContext.ts';
import { narrowSpec, openNarrowExtract } from './narrowExtract.ts';
import { lockObject } from '../runtime/objectLock.ts';
import { describeConfigured } from '../runtime/columnSelection.ts';
import { filteredSpec } from '../../extractors/soqlFilter.ts';
import { hashExistingColumns } from './hashExisting.ts';

export interface ColumnRefresh {
  fetched: number;
  updated: number;
  bulkJobIds: string[];
}

export function calculatedFields(spec: ObjectSpec): string[] {
  return spec.fields.filter((f) => f.calculated).map((f) => f.name);
}

/**
 * Overwrites `fieldNames` of every loaded row (deleted ones too: queryAll,
 * docs/salesforce.md#queryall-and-deleted-records) with Salesforce's current values. `alsoInTransaction` runs in the
 * same transaction (e.g. saving the describe these values belong to).
 */
export async function refreshColumns(
  ctx: RunContext,
  client: pg.ClientBase,
  spec: ObjectSpec,
  fieldNames: readonly string[],
  alsoInTransaction?: (client: pg.ClientBase, done: ColumnRefresh) => Promise<void>,
): Promise<ColumnRefresh> {
  const narrow = narrowSpec(spec, fieldNames);
  const extract = await openNarrowExtract(ctx, narrow, 'queryAll');
  try {
    return await withTransaction(client, async () => {
      const stage = await createStage(client, ctx.config.schema, spec.table);
      const fetched = await extract.copyInto(client, { schema: STAGE_SCHEMA, table: stage });
      const columns = narrow.fields.map((f) => f.column);
      const updated = await updateColumns(client, { schema: ctx.config.schema, table: spec.table, stage, columns });
      const done = { fetched, updated, bulkJobIds: extract.bulkJobIds };
      await alsoInTransaction?.(client, done);
      return done;
    });
  } finally {
    await extract.close();
  }
}

export interface FormulaSummary {
  object: string;
  status: 'succeeded' | 'failed' | 'skipped';
  fields: number;
  fetched: number;
  updated: number;
  error?: unknown;
}

/** `sync --formulas-only`: every configured object's calculated fields, one narrow job each; a run row per object. */
export async function refreshFormulasAll(ctx: RunContext): Promise<FormulaSummary[]> {
  const out: FormulaSummary[] = [];
  for (const obj of ctx.config.objects) out.push(await refreshFormulas(ctx, obj));
  return out;
}

export async function refreshFormulas(ctx: RunContext, obj: ObjectOptions): Promise<FormulaSummary> {
  const log = ctx.log.child({ object: obj.name });
  let runId: number | undefined;
  try {
    // Only the records the object's filter keeps: the others' rows are flagged, not current.
    const spec = filteredSpec(await describeConfigured(ctx, obj.name), obj.where);
    const fields = calculatedFields(spec);
    if (fields.length === 0) return { object: spec.name, status: 'skipped', fields: 0, fetched: 0, updated: 0 };
    return await withClient(ctx.pool, (client) =>
      lockObject(ctx, client, spec.name, async () => {
        await hashExistingColumns(ctx, client, spec);
        await ensureTable(client, ctx.config.schema, spec, { exactNumeric: ctx.config.exactNumeric });
        // On only: a formula refresh never turns history off (sync does).
        if (obj.history) await applyHistorySetting(client, ctx.config.schema, spec, true, log);
        runId = await startRun(client, { schema: ctx.config.schema, object: spec.name, mode: 'formulas' });
        const id = runId;
        const r = await refreshColumns(ctx, client, spec, fields);
        await finishRun(client, id, {
          status: 'succeeded',
          rowsFetched: r.fetched,
          rowsUpdated: r.updated,
          bulkJobIds: r.bulkJobIds,
        });
        log.info({ fields: fields.length, fetched: r.fetched, updated: r.updated }, 'formula fields refreshed');
        return {
          object: spec.name,
          status: 'succeeded',
          fields: fields.length,
          fetched: r.fetched,
          updated: r.updated,
        };
      }),
    );
  } catch (err) {
    log.error({ err: oneLine(err) }, 'formula refresh failed');
    if (runId !== undefined) {
      const id = runId;
      await withClient(ctx.pool, (c) => finishRun(c, id, { status: 'failed', error: oneLine(err) })).catch(() => {});
    }
    return { object: obj.name, status: 'failed', fields: 0, fetched: 0, updated: 0, error: err };
  }
}

/**
 * True when the object has a formula schedule (formulaRefreshHours) and its last successful refresh — or, before
 * any, its first successful load — is older than that.
 */
export async function formulasDue(ctx: RunContext, obj: ObjectOptions): Promise<boolean> {
  if (obj.formulaRefreshHours === null) return false;
  const { rows } = await ctx.pool.query<{ due: boolean }>(
    `SELECT coalesce(max(finished_at) FILTER (WHERE mode = 'formulas'), min(finished_at))
              < now() - make_interval(secs => $3) AS due
     FROM sfsync.runs WHERE target_schema = $1 AND lower(object) = lower($2) AND status = 'succeeded'`,
    [ctx.config.schema, obj.name, obj.formulaRefreshHours * 3600],
  );
  return rows[0]?.due === true;
}
