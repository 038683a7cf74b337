// syncObject: THE unit of work. describe -> lock -> plan -> extract -> COPY -> merge + watermark (commitLoad.ts).
import type pg from 'pg';
import type { ObjectOptions } from '../../lib/config.ts';
import { ConfigError, oneLine } from '../../lib/errors.ts';
import { actionFor } from '../../lib/errorActions.ts';
import { restQueryFits } from '../../extractors/rest/query.ts';
import type { ObjectSpec } from '../../schemas/records.ts';
import { ensureTable, tableIsEmpty } from '../../loaders/ddl.ts';
import { type ObjectState, getObjectState, recordSchemaEvents, saveFieldSnapshot } from '../../loaders/objectState.ts';
import { withClient, withTransaction } from '../../loaders/postgres.ts';
import { closeAbandonedRuns, finishRun, getWatermark, objectsRun, startRun } from '../../loaders/state.ts';
import { tableNameOf } from '../../schemas/pgNames.ts';
import type { ApiBudget } from '../runtime/apiBudget.ts';
import { countOrUnknown, loadBulkWindows } from './bulkLoad.ts';
import type { CommitResult } from './commitLoad.ts';
import type { RunContext } from '../runtime/runContext.ts';
import { type DeleteCheck, checkDeleted, loadedAsOf } from '../completeness/deletes.ts';
import {
  type SchemaDiff,
  applyTypeChanges,
  diffSchema,
  driftEvents,
  sameSnapshot,
  snapshotOf,
} from '../completeness/drift.ts';
import {
  applyPicklistChanges,
  hasPicklistChanges,
  picklistChanges,
  picklistRowsOf,
  readPicklistValues,
} from '../../loaders/picklistValues.ts';
import { refreshColumns } from '../completeness/formulas.ts';
import { ensureLiveView } from '../../loaders/views.ts';
import { analyzeLoaded, applyHistorySetting } from '../../loaders/history.ts';
import { lockObject } from '../runtime/objectLock.ts';
import { type Mode, type Plan, planObject } from './plan.ts';
import { reconcileDue, reconcileObject } from '../completeness/reconcileObject.ts';
import { hashExistingColumns } from '../completeness/hashExisting.ts';
import { describeConfigured } from '../runtime/columnSelection.ts';
import type { EncodedPage } from '../../transforms/restPage.ts';
import { loadRest, openRestCsvReader, type RestCsvReader, restSoql } from './restLoad.ts';
import { filteredSpec, withFilterParents } from '../../extractors/soqlFilter.ts';
import { type FilterCheck, filterChanged, openFilterCheck, prepareFilterFlag } from './filterCheck.ts';

export interface RunSummary {
  object: string;
  mode: Mode;
  via: 'bulk' | 'rest' | null;
  status: 'succeeded' | 'failed';
  rowsFetched: number;
  rowsInserted: number;
  rowsUpdated: number;
  /** Rows marked deleted from getDeleted (docs/salesforce.md#getdeleted); absent on failure. */
  rowsDeleted?: number;
  ms: number;
  watermark: string | null;
  error?: unknown;
  /** The budget guard stopped the run before this object began. */
  notStarted?: boolean;
}

interface LoadResult extends CommitResult {
  via: 'bulk' | 'rest';
}

/**
 * What a load needs besides the plan: the watermark cap (docs/salesforce.md#incremental-cursor-windows), the deletes to
 * apply (docs/salesforce.md#getdeleted), the budget guard.
 */
interface LoadExtras {
  serverNow: Date;
  overlapMinutes: number;
  deletes: Promise<DeleteCheck | null>;
  /**
   * An incremental run's REST reader and first page, already requested (docs/salesforce.md#select-count: its totalSize
   * sizes the delta).
   */
  rest?: { reader: RestCsvReader; first: Promise<EncodedPage> };
  budget?: ApiBudget;
}

