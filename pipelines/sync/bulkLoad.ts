// loadBulkWindows: a Bulk API 2.0 load as cursor windows committed in order (pipelines/sync/cursorWindows.ts). Jobs for
// the next windows are created while the current one downloads, so Salesforce's per-job latency overlaps our COPY; a
// window whose job ends Failed is halved and retried; between windows the API budget guard may stop the object at a
// committed point.
import type pg from 'pg';
import { BudgetError, BulkJobError, oneLine } from '../../lib/errors.ts';
import { actionFor } from '../../lib/errorActions.ts';
import { abortJob, createQueryJob, deleteJob, type JobInfo, waitForJob } from '../../extractors/bulk/queryJob.ts';
import { bulkCsvStream } from '../../extractors/bulk/csvStream.ts';
import { countRecords, queryPages } from '../../extractors/rest/query.ts';
import { buildCount, buildEarliest, buildSelect, type CursorWindow } from '../../extractors/soql.ts';
import type { ObjectSpec } from '../../schemas/records.ts';
import { type CommitResult, commitLoad, noTotals, type Source, type Totals } from './commitLoad.ts';
import type { RunContext } from '../runtime/runContext.ts';
import type { DeleteCheck } from '../completeness/deletes.ts';
import type { Plan } from './plan.ts';
import { whileIdle } from '../runtime/workSlots.ts';
import {
  type CountedWindow,
  describeWindow,
  halveWindow,
  planWindows,
  UNKNOWN_SIZE_SPAN_DAYS,
  type WindowPlanning,
} from './cursorWindows.ts';

/** Jobs created ahead of the window being loaded: enough to hide a job's queue time, few enough to waste little. */
const LOOKAHEAD = 2;
/** A failed window is halved at most this many times (1/8 of it) before the object fails. */
const MAX_SPLITS = 3;

export interface BulkLoadRequest {
  spec: ObjectSpec;
  plan: Plan;
  runId: number;
  /**
   * Records in the plan's range, from `SELECT COUNT()` (docs/salesforce.md#select-count); null when Salesforce could
   * not count them (countOrUnknown).
   */
  total: number | null;
  serverNow: Date;
  overlapMinutes: number;
  deletes: DeleteCheck | null;
  /** Checked before every window after the first; throws BudgetError to stop. */
  budget?: { check(): Promise<void> };
}

/**
 * `SELECT COUNT()` of the object in `window`, or null when the count itself runs too long (QUERY_TIMEOUT on a very
 * large object, docs/salesforce.md#select-count): the load then goes on with windows cut by time (cursorWindows.ts),
 * which the log says. Any other failure is the caller's.
 */
export async function countOrUnknown(ctx: RunContext, spec: ObjectSpec, window: CursorWindow): Promise<number | null> {
  try {
    return await countRecords(ctx.sf, buildCount(spec, { window }), { all: true });
  } catch (err) {
    if (actionFor(err, 'count') !== 'unknown-size') throw err;
    ctx.log.warn(
      { object: spec.name, window: describeWindow(window), err: oneLine(err) },
      `SELECT COUNT() timed out: size unknown, so the load is cut into cursor windows of ${UNKNOWN_SIZE_SPAN_DAYS} ` +
        'days',
    );
    return null;
  }
}

export async function loadBulkWindows(
  ctx: RunContext,
  client: pg.ClientBase,
  req: BulkLoadRequest,
): Promise<CommitResult> {
  const { spec } = req;
  const log = ctx.log.child({ object: spec.name });
  const deltaFrom = req.plan.mode === 'incremental' ? req.plan.from : undefined;
  const planning: WindowPlanning = {
    // Counted as it is read (createJobQueue): the delta's first window with the rows its parents' changes bring.
    count: (w) => countOrUnknown(ctx, spec, deltaWindow(w, deltaFrom)),
    earliest: () => earliestCursor(ctx, spec),
    now: req.serverNow,
    // Without a cursor field there is nothing to cut windows on (docs/salesforce.md#objects-without-system-fields): one
    // job.
    maxRows: spec.cursorField ? ctx.config.windowRows : Number.POSITIVE_INFINITY,
  };
  const windows = await planWindows(
    { ...(req.plan.from !== undefined && { from: req.plan.from }) },
    req.total,
    planning,
  );
  if (windows.length > 1)
    log.info(
      { windows: windows.length, records: req.total ?? 'unknown', sized: req.total === null ? 'by time' : 'by count' },
      'loading in cursor windows',
    );
  if (windows.length === 0) return commitEmpty(ctx, client, req);
  const jobs = createJobQueue(ctx, spec, deltaFrom);
  let result: CommitResult | undefined;
  try {
    for (const [i, w] of windows.entries()) {
      if (i > 0) await checkBudget(req, spec, i, windows.length);
      for (const ahead of windows.slice(i + 1, i + 1 + LOOKAHEAD)) jobs.prestart(ahead);
      result = await loadWindow(ctx, client, req, jobs, {
        window: w,
        last: i === windows.length - 1,
        depth: 0,
        totals: result ?? noTotals(),
        planning,
      });
      if (windows.length > 1)
        log.info(
          {
            window: describeWindow(w),
            done: i + 1,
            of: windows.length,
            fetched: result.fetched,
            watermark: result.watermark,
          },
          'window committed',
        );
    }
    return result!;
  } finally {
    await jobs.dispose();
  }
}

