import { setMaxListeners } from 'node:events';
// `sfsync sync`: resolve the objects, run syncObject for each (p-limit), print a summary, set the exit code.
import pLimit from 'p-limit';
import { type Config, loadConfig } from '../lib/config.ts';
import { SfsyncError, oneLine } from '../lib/errors.ts';
import { createLogger, type Logger } from '../lib/log.ts';
import type { RunContext } from './context.ts';
import { openDatabase } from './database.ts';
import { connectSalesforce } from './salesforce.ts';
import { type RunSummary, syncObject } from './syncObject.ts';

export interface SyncOptions {
  objects?: string;
  fullRefresh?: boolean;
  sandbox?: boolean;
  concurrency?: number;
}

/** Sync every configured object; never throws for one object's failure (the summaries say it). */
export async function syncAll(ctx: RunContext, fullRefresh: boolean): Promise<RunSummary[]> {
  const limit = pLimit(ctx.config.concurrency);
  return Promise.all(ctx.config.objects.map((obj) => limit(() => syncObject(ctx, obj, { fullRefresh }))));
}

export function formatSummary(summaries: RunSummary[]): string {
  const lines = summaries.map((s) => {
    const what = s.status === 'succeeded' ? `${s.rowsFetched} read, ${s.rowsInserted} inserted, ${s.rowsUpdated} updated via ${s.via}` : `FAILED: ${oneLine(s.error)}`;
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
    const sf = await connectSalesforce(config, log, controller.signal);
    const db = await openDatabase(config, log);
    try {
      return await fn({ config, log, pool: db.pool, sf, signal: controller.signal });
    } finally {
      await db.close();
    }
  } finally {
    process.off('SIGINT', stop).off('SIGTERM', stop);
  }
}

export async function runSync(opts: SyncOptions): Promise<void> {
  const config = loadConfig(process.env, { objects: opts.objects, sandbox: opts.sandbox, concurrency: opts.concurrency });
  const log = createLogger({ level: config.logLevel, pretty: process.stderr.isTTY });
  const summaries = await withSyncContext(config, log, (ctx) => syncAll(ctx, Boolean(opts.fullRefresh)));
  process.stdout.write(formatSummary(summaries));
  const failed = summaries.filter((s) => s.status === 'failed');
  if (failed.length > 0) {
    const first = failed[0]!;
    const more = failed.length > 1 ? ` (and ${failed.length - 1} more object${failed.length > 2 ? 's' : ''} failed)` : '';
    throw new SfsyncError('PARTIAL', `${first.object}: ${oneLine(first.error)}${more}`);
  }
}
