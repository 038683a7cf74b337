// syncObject: THE unit of work. describe -> plan -> extract -> COPY -> merge + watermark in one transaction.
import type pg from 'pg';
import type { Readable } from 'node:stream';
import type { ObjectOptions } from '../lib/config.ts';
import { DataError, SalesforceApiError, oneLine } from '../lib/errors.ts';
import { describeObject } from '../extractors/describe.ts';
import { buildCount, buildSelect } from '../extractors/soql.ts';
import { createQueryJob, deleteJob, waitForJob } from '../extractors/bulkQueryJob.ts';
import { bulkCsvStream } from '../extractors/bulkCsvStream.ts';
import { countRecords, restQueryRows } from '../extractors/restQuery.ts';
import type { ObjectSpec, Row } from '../extractors/types.ts';
import { copyCsv, copyRows } from '../loaders/copyCsv.ts';
import { ensureTable, tableIsEmpty } from '../loaders/ddl.ts';
import { maxCursor, mergeStage } from '../loaders/merge.ts';
import { withClient, withTransaction } from '../loaders/postgres.ts';
import { createStage } from '../loaders/stage.ts';
import { advanceWatermark, finishRun, getWatermark, startRun } from '../loaders/state.ts';
import type { RunContext } from './context.ts';
import { withObjectLock } from './lock.ts';
import { type Mode, type Plan, planObject } from './plan.ts';

export interface RunSummary {
  object: string;
  mode: Mode;
  via: 'bulk' | 'rest' | null;
  status: 'succeeded' | 'failed';
  rowsFetched: number;
  rowsInserted: number;
  rowsUpdated: number;
  ms: number;
  watermark: string | null;
  error?: unknown;
}

interface LoadResult {
  via: 'bulk' | 'rest';
  fetched: number;
  inserted: number;
  updated: number;
  bulkJobIds: string[];
  watermark: string | null;
}

/** Where extracted rows come from: a Bulk CSV byte stream (fast path) or REST rows. */
type Source = { kind: 'csv'; stream: Readable; expectedRows: () => number } | { kind: 'rows'; rows: AsyncIterable<Row> };

/** Job-creation errors that mean "Bulk API 2.0 cannot run this query" (salesforce-api.md §6.1, §6.7): REST can. */
const BULK_REFUSAL_CODES = new Set(['INVALIDENTITY', 'INVALIDJOB', 'FEATURENOTENABLED', 'FUNCTIONALITY_NOT_ENABLED', 'API_ERROR']);
const BULK_REFUSAL_TEXT = /not supported by the Bulk API|compound data not supported|does not support query|Implementation restriction|not supported in Bulk/i;

function bulkRefused(err: unknown): boolean {
  if (!(err instanceof SalesforceApiError) || err.status !== 400) return false;
  return BULK_REFUSAL_CODES.has(err.errorCode) || BULK_REFUSAL_TEXT.test(err.message);
}

export async function syncObject(ctx: RunContext, obj: ObjectOptions, flags: { fullRefresh: boolean }): Promise<RunSummary> {
  const started = Date.now();
  const log = ctx.log.child({ object: obj.name });
  let mode: Mode = 'initial';
  let via: RunSummary['via'] = null;
  let runId: number | undefined;
  try {
    const { spec } = await describeObject(ctx.sf, obj.name);
    return await withClient(ctx.pool, (client) => withObjectLock(client, ctx.config.schema, spec.name, async () => {
      await ensureTable(client, ctx.config.schema, spec);
      const key = { schema: ctx.config.schema, object: spec.name };
      const watermark = await getWatermark(client, key);
      const plan = planObject({ cursorField: spec.cursorField, watermark, fullRefresh: flags.fullRefresh || obj.fullRefresh, overlapMinutes: obj.overlapMinutes });
      mode = plan.mode;
      runId = await startRun(client, { ...key, mode });
      log.info({ mode, from: plan.from }, 'object sync started');
      const result = await load(ctx, client, spec, plan, runId);
      via = result.via;
      const ms = Date.now() - started;
      log.info({ mode, via, fetched: result.fetched, inserted: result.inserted, updated: result.updated, ms, watermark: result.watermark }, 'object synced');
      return { object: spec.name, mode, via, status: 'succeeded', rowsFetched: result.fetched, rowsInserted: result.inserted, rowsUpdated: result.updated, ms, watermark: result.watermark };
    }));
  } catch (err) {
    log.error({ err: oneLine(err) }, 'object sync failed');
    if (runId !== undefined) await recordFailure(ctx, runId, err);
    return { object: obj.name, mode, via, status: 'failed', rowsFetched: 0, rowsInserted: 0, rowsUpdated: 0, ms: Date.now() - started, watermark: null, error: err };
  }
}

