// syncObject: THE unit of work. describe -> plan -> extract -> COPY -> merge + watermark in one transaction.
import type pg from 'pg';
import type { Readable } from 'node:stream';
import type { ObjectOptions } from '../lib/config.ts';
import { DataError, oneLine } from '../lib/errors.ts';
import { describeObject } from '../extractors/describe.ts';
import { buildCount, buildSelect } from '../extractors/soql.ts';
import { createQueryJob, deleteJob, waitForJob } from '../extractors/bulkQueryJob.ts';
import { bulkCsvStream } from '../extractors/bulkCsvStream.ts';
import { countRecords, restQueryRows } from '../extractors/restQuery.ts';
import type { ObjectSpec, Row } from '../extractors/types.ts';
import { copyCsv, copyRows } from '../loaders/copyCsv.ts';
import { ensureTable, tableIsEmpty } from '../loaders/ddl.ts';
import { maxCursor, mergeStage } from '../loaders/merge.ts';
import { type ObjectState, getObjectState, recordSchemaEvents, saveFieldSnapshot } from '../loaders/objectState.ts';
import { withClient, withTransaction } from '../loaders/postgres.ts';
import { createStage } from '../loaders/stage.ts';
import { advanceWatermark, recordApiCalls, finishRun, getWatermark, startRun } from '../loaders/state.ts';
import type { RunContext } from './context.ts';
import { bulkRefused } from './bulkRefusal.ts';
import { type DeleteCheck, applyDeleteCheck, checkDeleted, loadedAsOf } from './deletes.ts';
import { type SchemaDiff, applyTypeChanges, diffSchema, driftEvents, snapshotOf } from './drift.ts';
import { refreshColumns } from './formulas.ts';
import { ensureLiveView } from '../loaders/views.ts';
import { withObjectLock } from './lock.ts';
import { type Mode, type Plan, cappedWatermark, planObject } from './plan.ts';
import { reconcileObject } from './reconcileIds.ts';

export interface RunSummary {
  object: string;
  mode: Mode;
  via: 'bulk' | 'rest' | null;
  status: 'succeeded' | 'failed';
  rowsFetched: number;
  rowsInserted: number;
  rowsUpdated: number;
  /** Rows marked deleted from getDeleted (§5); absent on failure. */
  rowsDeleted?: number;
  ms: number;
  watermark: string | null;
  error?: unknown;
}

interface LoadResult {
  via: 'bulk' | 'rest';
  fetched: number;
  inserted: number;
  updated: number;
  deleted: number;
  bulkJobIds: string[];
  watermark: string | null;
}

/** Where extracted rows come from: a Bulk CSV byte stream (fast path) or REST rows. */
type Source = { kind: 'csv'; stream: Readable; expectedRows: () => number } | { kind: 'rows'; rows: AsyncIterable<Row> };

/** What a commit needs besides the rows: the watermark cap (§4.7) and the deletes to apply (§5). */
interface CommitExtras {
  serverNow: Date;
  overlapMinutes: number;
  deletes: DeleteCheck | null;
}

