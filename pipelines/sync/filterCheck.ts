// A filtered object's rows kept in line with its filter (config objects[].where, docs/salesforce.md#soql-filters).
// Loads read only the records that match. A row whose record stops matching is flagged (loaders/ddl.ts FILTER_COLUMN),
// never deleted, in the commit that carries the load's delete check, and `<table>_live` hides it; a version that
// matches, newer or of the same cursor, clears the flag in the merge (loaders/merge.ts). An incremental run reads the
// Ids in its window (its parents' cursors too) that do not match over REST (a delta's worth of them). A full read into
// a table that has rows (--full-refresh, or a filter that differs from the one the rows were brought in line with)
// clears every flag, then flags the Ids of the whole object that do not match, read as one Bulk job started beside
// the load; the filter is saved in that same commit.
import type pg from 'pg';
import { buildSelect } from '../../extractors/soql.ts';
import type { Logger } from '../../lib/log.ts';
import { copyCsv } from '../../loaders/copyCsv.ts';
import { ensureFilterFlag } from '../../loaders/ddl.ts';
import { clearFilteredOut, markFilteredOut } from '../../loaders/merge.ts';
import { type ObjectState, saveFilter } from '../../loaders/objectState.ts';
import { quoteIdent } from '../../loaders/postgres.ts';
import { STAGE_SCHEMA } from '../../loaders/stage.ts';
import type { ObjectSpec } from '../../schemas/records.ts';
import { queryCsv } from '../../transforms/restPage.ts';
import type { DeleteCheck } from '../completeness/deletes.ts';
import { type NarrowExtract, narrowSpec, openNarrowExtract } from '../completeness/narrowExtract.ts';
import type { RunContext } from '../runtime/runContext.ts';
import type { Plan } from './plan.ts';

const UNMATCHED_TABLE = 'sfsync_unmatched';

/** The filter the rows were last brought in line with; null = none. */
const appliedOf = (state: Pick<ObjectState, 'filter'>) => state.filter ?? null;

/**
 * True when the configured filter differs from the one the rows were brought in line with: the object is then read
 * in full, which says why in the log.
 */
export function filterChanged(state: Pick<ObjectState, 'filter'>, spec: Pick<ObjectSpec, 'where'>): boolean {
  return appliedOf(state) !== (spec.where ?? null);
}

/** After ensureTable: a table filtered now or before has the flag column (and so the _live view hides flagged rows). */
export async function prepareFilterFlag(
  client: pg.ClientBase,
  schema: string,
  spec: ObjectSpec,
  state: Pick<ObjectState, 'filter'>,
): Promise<void> {
  if (spec.where !== undefined || appliedOf(state) !== null) await ensureFilterFlag(client, schema, spec.table);
}

export interface FilterCheck {
  /** The delete check the load commits (pipelines/completeness/deletes.ts), carrying the filter step. */
  attach(deletes: Promise<DeleteCheck | null>): Promise<DeleteCheck | null>;
  /** Deletes the Bulk job of a full read's unmatched Ids; never throws. */
  close(): Promise<void>;
}

const unchanged: FilterCheck = { attach: (deletes) => deletes, close: async () => {} };

/**
 * What this load does about the filter. `tableHadRows`: a full read into rows (an initial load into an empty table
 * reads only matching records and has nothing to flag).
 */
