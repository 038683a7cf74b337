// One object's backfill: find or start the backfill of these arguments, then load its windows not yet done (p-limit).
import type pg from 'pg';
import type { LimitFunction } from 'p-limit';
import { ConfigError, DataError, oneLine } from '../../lib/errors.ts';
import type { ObjectSpec } from '../../schemas/records.ts';
import {
  type BackfillKey,
  createBackfill,
  findUnfinishedBackfill,
  finishBackfill,
  listWindows,
  releaseAbandonedWindows,
  resumeBackfill,
} from '../../loaders/backfillState.ts';
import { ensureFilterFlag, ensureTable } from '../../loaders/ddl.ts';
import { configuredWhere, filteredSpec } from '../../extractors/soqlFilter.ts';
import { withClient } from '../../loaders/postgres.ts';
import { ensureLiveView } from '../../loaders/views.ts';
import { applyHistorySetting } from '../../loaders/history.ts';
import { formatWindowSpec, splitWindows, type WindowSpec } from './calendarWindows.ts';
import { loadBackfillWindow } from './loadWindow.ts';
import type { RunContext } from '../runtime/runContext.ts';
import { withBackfillLock, withObjectLockWaiting } from '../runtime/objectLock.ts';
import { describeConfigured } from '../runtime/columnSelection.ts';
import { hashExistingColumns } from '../completeness/hashExisting.ts';

export interface BackfillArgs {
  since: Date;
  /** Undefined: the unfinished backfill's, else the server's now. */
  until?: Date;
  window: WindowSpec;
  by: 'cursor' | 'created';
}

export interface BackfillSummary {
  object: string;
  field: string | null;
  since: string;
  until: string | null;
  windows: number;
  /** Done by an earlier, interrupted command. */
  doneBefore: number;
  doneNow: number;
  fetched: number;
  inserted: number;
  updated: number;
  ms: number;
  /** The first failure: a window's, or the object's before any window ran. */
  error?: unknown;
  failedWindow?: string;
}

/** --by created filters on CreatedDate; otherwise on the object's cursor (SystemModstamp, else LastModifiedDate...). */
export function backfillField(spec: ObjectSpec, by: BackfillArgs['by']): string {
  if (by === 'created') {
    if (!spec.fields.some((f) => f.name === 'CreatedDate'))
      throw new ConfigError(`--by created: ${spec.name} has no CreatedDate field`);
    return 'CreatedDate';
  }
  if (!spec.cursorField)
    throw new DataError(
      `${spec.name} has no SystemModstamp, LastModifiedDate or CreatedDate; it cannot be backfilled by window`,
    );
  return spec.cursorField;
}

export async function backfillObject(
  ctx: RunContext,
  object: string,
  args: BackfillArgs,
  limit: LimitFunction,
): Promise<BackfillSummary> {
  const started = Date.now();
  const summary: BackfillSummary = {
    object,
    field: null,
    since: args.since.toISOString(),
    until: null,
    windows: 0,
    doneBefore: 0,
    doneNow: 0,
    fetched: 0,
    inserted: 0,
    updated: 0,
    ms: 0,
  };
  try {
    const spec = filteredSpec(await describeConfigured(ctx, object), configuredWhere(ctx.config.objects, object));
    summary.object = spec.name;
    summary.field = backfillField(spec, args.by);
    // docs/salesforce.md#rest-request-conventions: the server's clock (from the describe response's Date header) bounds
    // an open-ended backfill.
    const serverNow = ctx.sf.serverNow();
    await withClient(ctx.pool, (client) =>
      withBackfillLock(client, ctx.config.schema, spec.name, async () => {
        await prepareTable(ctx, client, spec);
        const backfillId = await openBackfill(
          client,
          backfillKey(ctx, spec, summary.field!, args),
          args.window,
          serverNow,
        );
        const windows = await listWindows(client, backfillId);
        summary.until = windows[windows.length - 1]?.to ?? null;
        summary.windows = windows.length;
        summary.doneBefore = windows.filter((w) => w.status === 'done').length;
        const todo = windows.filter((w) => w.status !== 'done');
        ctx.log.info({ object: spec.name, backfillId, windows: windows.length, todo: todo.length }, 'backfill started');
        const results = await Promise.all(
          todo.map((w) =>
            limit(() =>
              loadBackfillWindow(ctx, spec, { backfillId, field: summary.field!, from: w.from, to: w.to }).then(
                (r) => ({ w, r }),
              ),
            ),
          ),
        );
        for (const { w, r } of results) {
          if (r.status === 'done') {
            summary.doneNow++;
            summary.fetched += r.fetched;
            summary.inserted += r.inserted;
            summary.updated += r.updated;
          } else if (summary.error === undefined) {
            summary.error = r.error;
            summary.failedWindow = `[${w.from}, ${w.to})`;
          }
        }
        await finishBackfill(client, backfillId);
      }),
    );
  } catch (err) {
    ctx.log.error({ object, err: oneLine(err) }, 'backfill failed');
    summary.error ??= err;
  }
  summary.ms = Date.now() - started;
  return summary;
}