export async function syncObject(
  ctx: RunContext,
  obj: ObjectOptions,
  flags: { fullRefresh: boolean; budget?: ApiBudget },
): Promise<RunSummary> {
  const started = Date.now();
  const log = ctx.log.child({ object: obj.name });
  let mode: Mode = 'initial';
  let via: RunSummary['via'] = null;
  let runId: number | undefined;
  ctx.progress?.update(obj.name, { phase: 'describe' });
  try {
    // Only the fields the config selects (columns): the others are never asked for.
    const spec = await withFilterParents(ctx.sf, filteredSpec(await describeConfigured(ctx, obj.name), obj.where));
    // docs/salesforce.md#rest-request-conventions: the describe response's Date header; records stamped after this may
    // still be committing.
    const serverNow = ctx.sf.serverNow();
    log.debug({ fields: spec.fields.length }, 'described');
    return await withClient(ctx.pool, (client) =>
      lockObject(ctx, client, spec.name, async () => {
        const key = { schema: ctx.config.schema, object: spec.name };
        const state = await getObjectState(client, key);
        const watermark = await getWatermark(client, key);
        // docs/salesforce.md#soql-filters: rows loaded under another filter (or none) are brought in line by a full
        // read.
        const refilter = watermark !== null && filterChanged(state, spec);
        if (refilter) log.info({ filter: spec.where ?? null, was: state.filter }, 'filter changed: reading in full');
        const plan = planObject({
          cursorField: spec.cursorField,
          watermark,
          fullRefresh: flags.fullRefresh || obj.fullRefresh || refilter,
          overlapMinutes: obj.overlapMinutes,
        });
        // A delta's first page and getDeleted are asked for now: Salesforce answers while the table is checked, and
        // getDeleted's answer is needed only at the commit. Both are awaited later (or left, should this run fail).
        // docs/salesforce.md#uri-length: a delta whose query does not fit in a GET URI (a wide object's SELECT list)
        // is read through Bulk API 2.0, whose query travels in a POST body.
        const soql = plan.mode === 'incremental' ? restSoql(spec, plan) : undefined;
        const viaRest = soql !== undefined && restQueryFits(ctx.sf, soql, true);
        if (plan.mode === 'incremental' && !viaRest)
          log.info(
            { fields: spec.fields.length },
            'delta query too long for a REST URI; reading it through Bulk API 2.0',
          );
        const reader = viaRest ? openRestCsvReader(ctx.sf, spec.fields, ctx.config.hashKey) : undefined;
        const rest = reader && { reader, first: reader.first(soql!) };
        let deletes =
          plan.mode === 'incremental'
            ? checkDeleted(ctx.sf, log, spec, state.lastDeletedCheck ?? watermark?.value ?? null, obj.overlapMinutes)
            : Promise.resolve(null);
        for (const pending of [rest?.first, deletes]) pending?.catch(() => {});
        let filter: FilterCheck | undefined;
        try {
          await assertOwnTable(client, ctx.config.schema, spec.table, spec.name);
          // Before anything is written: values loaded before the config hashed their column.
          await hashExistingColumns(ctx, client, spec);
          const { created } = await ensureTable(client, ctx.config.schema, spec, {
            exactNumeric: ctx.config.exactNumeric,
          });
          // A full read into a table that has rows must also find the rows Salesforce no longer has.
          const hadRows =
            plan.mode !== 'incremental' && !created && !(await tableIsEmpty(client, ctx.config.schema, spec.table));
          if (plan.mode !== 'incremental') deletes = Promise.resolve(loadedAsOf(serverNow, hadRows));
          // ... and the rows whose records the object's filter no longer keeps.
          await prepareFilterFlag(client, ctx.config.schema, spec, state);
          filter = openFilterCheck(ctx, spec, { plan, tableHadRows: hadRows, state });
          deletes = filter.attach(deletes);
          deletes.catch(() => {});
          const diff = diffSchema(state.fields, spec);
          const typeActions = await applyTypeChanges(
            client,
            ctx.config.schema,
            spec,
            { exactNumeric: ctx.config.exactNumeric },
            (column, why) => log.warn({ column, why }, 'column not widened: drop what depends on it'),
          );
          await ensureLiveView(client, ctx.config.schema, spec.table);
          // After the type changes: the history table takes the same types. Its triggers then version every write.
          await applyHistorySetting(client, ctx.config.schema, spec, obj.history, log);
          log.debug('table checked');
          mode = plan.mode;
          const abandoned = await closeAbandonedRuns(client, key);
          if (abandoned > 0) log.warn({ runs: abandoned }, 'closed runs a stopped process left running');
          runId = await startRun(client, { ...key, mode });
          log.info({ mode, from: plan.from }, 'object sync started');
          const result = await load(ctx, client, spec, plan, runId, {
            serverNow,
            overlapMinutes: obj.overlapMinutes,
            deletes,
            rest,
            budget: flags.budget,
          });
          via = result.via;
          if (plan.mode !== 'incremental' && result.fetched > 0)
            await analyzeLoaded(client, ctx.config.schema, spec.table, obj.history);
          await settleSchema(ctx, client, spec, plan, state, diff, typeActions);
          // Flagged (a full read into rows, deletes getDeleted could not give), or due on the object's schedule: the
          // only way to find the deletes of an object getDeleted refuses (docs/salesforce.md#hard-delete-detection).
          if (
            state.needsReconcile ||
            (await deletes)?.lost ||
            (await reconcileDue(client, ctx.config.schema, obj, spec))
          )
            await reconcileObject(ctx, client, spec);
          // Only now, every step of the object done, is the run a success: a partial run is never reported as one.
          await finishRun(client, runId, { status: 'succeeded', apiCalls: ctx.sf.calls });
          const ms = Date.now() - started;
          // Off the progress block first: a terminal shows this record as the object's line above the block.
          ctx.progress?.finish(spec.name);
          log.info(
            {
              mode,
              via,
              fetched: result.fetched,
              inserted: result.inserted,
              updated: result.updated,
              deleted: result.deleted,
              ms,
              watermark: result.watermark,
            },
            'object synced',
          );
          return {
            object: spec.name,
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
        } finally {
          await reader?.close();
          await filter?.close();
        }
      }),
    );
  } catch (err) {
    ctx.progress?.finish(obj.name);
    log.error({ err: oneLine(err) }, 'object sync failed');
    // An abort surfaces as the transport's "canceled"; the signal's reason says why (SIGTERM, budget, ...).
    if (runId !== undefined) await recordFailure(ctx, runId, ctx.signal.aborted ? ctx.signal.reason : err);
    return {
      object: obj.name,
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
  } finally {
    ctx.progress?.finish(obj.name);
  }
}

const PIPELINE_PREFIX = 'pipeline:';

/**
 * An object's table and a relationship pipeline's share one namespace (`lead` could be either): whoever loaded a table
 * first keeps it, and the other is refused before it writes, rather than mixing two kinds of rows under two watermarks.
 */
export async function assertOwnTable(client: pg.ClientBase, schema: string, table: string, key: string): Promise<void> {
  const tableOf = (k: string) => (k.startsWith(PIPELINE_PREFIX) ? k.slice(PIPELINE_PREFIX.length) : tableNameOf(k));
  const owner = (await objectsRun(client, schema)).find((k) => k !== key && tableOf(k) === table);
  if (owner)
    throw new ConfigError(
      `${key}: table ${schema}.${table} is already loaded by ${owner}; give the pipeline another name`,
    );
}

export async function recordFailure(ctx: RunContext, runId: number, err: unknown): Promise<void> {
  try {
    await withClient(ctx.pool, (client) =>
      finishRun(client, runId, { status: 'failed', error: oneLine(err), apiCalls: ctx.sf.calls }),
    );
  } catch (e) {
    ctx.log.warn({ err: oneLine(e) }, 'could not record the failed run');
  }
}

async function load(
  ctx: RunContext,
  client: pg.PoolClient,
  spec: ObjectSpec,
  plan: Plan,
  runId: number,
  { rest, ...extras }: LoadExtras,
): Promise<LoadResult> {
  // docs/salesforce.md#select-count: size the work first. A small delta is cheaper over REST than as a Bulk job (10-15
  // s of queue on a real org); a large load is cut into cursor windows (pipelines/sync/cursorWindows.ts). A delta is
  // sized by its own query's first page (totalSize): the same one API call as a COUNT(), and for the usual small delta
  // the read is under way.
  let total: number | null;
  if (rest) {
    const first = await rest.first;
    if (first.totalSize <= ctx.config.bulkThreshold)
      return loadRest(ctx, client, spec, plan, runId, extras, rest.reader, first);
    total = first.totalSize;
  } else {
    // null: too large to count (QUERY_TIMEOUT); the windows are then cut by time.
    // A delta's count takes in the rows its parents' changes bring (extractors/soql.ts CursorWindow.delta).
    total = await countOrUnknown(ctx, spec, plan.from !== undefined ? { from: plan.from, delta: true } : {});
  }
  try {
    const result = await loadBulkWindows(ctx, client, {
      spec,
      plan,
      runId,
      total,
      ...extras,
      deletes: await extras.deletes,
    });
    return { ...result, via: 'bulk' };
  } catch (err) {
    if (actionFor(err) !== 'rest-fallback') throw err;
    ctx.log.warn({ object: spec.name, err: oneLine(err) }, 'Bulk API refused the query; falling back to REST queryAll');
    // An incremental run's reader is syncObject's to close; an initial load opens its own here.
    const own = rest ? undefined : openRestCsvReader(ctx.sf, spec.fields, ctx.config.hashKey);
    try {
      return await loadRest(ctx, client, spec, plan, runId, extras, rest?.reader ?? own!);
    } finally {
      await own?.close();
    }
  }
}

/**
 * Drift after the load: on incremental runs, columns that are new, changed type or hold a
 * changed formula get Salesforce's current values for every loaded row; then the describe seen and the drift
 * events are saved in the same transaction, so a failed back-fill is retried by the next run.
 */
async function settleSchema(
  ctx: RunContext,
  client: pg.PoolClient,
  spec: ObjectSpec,
  plan: Plan,
  state: ObjectState,
  diff: SchemaDiff,
  typeActions: Map<string, string>,
): Promise<void> {
  const key = { schema: ctx.config.schema, object: spec.name };
  const snapshot = snapshotOf(spec);
  const stale =
    plan.mode === 'incremental'
      ? [
          ...new Set(
            [
              ...diff.added,
              ...diff.typeChanged.map((t) => t.field),
              ...diff.formulaChanged,
              ...(diff.unhashed ?? []),
            ].map((f) => f.name),
          ),
        ]
      : [];
  // Read now, written with the snapshot: the object lock keeps other writers of this object's rows away.
  const picklists = picklistChanges(await readPicklistValues(client, key), picklistRowsOf(spec));
  const save = async (c: pg.ClientBase, backfilled: number | null) => {
    const events = driftEvents(diff, typeActions, backfilled);
    for (const e of events) ctx.log.info({ object: spec.name, ...e }, 'schema drift');
    await recordSchemaEvents(c, key, events);
    await saveFieldSnapshot(c, key, snapshot);
    await applyPicklistChanges(c, key, picklists);
  };
  if (stale.length > 0) {
    const r = await refreshColumns(ctx, client, spec, stale, (c, done) => save(c, done.updated));
    ctx.log.info(
      { object: spec.name, fields: stale, fetched: r.fetched, updated: r.updated },
      'columns refreshed for drifted fields',
    );
    return;
  }
  // Only when something changed: an unchanged describe writes nothing.
  if (
    !sameSnapshot(state.fields, snapshot) ||
    driftEvents(diff, typeActions, null).length > 0 ||
    hasPicklistChanges(picklists)
  )
    await withTransaction(client, () => save(client, null));
}
