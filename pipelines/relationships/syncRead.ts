// One read of a relationship pipeline (compilePipeline.ts) through the sync machinery: lock, plan, Bulk API 2.0 cursor
// windows for a full read, REST for a delta (one Bulk job past the Bulk threshold), commitLoad for rows, deletes and
// watermark in one transaction. State (lock, watermark, runs, delete checks) is the read's own (spec.stateKey).
import type pg from 'pg';
import { oneLine } from '../../lib/errors.ts';
import { actionFor } from '../../lib/errorActions.ts';
import { abortJob, createQueryJob, deleteJob, waitForJob } from '../../extractors/bulk/queryJob.ts';
import { bulkCsvStream } from '../../extractors/bulk/csvStream.ts';
import { restQueryFits } from '../../extractors/rest/query.ts';
import { buildSelect } from '../../extractors/soql.ts';
import type { ObjectSpec } from '../../schemas/records.ts';
import { ensureTable, tableIsEmpty } from '../../loaders/ddl.ts';
import { getObjectState } from '../../loaders/objectState.ts';
import { withClient, withTransaction } from '../../loaders/postgres.ts';
import { closeAbandonedRuns, finishRun, getWatermark, startRun } from '../../loaders/state.ts';
import { ensureLiveView } from '../../loaders/views.ts';
import type { ApiBudget } from '../runtime/apiBudget.ts';
import type { ProgressReporter } from '../runtime/progress.ts';
import type { RunContext } from '../runtime/runContext.ts';
import { whileIdle } from '../runtime/workSlots.ts';
import { type DeleteCheck, checkDeleted, loadedAsOf } from '../completeness/deletes.ts';
import { reconcileDue, reconcileObject } from '../completeness/reconcileObject.ts';
import { applyTypeChanges } from '../completeness/drift.ts';
import { hashExistingColumns } from '../completeness/hashExisting.ts';
import { countOrUnknown, loadBulkWindows } from '../sync/bulkLoad.ts';
import { type CommitRequest, type CommitResult, commitLoad, noTotals, type Source } from '../sync/commitLoad.ts';
import { filterChanged } from '../sync/filterCheck.ts';
import { type Plan, planObject } from '../sync/plan.ts';
import { loadRest, openRestCsvReader, restSoql } from '../sync/restLoad.ts';
import { lockObject } from '../runtime/objectLock.ts';
import { type RunSummary, assertOwnTable, recordFailure } from '../sync/syncObject.ts';
import type { PipelineRead } from './compilePipeline.ts';
import { rowsOfDeletedParents } from './parentDeletes.ts';
import { keepingHashedComments, readConditions, settleFullRead, unhashedFields } from './readState.ts';

/**
 * Rows of deleted parents read again by Id within the delta's SOQL; past this many the read is done in full instead
 * (the Ids would make the query longer than Bulk API 2.0 takes, docs/salesforce.md#soql-limits-and-errors).
 */
export const MAX_REREAD_IDS = 2_000;

type Extras = Pick<CommitRequest, 'serverNow' | 'overlapMinutes' | 'deletes'>;
type Loaded = CommitResult & { via: 'bulk' | 'rest' };

