// `sfsync sync`: resolve the objects, run syncObject for each (p-limit), print a summary, set the exit code.
import { loadConfig, type Env } from '../lib/config.ts';
import { BudgetError, SfsyncError, oneLine } from '../lib/errors.ts';
import { createLogger } from '../lib/log.ts';
import { formatFormulaSummary, refreshFormulasAll } from '../pipelines/completeness/formulas.ts';
import type { RunSummary } from '../pipelines/sync/syncObject.ts';
import { runFailure } from '../pipelines/sync/syncAll.ts';
import { syncAll } from '../pipelines/sync/syncAll.ts';
import { withRunContext } from '../pipelines/runtime/runContext.ts';

export interface SyncOptions {
  objects?: string;
  fullRefresh?: boolean;
  formulasOnly?: boolean;
  sandbox?: boolean;
  concurrency?: number;
  waitForLock?: boolean;
}

export function formatSummary(summaries: RunSummary[]): string {
  const lines = summaries.map((s) => {
    if (s.notStarted) return `${s.object.padEnd(24)} NOT STARTED: ${oneLine(s.error)}`;
    const failed = s.error instanceof BudgetError ? 'STOPPED' : 'FAILED';
    const what =
      s.status === 'succeeded'
        ? `${s.rowsFetched} read, ${s.rowsInserted} inserted, ${s.rowsUpdated} updated via ${s.via}`
        : `${failed}: ${oneLine(s.error)}`;
    return `${s.object.padEnd(24)} ${s.mode.padEnd(12)} ${what} (${(s.ms / 1000).toFixed(1)} s)`;
  });
  return lines.join('\n') + '\n';
}

export async function runSync(opts: SyncOptions, env: Env): Promise<void> {
  const config = loadConfig(env, {
    objects: opts.objects,
    sandbox: opts.sandbox,
    concurrency: opts.concurrency,
    waitForLock: opts.waitForLock,
  });
  const log = createLogger({ level: config.logLevel, pretty: process.stderr.isTTY });
  if (opts.formulasOnly) {
    const results = await withRunContext(config, log, refreshFormulasAll);
    process.stdout.write(formatFormulaSummary(results));
    const failed = results.find((r) => r.status === 'failed');
    if (failed) throw new SfsyncError('PARTIAL', `${failed.object}: ${oneLine(failed.error)}`);
    return;
  }
  const summaries = await withRunContext(config, log, (ctx) => syncAll(ctx, Boolean(opts.fullRefresh)));
  process.stdout.write(formatSummary(summaries));
  const failure = runFailure(summaries);
  if (failure) throw failure;
}
