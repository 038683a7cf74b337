// One job of `sfsync worker`, on the same building blocks as the one-process commands: syncObject, refreshFormulas,
// reconcileAll, verifyAll, syncPipelines, loadBackfillWindow. The org's shared budget is checked first. A job returns
// its outcome (the queue completes it) unless a retry could end otherwise: then it throws and the queue runs it
// again after a delay. Every step it takes converges when run again (watermarks and backfill windows commit with
// their rows), so a retried job is a rerun.
import { BudgetError, LockedError, oneLine } from '../../lib/errors.ts';
import { actionFor } from '../../lib/errorActions.ts';
import { filteredSpec } from '../../extractors/soqlFilter.ts';
import { finishBackfill, listWindows } from '../../loaders/backfillState.ts';
import { withClient } from '../../loaders/postgres.ts';
import { loadBackfillWindow } from '../backfill/loadWindow.ts';
import { formulasDue, refreshFormulas } from '../completeness/formulas.ts';
import { reconcileAll } from '../completeness/reconcileAll.ts';
import { verifyAll } from '../completeness/verify.ts';
import { choosePipelines, compilePipelines, syncPipelines } from '../relationships/syncPipelines.ts';
import { describeConfigured } from '../runtime/columnSelection.ts';
import type { RunContext } from '../runtime/runContext.ts';
import { syncObject } from '../sync/syncObject.ts';
import type { JobData } from './jobs.ts';
import type { SharedBudget } from './sharedBudget.ts';

export interface JobOutcome {
  status: 'succeeded' | 'skipped' | 'failed';
  detail: string;
}

export interface JobDeps {
  budget: SharedBudget;
  /** Queues follow-up jobs (a formula refresh that fell due). */
  enqueue(jobs: readonly JobData[]): Promise<number>;
}

export async function runJob(ctx: RunContext, job: JobData, deps: JobDeps): Promise<JobOutcome> {
  try {
    await deps.budget.check();
  } catch (err) {
    if (err instanceof BudgetError) return { status: 'skipped', detail: err.message };
    throw err;
  }
  if (job.kind !== 'sync') {
    // A one-off job waits for the object's lock: nothing queues it again, as the next tick does a sync it skips.
    ctx = { ...ctx, config: { ...ctx.config, waitForLock: true } };
  }
  switch (job.kind) {
    case 'sync':
      return syncJob(ctx, job, deps);
    case 'formulas': {
      const r = await refreshFormulas(ctx, job.object!);
      if (r.status === 'failed') return settle(ctx, deps, r.error);
      return { status: r.status, detail: `${r.fields} formula fields, ${r.updated} rows updated` };
    }
    case 'reconcile': {
      const [r] = await reconcileAll(ctx);
      if (r!.status === 'failed') return settle(ctx, deps, r!.error);
      if (r!.status === 'skipped') return { status: 'skipped', detail: 'not loaded yet' };
      return { status: 'succeeded', detail: `${r!.live} live in Salesforce, ${r!.found} newly marked deleted` };
    }
    case 'verify': {
      const [r] = await verifyAll(ctx, job.sample ?? 0);
      if (r!.ok) return { status: 'succeeded', detail: `${r!.sfLive} live, ${r!.sampled} sampled: ok` };
      if (ctx.signal.aborted) throw ctx.signal.reason;
      const detail =
        `MISMATCH: Salesforce ${r!.sfLive} live, warehouse ${r!.whLive}` +
        `${r!.problem ? `: ${r!.problem}` : ''}${r!.sampleDiffs.length > 0 ? `; differ: ${r!.sampleDiffs[0]}` : ''}`;
      ctx.log.error({ object: r!.object }, `verify: ${detail}`);
      return { status: 'failed', detail };
    }
    case 'pipeline': {
      const chosen = choosePipelines(ctx.config, { pipelines: job.pipeline });
      const summaries = await syncPipelines(ctx, await compilePipelines(ctx, chosen), false);
      const failed = summaries.find((s) => s.status === 'failed');
      if (failed) return settle(ctx, deps, failed.error);
      return { status: 'succeeded', detail: `${summaries.length} reads` };
    }
    case 'backfill-window':
      return backfillWindowJob(ctx, job, deps);
  }
}

async function syncJob(ctx: RunContext, job: JobData, deps: JobDeps): Promise<JobOutcome> {
  const obj = job.object!;
  const s = await syncObject(ctx, obj, { fullRefresh: false, budget: deps.budget });
  if (s.status === 'failed') return settle(ctx, deps, s.error);
  // The object's formula schedule (config formulaRefreshHours) fell due: a job of its own, after this one.
  if (await formulasDue(ctx, obj)) await deps.enqueue([{ ...job, kind: 'formulas' }]);
  return { status: 'succeeded', detail: `${s.mode} via ${s.via}: ${s.rowsFetched} fetched` };
}

async function backfillWindowJob(ctx: RunContext, job: JobData, deps: JobDeps): Promise<JobOutcome> {
  const w = job.window!;
  const windows = await withClient(ctx.pool, (c) => listWindows(c, w.backfillId));
  const mine = windows.find((x) => x.from === w.from);
  if (!mine) return { status: 'failed', detail: `backfill ${w.backfillId} has no window from ${w.from}` };
  // A retry of a window committed just before its worker died.
  if (mine.status === 'done') return { status: 'skipped', detail: 'window already done' };
  const obj = job.object!;
  const spec = filteredSpec(await describeConfigured(ctx, obj.name), obj.where);
  const r = await loadBackfillWindow(ctx, spec, w);
  if (r.status === 'failed') return settle(ctx, deps, r.error);
  const left = (await withClient(ctx.pool, (c) => listWindows(c, w.backfillId))).filter((x) => x.status !== 'done');
  if (left.length === 0) await withClient(ctx.pool, (c) => finishBackfill(c, w.backfillId));
  return { status: 'succeeded', detail: `${r.fetched} fetched; ${left.length} windows of the backfill left` };
}

/**
 * A failed job's end (lib/errorActions.ts): stopped by SIGTERM or its lease -> handed back (thrown); the org's budget
 * spent -> recorded for every worker, not retried; the object being loaded by another worker -> skipped (that load
 * runs on, and the next tick catches up); a failure of the object (Salesforce or PostgreSQL answered with an error)
 * -> retried; anything else (a setting, a refused login) -> failed, since a retry would fail alike.
 */
async function settle(ctx: RunContext, deps: JobDeps, error: unknown): Promise<JobOutcome> {
  if (ctx.signal.aborted) throw ctx.signal.reason;
  deps.budget.noteFailure(error);
  await deps.budget.flush();
  if (actionFor(error) === 'stop-run') return { status: 'skipped', detail: oneLine(error) };
  if (error instanceof LockedError) return { status: 'skipped', detail: oneLine(error) };
  if (actionFor(error) === 'fail-object') throw error;
  return { status: 'failed', detail: oneLine(error) };
}