interface WindowStep {
  window: CursorWindow | CountedWindow;
  last: boolean;
  depth: number;
  totals: Totals;
  planning: WindowPlanning;
}

async function loadWindow(
  ctx: RunContext,
  client: pg.ClientBase,
  req: BulkLoadRequest,
  jobs: JobQueue,
  step: WindowStep,
): Promise<CommitResult> {
  const { spec } = req;
  let job: JobInfo;
  try {
    const taken = await jobs.take(step.window);
    job = taken;
    const onPoll = (j: JobInfo) => ctx.progress?.update(spec.name, { phase: 'bulk', bulkState: j.state });
    await whileIdle(ctx.slots, () => waitForJob(ctx.sf, taken.id, { signal: ctx.signal, onPoll }));
    jobs.ended(job.id);
  } catch (err) {
    // A job that ended Failed, or QUERY_TIMEOUT: try less at once (lib/errorActions.ts).
    if (actionFor(err) !== 'halve-window') throw err;
    if (err instanceof BulkJobError) {
      jobs.ended(err.jobId);
      await jobs.remove(err.jobId);
    }
    const halves = step.depth < MAX_SPLITS ? await halveWindow(step.window, step.planning) : null;
    if (!halves) throw withWindow(err, step);
    ctx.log.warn(
      { object: spec.name, window: describeWindow(step.window), err: (err as Error).message },
      'Bulk job failed; retrying the window as two smaller ones',
    );
    const first = await loadWindow(ctx, client, req, jobs, {
      ...step,
      window: halves[0],
      last: false,
      depth: step.depth + 1,
    });
    return loadWindow(ctx, client, req, jobs, { ...step, window: halves[1], depth: step.depth + 1, totals: first });
  }
  const open = (): Source => {
    const stream = bulkCsvStream(ctx.sf, job.id, {
      expectedHeader: spec.fields.map((f) => f.name),
      signal: ctx.signal,
      parallel: ctx.config.bulkParallel,
    });
    ctx.progress?.update(spec.name, { phase: 'load', records: step.totals.fetched, live: stream });
    return { kind: 'csv', stream, expectedRows: () => stream.records, bytes: () => stream.bytes };
  };
  const committed = await commitLoad(ctx, client, {
    spec,
    mode: req.plan.mode,
    runId: req.runId,
    window: step.window,
    planFrom: req.plan.from,
    open,
    bulkJobIds: [job.id],
    serverNow: req.serverNow,
    overlapMinutes: req.overlapMinutes,
    deletes: deletesFor(req, step),
    before: step.totals,
  });
  await jobs.remove(job.id);
  return committed;
}

/**
 * Which commit carries the delete check (docs/salesforce.md#getdeleted). An initial or full load's check only says
 * "read as of serverNow": it goes with the first window, so a resumed load asks getDeleted from then, not from its
 * first window's old bound. An incremental run's getDeleted entries go with the last window, after every row of the run
 * is merged.
 */
function deletesFor(req: BulkLoadRequest, step: WindowStep): DeleteCheck | null {
  const first = step.totals.fetched === 0 && step.totals.bulkJobIds.length === 0;
  return (req.plan.mode === 'incremental' ? step.last : first) ? req.deletes : null;
}

function withWindow(err: unknown, step: WindowStep): unknown {
  if (!(err instanceof BulkJobError)) return err;
  const splits = step.depth > 0 ? `, after ${step.depth} split(s)` : '';
  return new BulkJobError(err.jobId, err.state, `${err.message} (window ${describeWindow(step.window)}${splits})`, {
    cause: err,
  });
}

