// commitLoad: one transaction per load (or per cursor window of a large one): rows in, merge, watermark, run row.
// A failure anywhere rolls all of it back, so the watermark only ever covers committed rows.
import type pg from 'pg';
import { Readable } from 'node:stream';
import { DataError } from '../../lib/errors.ts';
import { actionFor } from '../../lib/errorActions.ts';
import type { CursorWindow } from '../../extractors/soql.ts';
import type { ObjectSpec } from '../../schemas/records.ts';
import { copyCsv } from '../../loaders/copyCsv.ts';
import { tableIsEmpty } from '../../loaders/ddl.ts';
import { maxCursor, mergeStage } from '../../loaders/merge.ts';
import { qualified, withTransaction } from '../../loaders/postgres.ts';
import { STAGE_SCHEMA, createStage } from '../../loaders/stage.ts';
import { advanceWatermark, type RunOutcome, updateRun } from '../../loaders/state.ts';
import type { RunContext } from '../runtime/runContext.ts';
import { type DeleteCheck, applyDeleteCheck } from '../completeness/deletes.ts';
import { type Mode, cappedWatermark } from './plan.ts';
import type { CsvPage } from '../../transforms/restPage.ts';
import { hashCsvColumns } from '../../transforms/hashCsv.ts';

/** Where extracted rows come from: a Bulk CSV byte stream (fast path) or REST pages already encoded as CSV. */
export type Source =
  | { kind: 'csv'; stream: Readable; expectedRows: () => number; bytes?: () => number }
  | { kind: 'pages'; pages: AsyncIterable<CsvPage> };

export interface Totals {
  fetched: number;
  inserted: number;
  updated: number;
  deleted: number;
  /** Bulk CSV bytes downloaded (REST loads count none). */
  bytes: number;
  bulkJobIds: string[];
}

export const noTotals = (): Totals => ({ fetched: 0, inserted: 0, updated: 0, deleted: 0, bytes: 0, bulkJobIds: [] });

export interface CommitRequest {
  spec: ObjectSpec;
  mode: Mode;
  runId: number;
  /** The cursor window these rows were read from; `to` undefined = the open last window. */
  window: CursorWindow;
  /** The lower bound of the whole load, for the run row. */
  planFrom: string | undefined;
  /** Opens the rows; called again when a direct COPY must be redone through the stage. */
  open: () => Source;
  bulkJobIds: string[];
  /**
   * Server time when the load was planned (the Date header, docs/salesforce.md#rest-request-conventions): the watermark
   * never passes it minus the overlap (docs/salesforce.md#incremental-cursor-windows).
   */
  serverNow: Date;
  overlapMinutes: number;
  /**
   * The deletes (docs/salesforce.md#getdeleted) to apply in this commit, after the merge; null in the commits that do
   * not carry them. May still be on its way (getDeleted runs while a REST load reads): it is awaited at the commit.
   */
  deletes: DeleteCheck | null | Promise<DeleteCheck | null>;
  /** What earlier windows of this load committed; the run row shows the sum. */
  before: Totals;
}

export interface CommitResult extends Totals {
  watermark: string | null;
}

/**
 * Rows into a table or stage; a Bulk stream must deliver the record count Salesforce announced
 * (docs/salesforce.md#bulk-api-20-query-results).
 */
export async function copySource(
  ctx: RunContext,
  client: pg.ClientBase,
  spec: ObjectSpec,
  target: { schema: string; table: string },
  source: Source,
): Promise<{ copied: number; bytes: number }> {
  const columns = spec.fields.map((f) => f.column);
  if (source.kind === 'pages') {
    const pages = counted(source.pages);
    const copied = await copyCsv(client, {
      ...target,
      columns,
      source: Readable.from(pages.chunks),
      signal: ctx.signal,
    });
    checkCopied(spec, copied, pages.records());
    return { copied, bytes: 0 };
  }
  // An object that hashes columns has its Bulk CSV re-encoded with the hashes; any other keeps the bytes as sent.
  const stream = hashCsvColumns(source.stream, spec.fields, ctx.config.hashKey);
  const copied = await copyCsv(client, { ...target, columns, source: stream, signal: ctx.signal });
  if (copied !== source.expectedRows()) {
    throw new DataError(
      `${spec.name}: Bulk API announced ${source.expectedRows()} records but ${copied} arrived; nothing was loaded`,
    );
  }
  return { copied, bytes: source.bytes?.() ?? 0 };
}