async function recordFailure(ctx: RunContext, runId: number, err: unknown): Promise<void> {
  try {
    await withClient(ctx.pool, (client) => finishRun(client, runId, { status: 'failed', error: oneLine(err) }));
  } catch (e) {
    ctx.log.warn({ err: oneLine(e) }, 'could not record the failed run');
  }
}

async function load(ctx: RunContext, client: pg.PoolClient, spec: ObjectSpec, plan: Plan, runId: number): Promise<LoadResult> {
  if (plan.mode === 'incremental') {
    const window = { from: plan.from };
    // §4.4: size the delta first; a large one is cheaper as one Bulk job than as thousands of REST pages.
    const count = await countRecords(ctx.sf, buildCount(spec, { window }), { all: true });
    if (count <= ctx.config.bulkThreshold) return loadRest(ctx, client, spec, plan, runId);
  }
  try {
    return await loadBulk(ctx, client, spec, plan, runId);
  } catch (err) {
    if (!bulkRefused(err)) throw err;
    ctx.log.warn({ object: spec.name, err: oneLine(err) }, 'Bulk API refused the query; falling back to REST queryAll');
    return loadRest(ctx, client, spec, plan, runId);
  }
}

async function loadBulk(ctx: RunContext, client: pg.PoolClient, spec: ObjectSpec, plan: Plan, runId: number): Promise<LoadResult> {
  const soql = buildSelect(spec, { window: { from: plan.from } });
  const job = await createQueryJob(ctx.sf, { soql, operation: 'queryAll' });
  try {
    await waitForJob(ctx.sf, job.id, { signal: ctx.signal });
    const stream = bulkCsvStream(ctx.sf, job.id, { expectedHeader: spec.fields.map((f) => f.name), signal: ctx.signal });
    const result = await commit(ctx, client, spec, plan, runId, { kind: 'csv', stream, expectedRows: () => stream.records }, [job.id]);
    return { ...result, via: 'bulk' };
  } finally {
    // Results count against storage until deleted (§6.5); failure to delete must not fail the sync.
    await deleteJob(ctx.sf, job.id).catch(() => {});
  }
}

async function loadRest(ctx: RunContext, client: pg.PoolClient, spec: ObjectSpec, plan: Plan, runId: number): Promise<LoadResult> {
  const soql = buildSelect(spec, { window: { from: plan.from }, orderByCursor: true });
  const rows = restQueryRows(ctx.sf, soql, spec, { all: true });
  const result = await commit(ctx, client, spec, plan, runId, { kind: 'rows', rows }, []);
  return { ...result, via: 'rest' };
}

/** One transaction: rows in, merge, watermark, run row. A failure anywhere rolls all of it back. */
async function commit(ctx: RunContext, client: pg.PoolClient, spec: ObjectSpec, plan: Plan, runId: number, source: Source, bulkJobIds: string[]): Promise<Omit<LoadResult, 'via'>> {
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
    const watermark = cursorColumn ? await maxCursor(client, target.schema, target.table, cursorColumn) : null;
    if (watermark && spec.cursorField) await advanceWatermark(client, { schema, object: spec.name }, spec.cursorField, watermark);
    await finishRun(client, runId, { status: 'succeeded', rowsFetched: copied, rowsInserted: inserted, rowsUpdated: updated, bulkJobIds, windowFrom: plan.from ?? null });
    return { fetched: copied, inserted, updated, bulkJobIds, watermark };
  });
}
