// Hard-delete detection (docs/salesforce.md#hard-delete-detection): getDeleted over the window since the last check,
// applied in the transaction of the data commit. Rows are only ever marked isdeleted = true, never removed.
import type pg from 'pg';
import { oneLine } from '../../lib/errors.ts';
import { actionFor } from '../../lib/errorActions.ts';
import type { Logger } from '../../lib/log.ts';
import { getDeleted } from '../../extractors/getDeleted.ts';
import type { ObjectSpec } from '../../schemas/records.ts';
import { ensureDeletedFlag } from '../../loaders/ddl.ts';
import { markDeletedAsOf } from '../../loaders/merge.ts';
import { ensureLiveView } from '../../loaders/views.ts';
import { saveDeletedCheck, setNeedsReconcile } from '../../loaders/objectState.ts';
import type { ObjectKey } from '../../loaders/state.ts';
import type { SalesforceHttp } from '../../extractors/client/salesforceHttp.ts';
import { deletedWindow } from '../sync/plan.ts';

export interface DeleteCheck {
  entries: { id: string; deletedDate: string }[];
  /** The next check starts here; null = leave the last check where it is. */
  coveredUntil: string | null;
  /**
   * Deletes may have been missed (window clipped, log purged, window refused): reconcile
   * (docs/salesforce.md#hard-delete-detection).
   */
  lost: boolean;
  /**
   * Brings the rows in line with the object's filter (pipelines/sync/filterCheck.ts): rows that stopped matching are
   * flagged, not deleted, in this same commit.
   */
  filter?: (client: pg.ClientBase) => Promise<void>;
}

/**
 * An initial or full load reads every record as of `serverNow`, so deletions before it need no getDeleted. Into a
 * table that already has rows, though, the read is a snapshot the table must be brought in line with: rows it lacks
 * were deleted (hard deletes getDeleted no longer reports among them), so the object is flagged for the Id
 * reconciliation that runs right after the load, in the same run.
 */
export function loadedAsOf(serverNow: Date, tableHadRows: boolean): DeleteCheck {
  return { entries: [], coveredUntil: serverNow.toISOString(), lost: tableHadRows };
}

const floorToMinute = (ms: number) => Math.floor(ms / 60_000) * 60_000;

/**
 * One getDeleted call for an incremental run; null when the window is too short to ask for yet, or when the object is
 * not replicateable: getDeleted refuses those (docs/salesforce.md#getdeleted), and Id reconciliation on a schedule
 * (reconcileDue) finds their deletes instead.
 */
export async function checkDeleted(
  http: SalesforceHttp,
  log: Logger,
  spec: ObjectSpec,
  since: string | null,
  lookbackMinutes: number,
): Promise<DeleteCheck | null> {
  if (spec.replicateable === false) return null;
  const window = deletedWindow(since, http.serverNow(), lookbackMinutes);
  if (!window || since === null) return null;
  try {
    const res = await getDeleted(http, spec.name, window.start, window.end);
    // docs/salesforce.md#getdeleted: an earliestDateAvailable after our last check means the delete log no longer
    // reaches back to it; both are minute-aligned, so the same minute counts as a gap too (a needless reconcile is
    // cheap, a lost delete not).
    const purged =
      res.earliestDateAvailable !== null && Date.parse(res.earliestDateAvailable) >= floorToMinute(Date.parse(since));
    if (window.gap || purged)
      log.warn(
        { object: spec.name, since, earliestDateAvailable: res.earliestDateAvailable },
        'getDeleted cannot cover the time since the last check; reconciling Ids',
      );
    return {
      entries: res.deleted,
      coveredUntil: res.latestDateCovered ?? window.end.toISOString(),
      lost: window.gap || purged,
    };
  } catch (err) {
    // The window or the object cannot be answered (INVALID_REPLICATION_DATE, EXCEEDED_ID_LIMIT, any other 4xx), not
    // "the sync is broken".
    if (actionFor(err, 'getDeleted') !== 'reconcile') throw err;
    log.warn({ object: spec.name, err: oneLine(err) }, 'getDeleted refused the window; reconciling Ids instead');
    return { entries: [], coveredUntil: window.end.toISOString(), lost: true };
  }
}

/**
 * Inside the data commit's transaction: marks, moves the check forward, flags a needed reconciliation. An object
 * without IsDeleted (docs/salesforce.md#objects-without-system-fields) gets the isdeleted column sfsync keeps for it,
 * as reconciliation does, the first time getDeleted names one of its records.
 */
export async function applyDeleteCheck(
  client: pg.ClientBase,
  key: ObjectKey,
  spec: ObjectSpec,
  check: DeleteCheck | null,
): Promise<number> {
  if (!check) return 0;
  if (!spec.hasIsDeleted && check.entries.length > 0 && (await ensureDeletedFlag(client, key.schema, spec.table)))
    await ensureLiveView(client, key.schema, spec.table);
  const marked = await markDeletedAsOf(
    client,
    { schema: key.schema, table: spec.table, cursorColumn: spec.cursorField?.toLowerCase() ?? null },
    check.entries,
  );
  if (check.coveredUntil) await saveDeletedCheck(client, key, check.coveredUntil);
  if (check.lost) await setNeedsReconcile(client, key, true);
  await check.filter?.(client);
  return marked;
}