/**
 * Rows into a TEMP stage, then one merge into the table that never lets an older cursor overwrite a newer row. The
 * caller's transaction holds both. Shared by sync windows and backfill windows.
 */
export async function stageAndMerge(
  ctx: RunContext,
  client: pg.ClientBase,
  spec: ObjectSpec,
  source: Source,
): Promise<{ stage: string; copied: number; bytes: number; inserted: number; updated: number }> {
  const schema = ctx.config.schema;
  const stage = await createStage(client, schema, spec.table);
  const { copied, bytes } = await copySource(ctx, client, spec, { schema: STAGE_SCHEMA, table: stage }, source);
  const columns = spec.fields.map((f) => f.column);
  const merged = await mergeStage(client, {
    schema,
    table: spec.table,
    stage,
    columns,
    cursorColumn: spec.cursorField?.toLowerCase() ?? null,
    ...filterMerge(spec),
  });
  return { stage, copied, bytes, ...merged };
}

/**
 * The merge's filter options. Only a sync's spec carries the parents' cursors (extractors/soqlFilter.ts
 * withFilterParents): its reads come after every flag set so far, unlike a backfill's job, created before it waited
 * for the object lock. A relationship pipeline's reads (spec.relationship) are only ever a sync's (pipelines have no
 * backfill): they come after every mark, so a row reconciliation marked comes back with its cursor unchanged.
 */
const filterMerge = (spec: ObjectSpec) => ({
  filterFlag: spec.where !== undefined,
  parentFilter: (spec.whereParentCursors?.length ?? 0) > 0,
  readAfterMarks: spec.relationship !== undefined,
});

/** The pages' CSV bytes, counting their records on the way. */
function counted(pages: AsyncIterable<CsvPage>): { chunks: AsyncGenerator<Buffer>; records: () => number } {
  let records = 0;
  const chunks = (async function* () {
    for await (const page of pages) {
      records += page.records;
      yield page.csv;
    }
  })();
  return { chunks, records: () => records };
}

/** A CSV line per REST record: COPY counting otherwise means the encoding broke a record apart. */
function checkCopied(spec: ObjectSpec, copied: number, records: number): void {
  if (copied !== records)
    throw new DataError(
      `${spec.name}: ${records} records from Salesforce became ${copied} rows in COPY; nothing was loaded`,
    );
}

/**
 * REST pages are staged and merged one page at a time, inside the load's transaction: the merge of a page runs
 * while the next page is on its way (restCsvPages fetches it and encodes it in a worker thread), instead of one
 * merge after the last page. The merge rules are the same, so a record seen on two pages ends as the newest of
 * them, as in one merge (it is counted on each page, though: fetched twice, inserted then updated).
 */
async function mergePages(
  ctx: RunContext,
  client: pg.ClientBase,
  spec: ObjectSpec,
  pages: AsyncIterable<CsvPage>,
): Promise<Loaded> {
  const schema = ctx.config.schema;
  const stage = await createStage(client, schema, spec.table);
  const columns = spec.fields.map((f) => f.column);
  const cursorColumn = spec.cursorField?.toLowerCase() ?? null;
  const out: Loaded = { copied: 0, bytes: 0, inserted: 0, updated: 0, loaded: null };
  // The debug line times each step of a page (waiting for it, COPY, merge): scripts/bench/incremental.ts reads them.
  let mark = performance.now();
  const lap = () => {
    const now = performance.now();
    const ms = Math.round(now - mark);
    mark = now;
    return ms;
  };
  for await (const page of pages) {
    const waitMs = lap();
    if (page.records === 0) continue;
    const copied = await copyCsv(client, {
      schema: STAGE_SCHEMA,
      table: stage,
      columns,
      source: Readable.from([page.csv]),
      signal: ctx.signal,
    });
    checkCopied(spec, copied, page.records);
    out.copied += copied;
    const copyMs = lap();
    const merged = await mergeStage(client, {
      schema,
      table: spec.table,
      stage,
      columns,
      cursorColumn,
      ...filterMerge(spec),
    });
    out.inserted += merged.inserted;
    out.updated += merged.updated;
    const loaded = cursorColumn ? await maxCursor(client, STAGE_SCHEMA, stage, cursorColumn) : null;
    if (loaded !== null && (out.loaded === null || loaded > out.loaded)) out.loaded = loaded;
    await client.query(`TRUNCATE ${qualified(STAGE_SCHEMA, stage)}`);
    ctx.log.debug(
      {
        object: spec.name,
        records: page.records,
        inserted: merged.inserted,
        updated: merged.updated,
        waitMs,
        copyMs,
        mergeMs: lap(),
      },
      'page merged',
    );
  }
  return out;
}