export async function syncObject(ctx: RunContext, obj: ObjectOptions, flags: { fullRefresh: boolean }): Promise<RunSummary> {
  const started = Date.now();
  const log = ctx.log.child({ object: obj.name });
  let mode: Mode = 'initial';
  let via: RunSummary['via'] = null;
  let runId: number | undefined;
  try {
    const { spec } = await describeObject(ctx.sf, obj.name);
    // §2.1: the describe response's Date header; records stamped after this may still be committing.
    const serverNow = ctx.sf.serverNow();
    return await withClient(ctx.pool, (client) => withObjectLock(client, ctx.config.schema, spec.name, async () => {
      await ensureTable(client, ctx.config.schema, spec);
      const key = { schema: ctx.config.schema, object: spec.name };
      const state = await getObjectState(client, key);
      const diff = diffSchema(state.fields, spec);
      const typeActions = await applyTypeChanges(client, ctx.config.schema, spec);
      await ensureLiveView(client, ctx.config.schema, spec.table);
      const watermark = await getWatermark(client, key);
      const plan = planObject({ cursorField: spec.cursorField, watermark, fullRefresh: flags.fullRefresh || obj.fullRefresh, overlapMinutes: obj.overlapMinutes });
      mode = plan.mode;
      runId = await startRun(client, { ...key, mode });
      log.info({ mode, from: plan.from }, 'object sync started');
      const deletes = plan.mode === 'incremental'
        ? await checkDeleted(ctx.sf, log, spec, state.lastDeletedCheck ?? watermark?.value ?? null, obj.overlapMinutes)
        : loadedAsOf(serverNow);
      const result = await load(ctx, client, spec, plan, runId, { serverNow, overlapMinutes: obj.overlapMinutes, deletes });
      via = result.via;
      await settleSchema(ctx, client, spec, plan, state, diff, typeActions);
      if (state.needsReconcile || deletes?.lost) await reconcileObject(ctx, client, spec);
      await recordApiCalls(client, runId, ctx.sf.calls);
      const ms = Date.now() - started;
      log.info({ mode, via, fetched: result.fetched, inserted: result.inserted, updated: result.updated, deleted: result.deleted, ms, watermark: result.watermark }, 'object synced');
      return { object: spec.name, mode, via, status: 'succeeded', rowsFetched: result.fetched, rowsInserted: result.inserted, rowsUpdated: result.updated, rowsDeleted: result.deleted, ms, watermark: result.watermark };
    }));
  } catch (err) {
    log.error({ err: oneLine(err) }, 'object sync failed');
    // An abort surfaces as the transport's "canceled"; the signal's reason says why (SIGTERM, budget, ...).
    if (runId !== undefined) await recordFailure(ctx, runId, ctx.signal.aborted ? ctx.signal.reason : err);
    return { object: obj.name, mode, via, status: 'failed', rowsFetched: 0, rowsInserted: 0, rowsUpdated: 0, ms: Date.now() - started, watermark: null, error: err };
  }
}

async function recordFailure(ctx: RunContext, runId: number, err: unknown): Promise<void> {
  try {
    await withClient(ctx.pool, (client) => finishRun(client, runId, { status: 'failed', error: oneLine(err), apiCalls: ctx.sf.calls }));
  } catch (e) {
    ctx.log.warn({ err: oneLine(e) }, 'could not record the failed run');
  }
}

async function load(ctx: RunContext, client: pg.PoolClient, spec: ObjectSpec, plan: Plan, runId: number, extras: CommitExtras): Promise<LoadResult> {
  if (plan.mode === 'incremental') {
    const window = { from: plan.from };
    // §4.4: size the delta first; a large one is cheaper as one Bulk job than as thousands of REST pages.
    const count = await countRecords(ctx.sf, buildCount(spec, { window }), { all: true });
    if (count <= ctx.config.bulkThreshold) return loadRest(ctx, client, spec, plan, runId, extras);
  }
  try {
    return await loadBulk(ctx, client, spec, plan, runId, extras);
  } catch (err) {
    if (!bulkRefused(err)) throw err;
    ctx.log.warn({ object: spec.name, err: oneLine(err) }, 'Bulk API refused the query; falling back to REST queryAll');
    return loadRest(ctx, client, spec, plan, runId, extras);
  }
}

async function loadBulk(ctx: RunContext, client: pg.PoolClient, spec: ObjectSpec, plan: Plan, runId: number, extras: CommitExtras): Promise<LoadResult> {
  const soql = buildSelect(spec, { window: { from: plan.from } });
  const job = await createQueryJob(ctx.sf, { soql, operation: 'queryAll' });
  try {
    await waitForJob(ctx.sf, job.id, { signal: ctx.signal });
    const stream = bulkCsvStream(ctx.sf, job.id, { expectedHeader: spec.fields.map((f) => f.name), signal: ctx.signal });
    const result = await commit(ctx, client, spec, plan, runId, { kind: 'csv', stream, expectedRows: () => stream.records }, [job.id], extras);
    return { ...result, via: 'bulk' };
  } finally {
    // Results count against storage until deleted (§6.5); failure to delete must not fail the sync.
    await deleteJob(ctx.sf, job.id).catch(() => {});
  }
}

