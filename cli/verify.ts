// `sfsync verify`: Salesforce's own counts (live via query, deleted via queryAll minus live,
// docs/salesforce.md#select-count, #queryall-and-deleted-records) against the warehouse's, optionally
// a random sample compared field by field; non-zero exit on a mismatch.
import { loadConfig, type Env } from '../lib/config.ts';
import { VerifyMismatchError } from '../lib/errors.ts';
import { commandLogger } from './logger.ts';
import { withRunContext } from '../pipelines/runtime/runContext.ts';
import { withKnownObjects } from '../pipelines/runtime/objectNames.ts';
import type { VerifyRow } from '../pipelines/completeness/verify.ts';
import { verifyAll } from '../pipelines/completeness/verify.ts';
import { formatTextTable } from './textTable.ts';
import { enqueueJobs, objectJobs } from '../pipelines/fleet/enqueueJobs.ts';

export function formatVerify(rows: VerifyRow[]): string {
  const header = ['object', 'sf live', 'wh live', 'sf deleted', 'wh deleted', 'sampled', 'result'];
  const body = rows.map((r) => {
    const problem = r.problem ? `: ${r.problem}` : '';
    const diffs = r.sampleDiffs;
    const differ = diffs.length > 0 ? ` (${diffs.length} sampled records differ: ${diffs.slice(0, 3).join('; ')})` : '';
    const result = r.ok ? 'ok' : `MISMATCH${problem}${differ}`;
    return [r.object, r.sfLive, r.whLive, r.sfDeleted, r.whDeleted, r.sampled].map(String).concat(result);
  });
  return formatTextTable(header, body);
}

export async function runVerify(
  opts: { objects?: string; sample?: number; sandbox?: boolean; org?: string; enqueue?: boolean },
  env: Env,
): Promise<void> {
  const config = loadConfig(env, { objects: opts.objects, sandbox: opts.sandbox, org: opts.org });
  const log = commandLogger(config);
  // README.md, Worker fleet: one job per object, run by `sfsync worker`; a mismatch is that job's failure.
  if (opts.enqueue) {
    process.stdout.write(await enqueueJobs(config, log, objectJobs(config, 'verify', { sample: opts.sample ?? 0 })));
    return;
  }
  const rows = await withRunContext(config, log, async (ctx) =>
    verifyAll(await withKnownObjects(ctx), opts.sample ?? 0),
  );
  process.stdout.write(formatVerify(rows));
  const bad = rows.filter((r) => !r.ok);
  if (bad.length > 0)
    throw new VerifyMismatchError(`verify found mismatches in ${bad.map((r) => r.object).join(', ')}`);
}
