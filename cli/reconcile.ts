// `sfsync reconcile`: Id reconciliation for each object. Catches hard deletes getDeleted missed
// (window too old, purged log) and objects without a Recycle Bin.
import { loadConfig, type Env } from '../lib/config.ts';
import { ObjectsFailedError, oneLine } from '../lib/errors.ts';
import { commandLogger } from './logger.ts';
import { withRunContext } from '../pipelines/runtime/runContext.ts';
import { withKnownObjects } from '../pipelines/runtime/objectNames.ts';
import type { ReconcileResult } from '../pipelines/completeness/reconcileAll.ts';
import { reconcileAll } from '../pipelines/completeness/reconcileAll.ts';
import { formatTextTable } from './textTable.ts';
import { enqueueJobs, objectJobs } from '../pipelines/fleet/enqueueJobs.ts';

export function formatReconcile(results: ReconcileResult[]): string {
  const body = results.map((r) => [
    r.object,
    r.status === 'succeeded'
      ? `${r.live} live in Salesforce, ${r.found} newly marked deleted`
      : r.status === 'skipped'
        ? 'not loaded yet'
        : `FAILED: ${oneLine(r.error)}`,
  ]);
  return formatTextTable(['object', 'result'], body);
}

export async function runReconcile(
  opts: { objects?: string; sandbox?: boolean; org?: string; enqueue?: boolean },
  env: Env,
): Promise<void> {
  const config = loadConfig(env, { objects: opts.objects, sandbox: opts.sandbox, org: opts.org });
  const log = commandLogger(config);
  // README.md, Worker fleet: one job per object, run by `sfsync worker`.
  if (opts.enqueue) {
    process.stdout.write(await enqueueJobs(config, log, objectJobs(config, 'reconcile')));
    return;
  }
  const results = await withRunContext(config, log, async (ctx) => reconcileAll(await withKnownObjects(ctx)));
  process.stdout.write(formatReconcile(results));
  const failed = results.filter((r) => r.status === 'failed');
  if (failed.length > 0)
    throw new ObjectsFailedError(
      `${failed[0]!.object}: ${oneLine(failed[0]!.error)}` +
        `${failed.length > 1 ? ` (and ${failed.length - 1} more)` : ''}`,
    );
}