export async function syncRead(
  runCtx: RunContext,
  read: PipelineRead,
  flags: { fullRefresh: boolean; budget?: ApiBudget },
): Promise<RunSummary> {
  const started = Date.now();
  const key = read.spec.stateKey ?? read.spec.name;
  const ctx = { ...runCtx, progress: runCtx.progress && renamed(runCtx.progress, read.spec.name, key) };
  const log = ctx.log.child({ pipeline: read.pipeline, table: read.spec.table });
  let mode: RunSummary['mode'] = 'initial';
  let via: RunSummary['via'] = null;
  let runId: number | undefined;
  try {
    return await withClient(ctx.pool, (client) =>
      lockObject(ctx, client, key, async () => {
        const stateKey = { schema: ctx.config.schema, object: key };
        // docs/salesforce.md#rest-request-conventions: the server's clock before any read; the watermark never
        // passes it (minus the overlap), since the reads see every change, the parents' too, up to it.
        const serverNow = ctx.sf.serverNow();
        const state = await getObjectState(client, stateKey);
        const watermark = await getWatermark(client, stateKey);
        let plan = planObject({
          cursorField: read.spec.cursorField,
          watermark,
          fullRefresh: flags.fullRefresh,
          overlapMinutes: read.overlapMinutes,
        });
        const types = { exactNumeric: ctx.config.exactNumeric };
        await assertOwnTable(client, ctx.config.schema, read.spec.table, key);
        // Before anything is written: values loaded before the config hashed their column.
        await hashExistingColumns(ctx, client, read.spec);
        const unhashed = await unhashedFields(client, ctx.config.schema, read.spec);
        const { created, addedColumns } = await ensureTable(
          client,
          ctx.config.schema,
          keepingHashedComments(read.spec, unhashed),
          types,
        );
        // A field Salesforce widened widens its column (a parent's field as well as the object's own).
        await applyTypeChanges(client, ctx.config.schema, read.spec, types, (column, why) =>
          log.warn({ column, why }, 'column not widened: drop what depends on it'),
        );
        await ensureLiveView(client, ctx.config.schema, read.spec.table);
        // A column the SOQL gained has no values in the rows loaded before, a column no longer hashed holds hashes,
        // and rows read under other conditions may match no longer (or rows that match now were never read): read
        // them all again. Rows the full read leaves out are then marked deleted (Id reconciliation, below).
        const conditions = readConditions(read.spec);
        const conditionsChanged = filterChanged(state, { where: conditions ?? undefined });
        if (plan.mode === 'incremental') {
          const why = [
            addedColumns.length > 0 ? { columns: addedColumns, msg: 'the pipeline selects new fields' } : null,
            unhashed.length > 0 ? { fields: unhashed.map((f) => f.name), msg: 'the pipeline no longer hashes' } : null,
            conditionsChanged ? { conditions, was: state.filter, msg: 'the conditions of the read changed' } : null,
          ].filter((w) => w !== null);
          for (const { msg, ...fields } of why) log.info(fields, `${msg}; reading it in full`);
          if (why.length > 0) plan = { mode: 'full-refresh' };
        }
        const since = state.lastDeletedCheck ?? watermark?.value ?? null;
        let spec: ObjectSpec = read.spec;
        if (plan.mode === 'incremental') {
          const orphans = await rowsOfDeletedParents(ctx, client, log, read, since);
          if (orphans.lost || orphans.ids.length > MAX_REREAD_IDS) {
            log.warn(
              { rows: orphans.ids.length, lost: orphans.lost },
              'rows of deleted parents cannot be read by Id; reading the pipeline in full',
            );
            plan = { mode: 'full-refresh' };
          } else if (orphans.ids.length > 0) {
            spec = { ...spec, relationship: { ...spec.relationship!, changedIds: orphans.ids } };
          }
        }
        const deletes: Promise<DeleteCheck | null> =
          plan.mode === 'incremental'
            ? checkDeleted(ctx.sf, log, spec, since, read.overlapMinutes)
            : Promise.resolve(
                loadedAsOf(serverNow, !created && !(await tableIsEmpty(client, ctx.config.schema, spec.table))),
              );
        deletes.catch(() => {});
        mode = plan.mode;
        await closeAbandonedRuns(client, stateKey);
        runId = await startRun(client, { ...stateKey, mode });
        log.info({ mode, from: plan.from }, 'pipeline read started');
        const extras: Extras = { serverNow, overlapMinutes: read.overlapMinutes, deletes };
        const result =
          plan.mode === 'incremental'
            ? await loadDelta(ctx, client, spec, plan, runId, extras)
            : await loadFull(ctx, client, spec, plan, runId, extras, flags.budget);
        via = result.via;
        if (plan.mode !== 'incremental' && (conditionsChanged || unhashed.length > 0)) {
          const changes = { conditions, conditionsChanged, unhashed };
          await withTransaction(client, () => settleFullRead(client, stateKey, spec, log, changes));
        }
        // A full read into rows, deletes getDeleted could not give, or due on the default schedule of an object
        // getDeleted refuses: the rows Salesforce no longer has (or that no longer match the pipeline's conditions)
        // are found by their Ids (docs/salesforce.md#hard-delete-detection).
        if (
          state.needsReconcile ||
          (await deletes)?.lost ||
          (await reconcileDue(client, ctx.config.schema, { reconcileHours: null }, spec))
        )
          await reconcileObject(ctx, client, spec);
        await finishRun(client, runId, { status: 'succeeded', apiCalls: ctx.sf.calls });
        const ms = Date.now() - started;
        ctx.progress?.finish(spec.name);
        log.info({ mode, via, fetched: result.fetched, ms, watermark: result.watermark }, 'pipeline read done');
        return {
          object: key,
          mode,
          via,
          status: 'succeeded',
          rowsFetched: result.fetched,
          rowsInserted: result.inserted,
          rowsUpdated: result.updated,
          rowsDeleted: result.deleted,
          ms,
          watermark: result.watermark,
        };
      }),
    );
  } catch (err) {
    ctx.progress?.finish(read.spec.name);
    log.error({ err: oneLine(err) }, 'pipeline read failed');
    if (runId !== undefined) await recordFailure(ctx, runId, ctx.signal.aborted ? ctx.signal.reason : err);
    return {
      object: key,
      mode,
      via,
      status: 'failed',
      rowsFetched: 0,
      rowsInserted: 0,
      rowsUpdated: 0,
      ms: Date.now() - started,
      watermark: null,
      error: err,
    };
  }
}

