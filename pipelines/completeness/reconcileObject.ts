// Id reconciliation of one object (docs/salesforce.md#hard-delete-detection): every live Id from Salesforce into a TEMP
// table, an anti-join against the warehouse, rows Salesforce no longer has marked isdeleted (never removed).
import type pg from 'pg';
import type { ObjectOptions } from '../../lib/config.ts';
import { oneLine } from '../../lib/errors.ts';
import type { ObjectSpec } from '../../schemas/records.ts';
import { ensureDeletedFlag, ensureMarkColumn } from '../../loaders/ddl.ts';
import { markAbsentDeleted } from '../../loaders/merge.ts';
import { setNeedsReconcile } from '../../loaders/objectState.ts';
import { withTransaction } from '../../loaders/postgres.ts';
import { finishRun, startRun } from '../../loaders/state.ts';
import type { RunContext } from '../runtime/runContext.ts';
import { narrowSpec, openNarrowExtract } from './narrowExtract.ts';

const IDS_TABLE = 'sfsync_live_ids';

/**
 * How often an object that getDeleted refuses (not replicateable, docs/salesforce.md#getdeleted) is reconciled when
 * its config sets no reconcileHours: its deletes are found no other way, and a reconciliation reads every Id (one Bulk
 * job), so once a day.
 */
export const DEFAULT_RECONCILE_HOURS_WITHOUT_GETDELETED = 24;

/** The object's reconciliation schedule in hours; null = none (only when getDeleted cannot cover a window). */
export function reconcileHoursOf(obj: Pick<ObjectOptions, 'reconcileHours'>, spec: ObjectSpec): number | null {
  return obj.reconcileHours ?? (spec.replicateable === false ? DEFAULT_RECONCILE_HOURS_WITHOUT_GETDELETED : null);
}

/**
 * True when the object has a reconciliation schedule and its last successful reconciliation, or before any its first
 * successful run, finished longer ago than that. Runs are those of the load's state (spec.stateKey: a relationship
 * pipeline's read has its own).
 */
export async function reconcileDue(
  client: pg.ClientBase,
  schema: string,
  obj: Pick<ObjectOptions, 'reconcileHours'>,
  spec: ObjectSpec,
): Promise<boolean> {
  const hours = reconcileHoursOf(obj, spec);
  if (hours === null) return false;
  const { rows } = await client.query<{ due: boolean }>(
    `SELECT coalesce(max(finished_at) FILTER (WHERE mode = 'reconcile'), min(finished_at))
              < now() - make_interval(secs => $3) AS due
     FROM sfsync.runs WHERE target_schema = $1 AND lower(object) = lower($2) AND status = 'succeeded'`,
    [schema, spec.stateKey ?? spec.name, hours * 3600],
  );
  return rows[0]?.due === true;
}

/**
 * The caller holds the object's lock (no sync can load a row between the Id snapshot and the anti-join). The live set
 * is `queryAll ... WHERE IsDeleted = false` (docs/salesforce.md#queryall-and-deleted-records): `query` leaves out
 * archived Tasks and Events, which exist, and the filter leaves out Recycle Bin rows, which are deleted. An object
 * without IsDeleted has neither, so plain `query` reads all of it.
 */
export async function reconcileObject(
  ctx: RunContext,
  client: pg.ClientBase,
  spec: ObjectSpec,
): Promise<{ live: number; found: number }> {
  const key = { schema: ctx.config.schema, object: spec.stateKey ?? spec.name };
  if (!spec.hasIsDeleted) await ensureDeletedFlag(client, key.schema, spec.table);
  await ensureMarkColumn(client, key.schema, spec.table);
  const runId = await startRun(client, { ...key, mode: 'reconcile' });
  try {
    // Every live Id, the object's filter aside: a row that stopped matching it is not a deleted one.
    const ids = { ...narrowSpec(spec, []), where: undefined };
    const extract = spec.hasIsDeleted
      ? await openNarrowExtract(ctx, ids, 'queryAll', { liveOnly: true })
      : await openNarrowExtract(ctx, ids, 'query');
    try {
      const result = await withTransaction(client, async () => {
        await client.query(`CREATE TEMP TABLE ${IDS_TABLE} (id text PRIMARY KEY) ON COMMIT DROP`);
        const live = await extract.copyInto(client, { schema: 'pg_temp', table: IDS_TABLE });
        const found = await markAbsentDeleted(client, {
          schema: key.schema,
          table: spec.table,
          idsSchema: 'pg_temp',
          idsTable: IDS_TABLE,
        });
        await setNeedsReconcile(client, key, false);
        await finishRun(client, runId, {
          status: 'succeeded',
          rowsFetched: live,
          rowsDeleted: found,
          bulkJobIds: extract.bulkJobIds,
        });
        return { live, found };
      });
      ctx.log.info({ object: spec.name, live: result.live, found: result.found }, 'Ids reconciled');
      return result;
    } finally {
      await extract.close();
    }
  } catch (err) {
    await finishRun(client, runId, { status: 'failed', error: oneLine(err) }).catch(() => {});
    throw err;
  }
}