/** A never-synced object gets its table first; DDL under the object lock, as sync does it. */
async function prepareTable(ctx: RunContext, client: pg.ClientBase, spec: ObjectSpec): Promise<void> {
  await withObjectLockWaiting(client, ctx.config.schema, spec.name, ctx.signal, async () => {
    await hashExistingColumns(ctx, client, spec);
    await ensureTable(client, ctx.config.schema, spec, { exactNumeric: ctx.config.exactNumeric });
    // A filtered object's merge clears the flag of rows that match again (loaders/merge.ts).
    if (spec.where !== undefined) await ensureFilterFlag(client, ctx.config.schema, spec.table);
    await ensureLiveView(client, ctx.config.schema, spec.table);
    if (historyOn(ctx, spec)) await applyHistorySetting(client, ctx.config.schema, spec, true, ctx.log);
  });
}

function backfillKey(ctx: RunContext, spec: ObjectSpec, field: string, args: BackfillArgs): BackfillKey {
  return {
    schema: ctx.config.schema,
    object: spec.name,
    field,
    since: args.since.toISOString(),
    windowSpec: formatWindowSpec(args.window),
    until: args.until?.toISOString(),
  };
}

export interface BackfillPlan {
  object: string;
  backfillId: number;
  field: string;
  /** The windows not done yet. */
  todo: { from: string; to: string }[];
  windows: number;
}

/**
 * `sfsync backfill --enqueue`: the backfill found or recorded, its table ready, its windows not yet done, each to be
 * loaded by a worker's job (pipelines/fleet/runJob.ts) instead of by this process.
 */
export async function planBackfill(ctx: RunContext, object: string, args: BackfillArgs): Promise<BackfillPlan> {
  const spec = filteredSpec(await describeConfigured(ctx, object), configuredWhere(ctx.config.objects, object));
  const field = backfillField(spec, args.by);
  const serverNow = ctx.sf.serverNow();
  return withClient(ctx.pool, (client) =>
    withBackfillLock(client, ctx.config.schema, spec.name, async () => {
      await prepareTable(ctx, client, spec);
      const backfillId = await openBackfill(client, backfillKey(ctx, spec, field, args), args.window, serverNow);
      const windows = await listWindows(client, backfillId);
      const todo = windows.filter((w) => w.status !== 'done').map((w) => ({ from: w.from, to: w.to }));
      return { object: spec.name, backfillId, field, todo, windows: windows.length };
    }),
  );
}

/** The object's `history` setting in the config (a backfill never turns history off: sync does). */
function historyOn(ctx: RunContext, spec: ObjectSpec): boolean {
  return ctx.config.objects.some((o) => o.history && o.name.toLowerCase() === spec.name.toLowerCase());
}

/** Continue the unfinished backfill of the same arguments, or record a new one with all its windows. */
async function openBackfill(
  client: pg.ClientBase,
  key: BackfillKey,
  window: WindowSpec,
  serverNow: Date,
): Promise<number> {
  const existing = await findUnfinishedBackfill(client, key);
  if (existing) {
    await resumeBackfill(client, existing.id);
    // Windows a killed process left 'running' were not committed (their transaction died with it).
    await releaseAbandonedWindows(
      client,
      existing.id,
      'interrupted: the sfsync process ended before the window was committed',
    );
    return existing.id;
  }
  const until = key.until ?? serverNow.toISOString();
  const windows = splitWindows(new Date(key.since), new Date(until), window).map((w) => ({
    from: w.from.toISOString(),
    to: w.to.toISOString(),
  }));
  return createBackfill(client, { ...key, until }, windows);
}
