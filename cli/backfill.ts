// `sfsync backfill`: re-load the records whose cursor (or CreatedDate) lies in [since, until), one Bulk API 2.0 job
// per window, resumable, without moving the incremental watermark.
import { loadConfig, type Env } from '../lib/config.ts';
import { ConfigError, oneLine } from '../lib/errors.ts';
import { commandLogger } from './logger.ts';
import {
  type BackfillArgs,
  type BackfillPlan,
  type BackfillSummary,
  planBackfill,
} from '../pipelines/backfill/backfillObject.ts';
import { backfillJobs, enqueueJobs } from '../pipelines/fleet/enqueueJobs.ts';
import { parseInstant, parseWindowSpec, splitWindows } from '../pipelines/backfill/calendarWindows.ts';
import { withRunContext } from '../pipelines/runtime/runContext.ts';
import { withKnownObjects } from '../pipelines/runtime/objectNames.ts';
import { backfillAll } from '../pipelines/backfill/backfillAll.ts';
import { backfillFailure } from '../pipelines/backfill/backfillAll.ts';
import { formatCount } from '../lib/format.ts';
import { formatSeconds, formatTextTable } from './textTable.ts';

export interface BackfillOptions {
  objects?: string;
  since?: string;
  until?: string;
  window?: string;
  by?: string;
  sandbox?: boolean;
  concurrency?: number;
  /** --org: the org of the config file's `orgs` (required when it lists several). */
  org?: string;
  /** Plan the windows here, load them in `sfsync worker` jobs (README.md, Worker fleet). */
  enqueue?: boolean;
}

export const DEFAULT_WINDOW = '1mo';

/** Every argument checked before anything is contacted; one ConfigError (exit 2) naming the flag. */
export function parseBackfillArgs(opts: BackfillOptions): BackfillArgs {
  if (!opts.objects)
    throw new ConfigError('--objects is required: the sObjects to backfill, e.g. --objects Account,Contact');
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

export function formatBackfillSummary(summaries: BackfillSummary[]): string {
  const body = summaries.map((s) => {
    const range = s.field ? `${s.field} [${s.since}, ${s.until ?? '?'})` : '';
    const earlier = s.doneBefore > 0 ? ` (${formatCount(s.doneBefore)} by an earlier run)` : '';
    const counts = [
      `${formatCount(s.fetched)} read`,
      `${formatCount(s.inserted)} inserted`,
      `${formatCount(s.updated)} updated`,
    ].join(', ');
    const failed =
      s.error === undefined ? '' : ` FAILED: ${s.failedWindow ? `window ${s.failedWindow}: ` : ''}${oneLine(s.error)}`;
    const done = `${s.doneBefore + s.doneNow}/${s.windows} windows done${earlier}`;
    return [s.object, range, `${done}, ${counts} (${formatSeconds(s.ms)})${failed}`];
  });
  return formatTextTable(['object', 'range', 'result'], body);
}

export async function runBackfill(opts: BackfillOptions, env: Env): Promise<void> {
  const args = parseBackfillArgs(opts);
  const config = loadConfig(env, {
    objects: opts.objects,
    sandbox: opts.sandbox,
    concurrency: opts.concurrency,
    org: opts.org,
  });
  const log = commandLogger(config);
  if (opts.enqueue) {
    const plans = await withRunContext(config, log, async (ctx) => {
      const known = await withKnownObjects(ctx);
      const out: BackfillPlan[] = [];
      for (const obj of known.config.objects) out.push(await planBackfill(known, obj.name, args));
      return out;
    });
    process.stdout.write(await enqueueJobs(config, log, backfillJobs(config, plans)));
    return;
  }
  const summaries = await withRunContext(config, log, async (ctx) => backfillAll(await withKnownObjects(ctx), args));
  process.stdout.write(formatBackfillSummary(summaries));
  const failure = backfillFailure(summaries);
  if (failure) throw failure;
}
