// `sfsync sync`: resolve the objects, run syncObject for each (p-limit), print a summary, set the exit code.
import { loadConfig, type Env } from '../lib/config.ts';
import { BudgetError, ObjectsFailedError, oneLine } from '../lib/errors.ts';
import { commandLogger } from './logger.ts';
import { type FormulaSummary, refreshFormulasAll } from '../pipelines/completeness/formulas.ts';
import type { RunSummary } from '../pipelines/sync/syncObject.ts';
import { runFailure } from '../pipelines/sync/syncAll.ts';
import { syncAll } from '../pipelines/sync/syncAll.ts';
import { withRunContext } from '../pipelines/runtime/runContext.ts';
import { withKnownObjects } from '../pipelines/runtime/objectNames.ts';
import { choosePipelines, compilePipelines, syncPipelines } from '../pipelines/relationships/syncPipelines.ts';
import { formatCount } from '../lib/format.ts';
import { formatSeconds, formatTextTable } from './textTable.ts';

export interface SyncOptions {
  objects?: string;
  /** Relationship pipelines to run (names from the config file); alone, no objects are synced. */
  pipelines?: string;
  fullRefresh?: boolean;
  formulasOnly?: boolean;
  sandbox?: boolean;
  concurrency?: number;
  waitForLock?: boolean;
}

const SUMMARY_HEADER = ['object', 'mode', 'result'];

export function formatSummary(summaries: RunSummary[]): string {
  const body = summaries.map((s) => {
    if (s.notStarted) return [s.object, '', `NOT STARTED: ${oneLine(s.error)}`];
    const failed = s.error instanceof BudgetError ? 'STOPPED' : 'FAILED';
    const counts = `${formatCount(s.rowsFetched)} read, ${formatCount(s.rowsInserted)} inserted`;
    const what =
      s.status === 'succeeded'
        ? `${counts}, ${formatCount(s.rowsUpdated)} updated via ${s.via}`
        : `${failed}: ${oneLine(s.error)}`;
    return [s.object, s.mode, `${what} (${formatSeconds(s.ms)})`];
  });
  return formatTextTable(SUMMARY_HEADER, body);
}

/** `sync --formulas-only`: the same columns as a sync, with `formulas` as the mode. */
export function formatFormulaSummary(summaries: FormulaSummary[]): string {
  const body = summaries.map((s) => {
    const what =
      s.status === 'skipped'
        ? 'no formula fields'
        : s.status === 'failed'
          ? `FAILED: ${oneLine(s.error)}`
          : `${s.fields} fields, ${formatCount(s.fetched)} read, ${formatCount(s.updated)} updated`;
    return [s.object, 'formulas', what];
  });
  return formatTextTable(SUMMARY_HEADER, body);
}

export async function runSync(opts: SyncOptions, env: Env): Promise<void> {
  const config = loadConfig(env, {
    objects: opts.objects,
    sandbox: opts.sandbox,
    concurrency: opts.concurrency,
    waitForLock: opts.waitForLock,
  });
  const log = commandLogger(config);
  if (opts.formulasOnly) {
    const results = await withRunContext(config, log, async (ctx) => refreshFormulasAll(await withKnownObjects(ctx)));
    process.stdout.write(formatFormulaSummary(results));
    const failed = results.find((r) => r.status === 'failed');
    if (failed) throw new ObjectsFailedError(`${failed.object}: ${oneLine(failed.error)}`);
    return;
  }
  // Pipelines are checked before login (their SOQL) and before any object is loaded (their paths); they run after the
  // objects. `--pipelines` alone runs only them.
  const chosen = choosePipelines(config, opts);
  const objectsToo = opts.pipelines === undefined || opts.objects !== undefined;
  const summaries = await withRunContext(config, log, async (ctx) => {
    const reads = await compilePipelines(ctx, chosen);
    const objects = objectsToo ? await syncAll(await withKnownObjects(ctx), Boolean(opts.fullRefresh)) : [];
    return [...objects, ...(await syncPipelines(ctx, reads, Boolean(opts.fullRefresh)))];
  });
  process.stdout.write(formatSummary(summaries));
  const failure = runFailure(summaries);
  if (failure) throw failure;
}
