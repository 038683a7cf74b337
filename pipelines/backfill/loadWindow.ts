// One backfill window: a Bulk API 2.0 queryAll job over [from, to) (docs/salesforce.md#bulk-api-20-query-jobs), then
// its rows merged, the window marked done and its run row written in ONE transaction under the object lock. The
// watermark is never touched.
import { oneLine } from '../../lib/errors.ts';
import { createQueryJob, deleteJob, waitForJob } from '../../extractors/bulk/queryJob.ts';
import { bulkCsvStream } from '../../extractors/bulk/csvStream.ts';
import { buildSelect } from '../../extractors/soql.ts';
import type { ObjectSpec } from '../../schemas/records.ts';
import { failWindow, finishWindow, setWindowJob, startWindow, type WindowCounts } from '../../loaders/backfillState.ts';
import { withClient, withTransaction } from '../../loaders/postgres.ts';
import { finishRun, recordApiCalls, startRun } from '../../loaders/state.ts';
import { stageAndMerge } from '../sync/commitLoad.ts';
import type { RunContext } from '../runtime/runContext.ts';
import { withObjectLockWaiting } from '../runtime/objectLock.ts';

export interface WindowTarget {
  backfillId: number;
  /** The dateTime field the window bounds apply to (the cursor, or CreatedDate). */
  field: string;
  from: string;
  to: string;
}

export type WindowResult = ({ status: 'done' } & WindowCounts) | { status: 'failed'; error: unknown };

/** Never throws: a failed window is reported (and recorded when it got as far as its run row); the others go on. */
export async function loadBackfillWindow(ctx: RunContext, spec: ObjectSpec, w: WindowTarget): Promise<WindowResult> {
  // Windows still queued when SIGINT/SIGTERM arrives are not started.
  if (ctx.signal.aborted) return { status: 'failed', error: ctx.signal.reason };
  // Its own client, so the window's run row gets the calls it alone spent.
  const sf = ctx.sf.fork();
  const log = ctx.log.child({ object: spec.name, window: `[${w.from}, ${w.to})` });
  let runId: number | undefined;
  let jobId: string | undefined;
  try {
    // Together, so a process killed here leaves no 'running' run that no window points at (resume fails those).
    const run = await withClient(ctx.pool, (c) =>
      withTransaction(c, async () => {
        const id = await startRun(c, { schema: ctx.config.schema, object: spec.name, mode: 'backfill' });
        await startWindow(c, w.backfillId, w.from, id);
        return id;
      }),
    );
    runId = run;
    const soql = buildSelect(spec, { window: { from: w.from, to: w.to, field: w.field } });
    const job = (await createQueryJob(sf, { soql, operation: 'queryAll' })).id;
    jobId = job;
    await withClient(ctx.pool, (c) => setWindowJob(c, w.backfillId, w.from, job));
    // No database connection and no lock while Salesforce works on the job: that is where a backfill spends its time.
    const onPoll = (j: { state: string }) =>
      ctx.progress?.update(progressKey(spec, w), { phase: 'bulk', bulkState: j.state });
    await waitForJob(sf, job, { signal: ctx.signal, onPoll });
    const counts = await commitWindow({ ...ctx, sf }, spec, w, run, job);
    log.info(counts, 'backfill window loaded');
    return { status: 'done', ...counts };
  } catch (err) {
    // An abort surfaces as the transport's "canceled"; the signal's reason says why (SIGTERM, ...).
    const error = ctx.signal.aborted ? ctx.signal.reason : err;
    log.error({ err: oneLine(error) }, 'backfill window failed');
    if (runId !== undefined) await recordFailure(ctx, w, runId, error, sf.calls, jobId);
    return { status: 'failed', error };
  } finally {
    ctx.progress?.finish(progressKey(spec, w));
    // Results count against storage until deleted (docs/salesforce.md#bulk-api-20-abort-and-delete); failure to delete
    // must not fail the window.
    if (jobId) await deleteJob(sf, jobId).catch(() => {});
    const run = runId;
    if (run !== undefined) await withClient(ctx.pool, (c) => recordApiCalls(c, run, sf.calls)).catch(() => {});
  }
}

/** Windows of one object load side by side: each has its own progress line. */
const progressKey = (spec: ObjectSpec, w: WindowTarget) => `${spec.name} ${w.from.slice(0, 16)}`;

/**
 * The object lock is waited for (a concurrent `sync` may hold it) and held only for this window's transaction.
 * mergeStage never lets an older cursor overwrite a newer row, so a window read before a concurrent sync loaded
 * newer versions cannot undo them.
 */
async function commitWindow(
  ctx: RunContext,
  spec: ObjectSpec,
  w: WindowTarget,
  runId: number,
  jobId: string,
): Promise<WindowCounts> {
  return withClient(ctx.pool, (client) =>
    withObjectLockWaiting(client, ctx.config.schema, spec.name, ctx.signal, () =>
      withTransaction(client, async () => {
        // Created here, not before the lock wait: the first results page is requested only once COPY pulls
        // (docs/salesforce.md#bulk-api-20-query-results).
        const stream = bulkCsvStream(ctx.sf, jobId, {
          expectedHeader: spec.fields.map((f) => f.name),
          signal: ctx.signal,
        });
        ctx.progress?.update(progressKey(spec, w), { phase: 'load', live: stream });
        const r = await stageAndMerge(ctx, client, spec, {
          kind: 'csv',
          stream,
          expectedRows: () => stream.records,
          bytes: () => stream.bytes,
        });
        const counts = { fetched: r.copied, inserted: r.inserted, updated: r.updated };
        await finishWindow(client, w.backfillId, w.from, counts);
        await finishRun(client, runId, {
          status: 'succeeded',
          apiCalls: ctx.sf.calls,
          rowsFetched: r.copied,
          rowsInserted: r.inserted,
          rowsUpdated: r.updated,
          bytes: r.bytes,
          bulkJobIds: [jobId],
          windowFrom: w.from,
          windowTo: w.to,
        });
        return counts;
      }),
    ),
  );
}

async function recordFailure(
  ctx: RunContext,
  w: WindowTarget,
  runId: number,
  err: unknown,
  apiCalls: number,
  jobId: string | undefined,
): Promise<void> {
  try {
    await withClient(ctx.pool, async (c) => {
      await failWindow(c, w.backfillId, w.from, oneLine(err));
      await finishRun(c, runId, {
        status: 'failed',
        error: oneLine(err),
        apiCalls,
        bulkJobIds: jobId ? [jobId] : [],
        windowFrom: w.from,
        windowTo: w.to,
      });
    });
  } catch (e) {
    ctx.log.warn({ err: oneLine(e) }, 'could not record the failed backfill window');
  }
}
