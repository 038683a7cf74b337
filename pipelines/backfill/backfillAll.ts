// backfillAll: every object of a backfill, one limiter of Bulk jobs across them;
// backfillFailure: the error it ends with.
import pLimit from 'p-limit';
import { ConfigError, ObjectsFailedError, type SfsyncError, oneLine } from '../../lib/errors.ts';
import { type BackfillArgs, type BackfillSummary, backfillObject } from './backfillObject.ts';
import type { RunContext } from '../runtime/runContext.ts';

/** One limiter across objects: `concurrency` Bulk jobs in flight in all. */
export async function backfillAll(ctx: RunContext, args: BackfillArgs): Promise<BackfillSummary[]> {
  const limit = pLimit(ctx.config.concurrency);
  return Promise.all(ctx.config.objects.map((obj) => backfillObject(ctx, obj.name, args, limit)));
}

/**
 * The exit: a bad argument found late (since after the server's now) stays a ConfigError; a failed window is PARTIAL.
 */
export function backfillFailure(summaries: BackfillSummary[]): SfsyncError | undefined {
  const failed = summaries.filter((s) => s.error !== undefined);
  const config = failed.find((s) => s.error instanceof ConfigError);
  if (config) return config.error as ConfigError;
  const first = failed[0];
  if (!first) return undefined;
  const where = first.failedWindow ? ` window ${first.failedWindow}` : '';
  const more = failed.length > 1 ? ` (and ${failed.length - 1} more object${failed.length > 2 ? 's' : ''} failed)` : '';
  const resume =
    first.windows > 0
      ? `; ${first.doneBefore + first.doneNow}/${first.windows} windows done, run the same command again to resume`
      : '';
  return new ObjectsFailedError(`${first.object}${where}: ${oneLine(first.error)}${resume}${more}`);
}
