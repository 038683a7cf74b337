// `sfsync backfill`: re-load the records whose cursor (or CreatedDate) lies in [since, until), one Bulk API 2.0 job
// per window, resumable, without moving the incremental watermark (issue 7 item 1).
import pLimit from 'p-limit';
import { loadConfig } from '../lib/config.ts';
import { ConfigError, SfsyncError, oneLine } from '../lib/errors.ts';
import { createLogger } from '../lib/log.ts';
import { type BackfillArgs, type BackfillSummary, backfillObject } from '../pipelines/backfill/backfillObject.ts';
import { parseInstant, parseWindowSpec, splitWindows } from '../pipelines/backfill/calendarWindows.ts';
import type { RunContext } from '../pipelines/runtime/runContext.ts';
import { withSyncContext } from './sync.ts';

export interface BackfillOptions {
  objects?: string;
  since?: string;
  until?: string;
  window?: string;
  by?: string;
  sandbox?: boolean;
  concurrency?: number;
}

export const DEFAULT_WINDOW = '1mo';

/** Every argument checked before anything is contacted; one ConfigError (exit 2) naming the flag. */
export function parseBackfillArgs(opts: BackfillOptions): BackfillArgs {
  if (!opts.objects) throw new ConfigError('--objects is required: the sObjects to backfill, e.g. --objects Account,Contact');
  if (!opts.since) throw new ConfigError('--since is required: the start of the range, e.g. --since 2024-01-01');
  const by = opts.by ?? 'cursor';
  if (by !== 'cursor' && by !== 'created') throw new ConfigError(`--by: '${by}' is not one of cursor, created`);
  const since = parseInstant(opts.since, '--since');
  const until = opts.until === undefined ? undefined : parseInstant(opts.until, '--until');
  const window = parseWindowSpec(opts.window ?? DEFAULT_WINDOW);
  // The same checks the windows get once `until` is known; here so bad explicit ranges fail before any call.
  if (until) splitWindows(since, until, window);
  return { since, until, window, by };
}

/** One limiter across objects: `concurrency` Bulk jobs in flight in all. */
export async function backfillAll(ctx: RunContext, args: BackfillArgs): Promise<BackfillSummary[]> {
  const limit = pLimit(ctx.config.concurrency);
  return Promise.all(ctx.config.objects.map((obj) => backfillObject(ctx, obj.name, args, limit)));
}

export function formatBackfillSummary(summaries: BackfillSummary[]): string {
  const lines = summaries.map((s) => {
    const range = s.field ? `${s.field} [${s.since}, ${s.until ?? '?'})` : '';
    const earlier = s.doneBefore > 0 ? ` (${s.doneBefore} by an earlier run)` : '';
    const counts = `${s.fetched} read, ${s.inserted} inserted, ${s.updated} updated`;
    const failed = s.error === undefined ? '' : ` FAILED: ${s.failedWindow ? `window ${s.failedWindow}: ` : ''}${oneLine(s.error)}`;
    return `${s.object.padEnd(24)} ${range} ${s.doneBefore + s.doneNow}/${s.windows} windows done${earlier}, ${counts} (${(s.ms / 1000).toFixed(1)} s)${failed}`;
  });
  return lines.join('\n') + '\n';
}

/** The exit: a bad argument found late (since after the server's now) stays a ConfigError; a failed window is PARTIAL. */
export function backfillFailure(summaries: BackfillSummary[]): SfsyncError | undefined {
  const failed = summaries.filter((s) => s.error !== undefined);
  const config = failed.find((s) => s.error instanceof ConfigError);
  if (config) return config.error as ConfigError;
  const first = failed[0];
  if (!first) return undefined;
  const where = first.failedWindow ? ` window ${first.failedWindow}` : '';
  const more = failed.length > 1 ? ` (and ${failed.length - 1} more object${failed.length > 2 ? 's' : ''} failed)` : '';
  const resume = first.windows > 0 ? `; ${first.doneBefore + first.doneNow}/${first.windows} windows done, run the same command again to resume` : '';
  return new SfsyncError('PARTIAL', `${first.object}${where}: ${oneLine(first.error)}${resume}${more}`);
}

export async function runBackfill(opts: BackfillOptions): Promise<void> {
  const args = parseBackfillArgs(opts);
  const config = loadConfig(process.env, { objects: opts.objects, sandbox: opts.sandbox, concurrency: opts.concurrency });
  const log = createLogger({ level: config.logLevel, pretty: process.stderr.isTTY });
  const summaries = await withSyncContext(config, log, (ctx) => backfillAll(ctx, args));
  process.stdout.write(formatBackfillSummary(summaries));
  const failure = backfillFailure(summaries);
  if (failure) throw failure;
}