/** The shared loaders report progress under the object's name; the live display shows the pipeline's instead. */
function renamed(progress: ProgressReporter, object: string, label: string): ProgressReporter {
  const as = (name: string) => (name === object ? label : name);
  return {
    update: (name, patch) => progress.update(as(name), patch),
    finish: (name) => progress.finish(as(name)),
    flush: () => progress.flush(),
    stop: () => progress.stop(),
  };
}

/** Bulk API refused the query (lib/errorActions.ts 'rest-fallback'): the same read through REST queryAll. */
async function restInstead(
  ctx: RunContext,
  client: pg.PoolClient,
  spec: ObjectSpec,
  plan: Plan,
  runId: number,
  extras: Extras,
  err: unknown,
): Promise<Loaded> {
  if (actionFor(err) !== 'rest-fallback') throw err;
  ctx.log.warn({ object: spec.name, err: oneLine(err) }, 'Bulk API refused the query; falling back to REST queryAll');
  const reader = openRestCsvReader(ctx.sf, spec.fields, ctx.config.hashKey);
  try {
    return await loadRest(ctx, client, spec, plan, runId, extras, reader);
  } finally {
    await reader.close();
  }
}

/** A first load or a full refresh: Bulk API 2.0 in cursor windows (pipelines/sync/bulkLoad.ts), else REST. */
async function loadFull(
  ctx: RunContext,
  client: pg.PoolClient,
  spec: ObjectSpec,
  plan: Plan,
  runId: number,
  extras: Extras,
  budget: ApiBudget | undefined,
): Promise<Loaded> {
  const total = await countOrUnknown(ctx, spec, {});
  try {
    const request = { spec, plan, runId, total, ...extras, deletes: await extras.deletes, budget };
    return { ...(await loadBulkWindows(ctx, client, request)), via: 'bulk' };
  } catch (err) {
    return restInstead(ctx, client, spec, plan, runId, extras, err);
  }
}

/**
 * A delta: every row whose own cursor, or a parent's, is at or after the plan's bound, and the rows of deleted parents
 * (extractors/soql.ts). Over REST when its first page's totalSize is within the Bulk threshold and its query fits in a
 * URI (docs/salesforce.md#uri-length); else one Bulk job: the rows a parent's change brings along lie anywhere on the
 * row's own cursor, so the delta cannot be cut into cursor windows.
 */
async function loadDelta(
  ctx: RunContext,
  client: pg.PoolClient,
  spec: ObjectSpec,
  plan: Plan,
  runId: number,
  extras: Extras,
): Promise<Loaded> {
  const soql = restSoql(spec, plan);
  if (restQueryFits(ctx.sf, soql, true)) {
    const reader = openRestCsvReader(ctx.sf, spec.fields, ctx.config.hashKey);
    try {
      const first = await reader.first(soql);
      if (first.totalSize <= ctx.config.bulkThreshold)
        return await loadRest(ctx, client, spec, plan, runId, extras, reader, first);
    } finally {
      await reader.close();
    }
  }
  try {
    return { ...(await loadDeltaBulk(ctx, client, spec, plan, runId, extras)), via: 'bulk' };
  } catch (err) {
    return restInstead(ctx, client, spec, plan, runId, extras, err);
  }
}

async function loadDeltaBulk(
  ctx: RunContext,
  client: pg.PoolClient,
  spec: ObjectSpec,
  plan: Plan,
  runId: number,
  extras: Extras,
): Promise<CommitResult> {
  const soql = buildSelect(spec, { window: { from: plan.from, delta: true } });
  const job = await createQueryJob(ctx.sf, { soql, operation: 'queryAll' });
  let ended = false;
  try {
    await whileIdle(ctx.slots, () => waitForJob(ctx.sf, job.id, { signal: ctx.signal }));
    ended = true;
    const open = (): Source => {
      const stream = bulkCsvStream(ctx.sf, job.id, {
        expectedHeader: spec.fields.map((f) => f.name),
        signal: ctx.signal,
        parallel: ctx.config.bulkParallel,
      });
      return { kind: 'csv', stream, expectedRows: () => stream.records, bytes: () => stream.bytes };
    };
    return await commitLoad(ctx, client, {
      spec,
      mode: plan.mode,
      runId,
      window: {},
      planFrom: plan.from,
      open,
      bulkJobIds: [job.id],
      before: noTotals(),
      ...extras,
    });
  } finally {
    // docs/salesforce.md#bulk-api-20-abort-and-delete: a job still running is aborted; every one is deleted.
    if (!ended) await abortJob(ctx.sf, job.id).catch(() => {});
    await deleteJob(ctx.sf, job.id).catch(() => {});
  }
}