export async function commitLoad(ctx: RunContext, client: pg.ClientBase, req: CommitRequest): Promise<CommitResult> {
  const schema = ctx.config.schema;
  const { spec } = req;
  const cursorColumn = spec.cursorField?.toLowerCase() ?? null;
  return withTransaction(client, async () => {
    const viaStage = async (): Promise<Loaded> => {
      const source = req.open();
      if (source.kind === 'pages') return mergePages(ctx, client, spec, source.pages);
      const r = await stageAndMerge(ctx, client, spec, source);
      const loaded = cursorColumn ? await maxCursor(client, STAGE_SCHEMA, r.stage, cursorColumn) : null;
      return { ...r, loaded };
    };
    const direct = async (): Promise<Loaded> => {
      const r = await copySource(ctx, client, spec, { schema, table: spec.table }, req.open());
      const loaded = cursorColumn ? await maxCursor(client, schema, spec.table, cursorColumn) : null;
      return { ...r, inserted: r.copied, updated: 0, loaded };
    };
    const r = await loadRows(client, req.mode, schema, spec.table, direct, viaStage);
    const key = { schema, object: spec.stateKey ?? spec.name };
    // A bounded window covers every record before its end; the open last one, the highest cursor it loaded.
    // A relationship pipeline's open window read every change, its parents' too, up to serverNow: its rows' highest
    // cursor says nothing of their parents' (docs/salesforce.md#relationship-pipelines).
    const openReach = spec.relationship ? req.serverNow.toISOString() : r.loaded;
    const reached = req.window.to !== undefined ? req.window.to : openReach;
    const watermark = cappedWatermark(reached, req.serverNow, req.overlapMinutes);
    if (watermark && spec.cursorField) await advanceWatermark(client, key, spec.cursorField, watermark);
    // After the merge: a deletion newer than the row just loaded wins, an undelete loaded this run is kept.
    const deleted = await applyDeleteCheck(client, key, spec, await req.deletes);
    const totals: Totals = {
      fetched: req.before.fetched + r.copied,
      inserted: req.before.inserted + r.inserted,
      updated: req.before.updated + r.updated,
      deleted: req.before.deleted + deleted,
      bytes: req.before.bytes + r.bytes,
      bulkJobIds: [...req.before.bulkJobIds, ...req.bulkJobIds],
    };
    const outcome: Omit<RunOutcome, 'status'> = {
      apiCalls: ctx.sf.calls,
      rowsFetched: totals.fetched,
      rowsInserted: totals.inserted,
      rowsUpdated: totals.updated,
      rowsDeleted: totals.deleted,
      bytes: totals.bytes || undefined,
      bulkJobIds: totals.bulkJobIds,
      windowFrom: req.planFrom ?? null,
    };
    // The run stays 'running' with the counts committed so far, so an interrupted run still shows them; syncObject
    // marks it succeeded once the whole object is done (drift back-fill and reconciliation come after the load).
    await updateRun(client, req.runId, outcome);
    return { ...totals, watermark };
  });
}

type Loaded = { copied: number; bytes: number; inserted: number; updated: number; loaded: string | null };

/**
 * An initial load COPYs straight into the table (the fast path). Its later windows do too, under a savepoint: a record
 * changed while the load ran can come back in a later window, and that duplicate key sends the window through the stage
 * and merge instead (re-reading it: Bulk results can be fetched again, docs/salesforce.md#bulk-api-20-query-results).
 */
async function loadRows(
  client: pg.ClientBase,
  mode: Mode,
  schema: string,
  table: string,
  direct: () => Promise<Loaded>,
  viaStage: () => Promise<Loaded>,
): Promise<Loaded> {
  if (mode !== 'initial') return viaStage();
  if (await tableIsEmpty(client, schema, table)) return direct();
  await client.query('SAVEPOINT sfsync_direct');
  try {
    const r = await direct();
    await client.query('RELEASE SAVEPOINT sfsync_direct');
    return r;
  } catch (err) {
    // 23505 unique_violation (wrapped by copyCsv as a DataError): lib/errorActions.ts says merge instead.
    if (actionFor(err, 'directCopy') !== 'merge-instead') throw err;
    await client.query('ROLLBACK TO SAVEPOINT sfsync_direct');
    return viaStage();
  }
}