export function openFilterCheck(
  ctx: RunContext,
  spec: ObjectSpec,
  req: { plan: Plan; tableHadRows: boolean; state: Pick<ObjectState, 'filter'> },
): FilterCheck {
  const current = spec.where ?? null;
  const applied = appliedOf(req.state);
  // A changed filter means a full read: an incremental run has the filter the rows are in line with, or none.
  if ((current === null && applied === null) || (req.plan.mode === 'incremental' && current === null)) return unchanged;
  const log = ctx.log.child({ object: spec.name });
  const key = { schema: ctx.config.schema, object: spec.stateKey ?? spec.name };
  // Id and the cursor: a row holding a newer version than the one read is not flagged (loaders/merge.ts).
  const narrow = narrowSpec(spec, spec.cursorField ? [spec.cursorField] : []);
  let step: (client: pg.ClientBase) => Promise<void>;
  let bulk: Promise<NarrowExtract> | undefined;
  if (req.plan.mode === 'incremental') {
    // Parents' cursors too (spec.whereParentCursors): a parent's change can take a record out of the filter.
    const soql = buildSelect(narrow, { window: { from: req.plan.from, delta: true }, unmatched: true });
    step = async (client) => {
      const source = () => queryCsv(ctx.sf, soql, narrow.fields, { all: true });
      const r = await flagUnmatched(ctx, client, narrow, (target, columns) =>
        copyCsv(client, { ...target, columns, source: source(), signal: ctx.signal }),
      );
      if (r.flagged > 0) log.info(r, 'rows whose record no longer matches the filter flagged');
    };
  } else {
    if (req.tableHadRows && current !== null) {
      bulk = openNarrowExtract(ctx, narrow, 'queryAll', { unmatched: true });
      bulk.catch(() => {});
    }
    step = async (client) => {
      const extract = bulk && (await bulk);
      const r = extract
        ? await flagUnmatched(ctx, client, narrow, (target) => extract.copyInto(client, target), req.tableHadRows)
        : {
            read: 0,
            flagged: 0,
            cleared: req.tableHadRows
              ? await clearFilteredOut(client, { schema: ctx.config.schema, table: spec.table })
              : 0,
          };
      if (current !== applied) await saveFilter(client, key, current);
      logApplied(log, current, applied, r);
    };
  }
  return {
    attach: async (deletes) => {
      const check = await deletes;
      return { ...(check ?? { entries: [], coveredUntil: null, lost: false }), filter: step };
    },
    close: async () => {
      await bulk?.then(
        (e) => e.close(),
        () => {},
      );
    },
  };
}

function logApplied(
  log: Logger,
  current: string | null,
  applied: string | null,
  counts: { cleared: number; read: number; flagged: number },
): void {
  if (current === applied) {
    if (counts.flagged > 0 || counts.cleared > 0) log.info(counts, 'filter re-applied to every row');
  } else if (current === null) log.info({ ...counts, was: applied }, 'filter removed: every row is current again');
  else log.info({ ...counts, filter: current, was: applied }, 'filter applied to every row');
}

/** The unmatched Ids (and cursors) into a TEMP table of this transaction, then the rows they name flagged. */
/**
 * The Ids (and cursors) `copy` reads, of records the filter leaves out, flagged. `clearOthers` (a full read): the
 * flags of every other row are cleared first, and a row that stays flagged is not written at all.
 */
async function flagUnmatched(
  ctx: RunContext,
  client: pg.ClientBase,
  narrow: ObjectSpec,
  copy: (target: { schema: string; table: string }, columns: string[]) => Promise<number>,
  clearOthers = false,
): Promise<{ read: number; flagged: number; cleared: number }> {
  const columns = narrow.fields.map((f) => f.column);
  const defs = narrow.fields.map((f) => `${quoteIdent(f.column)} ${f.pgType}`).join(', ');
  await client.query(`DROP TABLE IF EXISTS pg_temp.${UNMATCHED_TABLE}`);
  await client.query(`CREATE TEMP TABLE ${UNMATCHED_TABLE} (${defs}) ON COMMIT DROP`);
  const read = await copy({ schema: STAGE_SCHEMA, table: UNMATCHED_TABLE }, columns);
  const target = { schema: ctx.config.schema, table: narrow.table };
  const cursorColumn = narrow.cursorField?.toLowerCase() ?? null;
  const cleared = clearOthers
    ? await clearFilteredOut(client, {
        ...target,
        keep: { schema: STAGE_SCHEMA, table: UNMATCHED_TABLE, cursorColumn },
      })
    : 0;
  const flagged = await markFilteredOut(client, {
    ...target,
    idsSchema: STAGE_SCHEMA,
    idsTable: UNMATCHED_TABLE,
    cursorColumn,
  });
  return { read, flagged, cleared };
}
