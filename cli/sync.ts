import { setMaxListeners } from 'node:events';
// `sfsync sync`: resolve the objects, run syncObject for each (p-limit), print a summary, set the exit code.
import pLimit from 'p-limit';
import { type Config, type ObjectOptions, loadConfig } from '../lib/config.ts';
import { BudgetError, SalesforceApiError, SfsyncError, oneLine } from '../lib/errors.ts';
import { createLogger, type Logger } from '../lib/log.ts';
import { type ApiBudget, budgetSettings, createBudget } from '../pipelines/runtime/apiBudget.ts';
import type { RunContext } from '../pipelines/runtime/runContext.ts';
import { openDatabase } from '../pipelines/runtime/database.ts';
import { createProgress } from '../pipelines/runtime/progress.ts';
import { connectSalesforce } from '../pipelines/runtime/connectSalesforce.ts';
import { createSlots, IN_FLIGHT_PER_SLOT } from '../pipelines/runtime/workSlots.ts';
import { formatFormulaSummary, formulasDue, refreshFormulas, refreshFormulasAll } from '../pipelines/completeness/formulas.ts';
import { type RunSummary, syncObject } from '../pipelines/sync/syncObject.ts';

export interface SyncOptions {
  objects?: string;
  fullRefresh?: boolean;
  formulasOnly?: boolean;
  sandbox?: boolean;
  concurrency?: number;
  waitForLock?: boolean;
}

/**
 * Sync every configured object; never throws for one object's failure (the summaries say it). SFSYNC_CONCURRENCY
 * objects work at once, twice as many are in flight so their Bulk jobs run while others load (pipelines/runtime/workSlots.ts).
 * The API budget guard runs before each object: once it trips, the objects not yet started get a failed summary
 * carrying the BudgetError.
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

async function guardedSync(ctx: RunContext, budget: ApiBudget, obj: ObjectOptions, fullRefresh: boolean): Promise<RunSummary> {
  try {
    await budget.check();
  } catch (err) {
    return notStarted(obj, err);
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

function notStarted(obj: ObjectOptions, err: unknown): RunSummary {
  return { object: obj.name, mode: obj.fullRefresh ? 'full-refresh' : 'incremental', via: null, status: 'failed', rowsFetched: 0, rowsInserted: 0, rowsUpdated: 0, ms: 0, watermark: null, error: err, notStarted: true };
}

export function formatSummary(summaries: RunSummary[]): string {
  const lines = summaries.map((s) => {
    if (s.notStarted) return `${s.object.padEnd(24)} NOT STARTED: ${oneLine(s.error)}`;
    const failed = s.error instanceof BudgetError ? 'STOPPED' : 'FAILED';
    const what = s.status === 'succeeded' ? `${s.rowsFetched} read, ${s.rowsInserted} inserted, ${s.rowsUpdated} updated via ${s.via}` : `${failed}: ${oneLine(s.error)}`;
    return `${s.object.padEnd(24)} ${s.mode.padEnd(12)} ${what} (${(s.ms / 1000).toFixed(1)} s)`;
  });
  return lines.join('\n') + '\n';
}

export async function withSyncContext<T>(config: Config, log: Logger, fn: (ctx: RunContext) => Promise<T>): Promise<T> {
  // SIGINT/SIGTERM abort the work in flight: open transactions roll back, watermarks stay where they were.
  const controller = new AbortController();
  // Every concurrent request and COPY listens on this one signal.
  setMaxListeners(0, controller.signal);
  const stop = (sig: NodeJS.Signals) => {
    log.warn({ signal: sig }, 'interrupted: rolling back the work in flight');
    controller.abort(new SfsyncError('INTERRUPTED', `interrupted by ${sig}`));
  };
  process.once('SIGINT', stop).once('SIGTERM', stop);
  try {
    // Login and the database (migrations) at once; a refused login is still the error reported.
    const [login, database] = await Promise.allSettled([connectSalesforce(config, log, controller.signal), openDatabase(config, log)]);
    if (login.status === 'rejected' || database.status === 'rejected') {
      if (database.status === 'fulfilled') await database.value.close();
      throw login.status === 'rejected' ? login.reason : (database as PromiseRejectedResult).reason;
    }
    const sf = login.value;
    const db = database.value;
    log.debug('logged in; database ready');
    const progress = createProgress({ log, stream: process.stderr });
    try {
      return await fn({ config, log, pool: db.pool, sf, signal: controller.signal, progress });
    } finally {
      progress.stop();
      await db.close();
    }
  } finally {
    process.off('SIGINT', stop).off('SIGTERM', stop);
  }
}

export async function runSync(opts: SyncOptions): Promise<void> {
  const config = loadConfig(process.env, { objects: opts.objects, sandbox: opts.sandbox, concurrency: opts.concurrency, waitForLock: opts.waitForLock });
  const log = createLogger({ level: config.logLevel, pretty: process.stderr.isTTY });
  if (opts.formulasOnly) {
    const results = await withSyncContext(config, log, refreshFormulasAll);
    process.stdout.write(formatFormulaSummary(results));
    const failed = results.find((r) => r.status === 'failed');
    if (failed) throw new SfsyncError('PARTIAL', `${failed.object}: ${oneLine(failed.error)}`);
    return;
  }
  const summaries = await withSyncContext(config, log, (ctx) => syncAll(ctx, Boolean(opts.fullRefresh)));
  process.stdout.write(formatSummary(summaries));
  const failure = runFailure(summaries);
  if (failure) throw failure;
}

const hitRequestLimit = (err: unknown) => err instanceof SalesforceApiError && err.errorCode === 'REQUEST_LIMIT_EXCEEDED';

/**
 * The one error that sets the exit code and the last line: out of API budget (the guard tripped, or Salesforce said
 * REQUEST_LIMIT_EXCEEDED, never a success: §10) -> BudgetError naming the limit and what did not run; else the first
 * failed object.
 */
export function runFailure(summaries: RunSummary[]): SfsyncError | undefined {
  const failed = summaries.filter((s) => s.status === 'failed');
  const skipped = failed.filter((s) => s.notStarted);
  const broken = failed.filter((s) => !s.notStarted);
  // Stopped by Salesforce (REQUEST_LIMIT_EXCEEDED) or by the guard between two windows of a large object.
  const limited = broken.find((s) => hitRequestLimit(s.error) || s.error instanceof BudgetError);
  if (skipped.length > 0 || limited) {
    const why = limited ? `${limited.object}: ${oneLine(limited.error)}` : oneLine(skipped[0]!.error);
    const notStarted = skipped.length > 0 ? `; not started: ${skipped.map((s) => s.object).join(', ')}` : '';
    const others = broken.filter((s) => s !== limited);
    const more = others.length > 0 ? ` (${others.map((s) => s.object).join(', ')} failed: ${oneLine(others[0]!.error)})` : '';
    return new BudgetError(`partial run: ${why}${notStarted}${more}`);
  }
  const first = failed[0];
  if (!first) return undefined;
  const more = failed.length > 1 ? ` (and ${failed.length - 1} more object${failed.length > 2 ? 's' : ''} failed)` : '';
  return new SfsyncError('PARTIAL', `${first.object}: ${oneLine(first.error)}${more}`);
}
