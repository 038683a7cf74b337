// syncAll: every configured object through syncObject, SFSYNC_CONCURRENCY at once, the API budget guard before each;
// runFailure: the one error a run ends with.
import pLimit from 'p-limit';
import type { ObjectOptions } from '../../lib/config.ts';
import { BudgetError, ObjectsFailedError, type SfsyncError, oneLine } from '../../lib/errors.ts';
import { actionFor } from '../../lib/errorActions.ts';
import { type ApiBudget, budgetSettings, createBudget } from '../runtime/apiBudget.ts';
import type { RunContext } from '../runtime/runContext.ts';
import { createSlots, IN_FLIGHT_PER_SLOT } from '../runtime/workSlots.ts';
import { formulasDue, refreshFormulas } from '../completeness/formulas.ts';
import { type RunSummary, syncObject } from './syncObject.ts';

/**
 * Sync every configured object; never throws for one object's failure (the summaries say it). SFSYNC_CONCURRENCY
 * objects work at once, twice as many are in flight so their Bulk jobs run while others load
 * (pipelines/runtime/workSlots.ts). The API budget guard runs before each object: once it trips, the objects not yet
 * started get a failed summary carrying the BudgetError.
 */
export async function syncAll(ctx: RunContext, fullRefresh: boolean): Promise<RunSummary[]> {
  const inFlight = pLimit(ctx.config.concurrency * IN_FLIGHT_PER_SLOT);
  const slots = createSlots(ctx.config.concurrency);
  const budget = createBudget(ctx.sf, budgetSettings(ctx.config), ctx.log);
  const inSlot = async (obj: ObjectOptions) => {
    await slots.acquire();
    try {
      return await guardedSync({ ...ctx, slots }, budget, obj, fullRefresh);
    } finally {
      slots.release();
    }
  };
  const summaries = await Promise.all(ctx.config.objects.map((obj) => inFlight(() => inSlot(obj))));
  // Bulk jobs are counted per object in runs.bulk_job_ids; the guard's own count lags by the last object.
  ctx.log.info({ apiCalls: budget.spent().apiCalls }, 'API calls spent by this run');
  return summaries;
}

async function guardedSync(
  ctx: RunContext,
  budget: ApiBudget,
  obj: ObjectOptions,
  fullRefresh: boolean,
): Promise<RunSummary> {
  try {
    await budget.check();
  } catch (err) {
    return notStarted(obj.name, obj.fullRefresh ? 'full-refresh' : 'incremental', err);
  }
  // Its own client, so the object's run row gets the calls it alone spent.
  const summary = await syncObject({ ...ctx, sf: ctx.sf.fork() }, obj, { fullRefresh, budget });
  if (summary.status === 'failed') budget.noteFailure(summary.error);
  else if (await formulasDue(ctx, obj)) {
    // The object's formula schedule (config formulaRefreshHours) is due: a cheap Id + formulas job.
    const refresh = await refreshFormulas({ ...ctx, sf: ctx.sf.fork() }, obj);
    if (refresh.status === 'failed') return { ...summary, status: 'failed', error: refresh.error };
  }
  return summary;
}

/** The summary of an object (or pipeline) the budget guard stopped before it began. */
export function notStarted(object: string, mode: RunSummary['mode'], err: unknown): RunSummary {
  return {
    object,
    mode,
    via: null,
    status: 'failed',
    rowsFetched: 0,
    rowsInserted: 0,
    rowsUpdated: 0,
    ms: 0,
    watermark: null,
    error: err,
    notStarted: true,
  };
}

/**
 * The one error that sets the exit code and the last line: out of API budget (the guard tripped, or Salesforce said
 * REQUEST_LIMIT_EXCEEDED, never a success: docs/salesforce.md#limits) -> BudgetError naming the limit and what did not
 * run; else the first failed object.
 */
export function runFailure(summaries: RunSummary[]): SfsyncError | undefined {
  const failed = summaries.filter((s) => s.status === 'failed');
  const skipped = failed.filter((s) => s.notStarted);
  const broken = failed.filter((s) => !s.notStarted);
  // Stopped by Salesforce (REQUEST_LIMIT_EXCEEDED) or by the guard between two windows of a large object.
  const limited = broken.find((s) => actionFor(s.error) === 'stop-run');
  if (skipped.length > 0 || limited) {
    const why = limited ? `${limited.object}: ${oneLine(limited.error)}` : oneLine(skipped[0]!.error);
    const notStarted = skipped.length > 0 ? `; not started: ${skipped.map((s) => s.object).join(', ')}` : '';
    const others = broken.filter((s) => s !== limited);
    const more =
      others.length > 0 ? ` (${others.map((s) => s.object).join(', ')} failed: ${oneLine(others[0]!.error)})` : '';
    return new BudgetError(`partial run: ${why}${notStarted}${more}`);
  }
  const first = failed[0];
  if (!first) return undefined;
  const more = failed.length > 1 ? ` (and ${failed.length - 1} more object${failed.length > 2 ? 's' : ''} failed)` : '';
  return new ObjectsFailedError(`${first.object}: ${oneLine(first.error)}${more}`);
}