async function loadRest(ctx: RunContext, client: pg.PoolClient, spec: ObjectSpec, plan: Plan, runId: number, extras: CommitExtras): Promise<LoadResult> {
  const soql = buildSelect(spec, { window: { from: plan.from }, orderByCursor: true });
  const rows = restQueryRows(ctx.sf, soql, spec, { all: true });
  const result = await commit(ctx, client, spec, plan, runId, { kind: 'rows', rows }, [], extras);
  return { ...result, via: 'rest' };
}

/** One transaction: rows in, merge, watermark, run row. A failure anywhere rolls all of it back. */
async function commit(ctx: RunContext, client: pg.PoolClient, spec: ObjectSpec, plan: Plan, runId: number, source: Source, bulkJobIds: string[], extras: CommitExtras): Promise<Omit<LoadResult, 'via'>> {
  const schema = ctx.config.schema;
  const columns = spec.fields.map((f) => f.column);
  const cursorColumn = spec.cursorField?.toLowerCase() ?? null;
  return withTransaction(client, async () => {
    const direct = plan.mode === 'initial' && (await tableIsEmpty(client, schema, spec.table));
    const target = direct ? { schema, table: spec.table } : { schema: 'pg_temp', table: await createStage(client, schema, spec.table) };
    const copied =
      source.kind === 'csv'
        ? await copyCsv(client, { ...target, columns, source: source.stream, signal: ctx.signal })
        : await copyRows(client, { ...target, columns, rows: source.rows, signal: ctx.signal });
    if (source.kind === 'csv' && copied !== source.expectedRows()) {
      throw new DataError(`${spec.name}: Bulk API announced ${source.expectedRows()} records but ${copied} arrived; nothing was loaded`);
    }
    let inserted = copied;
    let updated = 0;
    if (!direct) ({ inserted, updated } = await mergeStage(client, { schema, table: spec.table, stage: target.table, columns, cursorColumn }));
    const key = { schema, object: spec.name };
    const loaded = cursorColumn ? await maxCursor(client, target.schema, target.table, cursorColumn) : null;
    const watermark = cappedWatermark(loaded, extras.serverNow, extras.overlapMinutes);
    if (watermark && spec.cursorField) await advanceWatermark(client, key, spec.cursorField, watermark);
    // After the merge: a deletion newer than the row just loaded wins, an undelete loaded this run is kept.
    const deleted = await applyDeleteCheck(client, key, spec, extras.deletes);
    await finishRun(client, runId, { status: 'succeeded', apiCalls: ctx.sf.calls, rowsFetched: copied, rowsInserted: inserted, rowsUpdated: updated, rowsDeleted: deleted, bulkJobIds, windowFrom: plan.from ?? null });
    return { fetched: copied, inserted, updated, deleted, bulkJobIds, watermark };
  });
}

/**
 * Drift after the load (issue 4 items 4-5): on incremental runs, columns that are new, changed type or hold a
 * changed formula get Salesforce's current values for every loaded row; then the describe seen and the drift
 * events are saved in the same transaction, so a failed back-fill is retried by the next run.
 */
async function settleSchema(ctx: RunContext, client: pg.PoolClient, spec: ObjectSpec, plan: Plan, state: ObjectState, diff: SchemaDiff, typeActions: Map<string, string>): Promise<void> {
  const key = { schema: ctx.config.schema, object: spec.name };
  const snapshot = snapshotOf(spec);
  const stale = plan.mode === 'incremental' ? [...diff.added, ...diff.typeChanged.map((t) => t.field), ...diff.formulaChanged].map((f) => f.name) : [];
  const save = async (c: pg.ClientBase, backfilled: number | null) => {
    const events = driftEvents(diff, typeActions, backfilled);
    for (const e of events) ctx.log.info({ object: spec.name, ...e }, 'schema drift');
    await recordSchemaEvents(c, key, events);
    await saveFieldSnapshot(c, key, snapshot);
  };
  if (stale.length > 0) {
    const r = await refreshColumns(ctx, client, spec, stale, (c, done) => save(c, done.updated));
    ctx.log.info({ object: spec.name, fields: stale, fetched: r.fetched, updated: r.updated }, 'columns refreshed for drifted fields');
    return;
  }
  if (state.fields === null || driftEvents(diff, typeActions, null).length > 0) await withTransaction(client, () => save(client, null));
}