/** Nothing in range: no Bulk job (each costs 10-15 s on a real org); the run still commits its deletes. */
function commitEmpty(ctx: RunContext, client: pg.ClientBase, req: BulkLoadRequest): Promise<CommitResult> {
  const open = (): Source => ({ kind: 'pages', pages: (async function* () {})() });
  return commitLoad(ctx, client, {
    spec: req.spec,
    mode: req.plan.mode,
    runId: req.runId,
    window: {},
    planFrom: req.plan.from,
    open,
    bulkJobIds: [],
    serverNow: req.serverNow,
    overlapMinutes: req.overlapMinutes,
    deletes: req.deletes,
    before: noTotals(),
  });
}

async function checkBudget(req: BulkLoadRequest, spec: ObjectSpec, done: number, of: number): Promise<void> {
  try {
    await req.budget?.check();
  } catch (err) {
    if (!(err instanceof BudgetError)) throw err;
    throw new BudgetError(
      `${err.message}; ${spec.name} stopped after ${done} of ${of} windows ` +
        '(those are committed; the next run goes on from there)',
    );
  }
}

/**
 * docs/salesforce.md#rest-query-paging, #queryall-and-deleted-records: the oldest cursor value, deleted records
 * included, to split a window that has no lower bound.
 */
async function earliestCursor(ctx: RunContext, spec: ObjectSpec): Promise<string | null> {
  for await (const page of queryPages(ctx.sf, buildEarliest(spec), { all: true })) {
    const value = page.records[0]?.[spec.cursorField ?? ''];
    return typeof value === 'string' ? new Date(Date.parse(value)).toISOString() : null;
  }
  return null;
}

interface JobQueue {
  /** Creates the window's job now unless it already was. */
  prestart(w: CursorWindow): void;
  /** The window's job, created now if it was not prestarted. */
  take(w: CursorWindow): Promise<JobInfo>;
  /** The job ended (JobComplete, Failed): it needs no abort. */
  ended(id: string): void;
  /**
   * docs/salesforce.md#bulk-api-20-abort-and-delete: deleting frees the results' storage. Best effort: a failed delete
   * must not fail the sync.
   */
  remove(id: string): Promise<void>;
  /** Aborts the jobs still running (an error or a budget stop left them) and deletes the rest. */
  dispose(): Promise<void>;
}

/**
 * `deltaFrom`: an incremental load's lower bound. The window that starts there is the delta's: it also reads the rows
 * whose parents changed since (extractors/soql.ts CursorWindow.delta); the later windows are cut on the rows' own
 * cursor only, so no row is read twice.
 */
function deltaWindow(w: CursorWindow, deltaFrom: string | undefined): CursorWindow {
  return deltaFrom !== undefined && w.from === deltaFrom ? { ...w, delta: true } : w;
}

/** The Bulk jobs of a load's windows, created ahead (prestart) or when taken; `deltaFrom` as in deltaWindow. */
function createJobQueue(ctx: RunContext, spec: ObjectSpec, deltaFrom: string | undefined): JobQueue {
  const started = new Map<CursorWindow, Promise<JobInfo>>();
  const all: Promise<JobInfo>[] = [];
  const ended = new Set<string>();
  const removed = new Set<string>();
  const start = (w: CursorWindow) => {
    const p = createQueryJob(ctx.sf, {
      soql: buildSelect(spec, { window: deltaWindow(w, deltaFrom) }),
      operation: 'queryAll',
    });
    // A prestarted job's failure surfaces when its window is taken; until then it must not crash the process.
    p.catch(() => {});
    all.push(p);
    return p;
  };
  const remove = async (id: string) => {
    if (removed.has(id)) return;
    removed.add(id);
    await deleteJob(ctx.sf, id).catch(() => {});
  };
  return {
    prestart(w) {
      if (!started.has(w)) started.set(w, start(w));
    },
    take(w) {
      const p = started.get(w) ?? start(w);
      started.delete(w);
      return p;
    },
    ended: (id) => ended.add(id),
    remove,
    async dispose() {
      for (const s of await Promise.allSettled(all)) {
        if (s.status !== 'fulfilled' || removed.has(s.value.id)) continue;
        if (!ended.has(s.value.id)) await abortJob(ctx.sf, s.value.id).catch(() => {});
        await remove(s.value.id);
      }
    },
  };
}
