// `sfsync verify` (issue 4 item 6): Salesforce's own counts (live via query, deleted via queryAll minus live, §4.4,
// §4.5) against the warehouse's, optionally a random sample compared field by field; non-zero exit on a mismatch.
import { loadConfig, type Env } from '../lib/config.ts';
import { SfsyncError } from '../lib/errors.ts';
import { createLogger } from '../lib/log.ts';
import { withRunContext } from '../pipelines/runtime/runContext.ts';
import type { VerifyRow } from '../pipelines/completeness/verify.ts';
import { verifyAll } from '../pipelines/completeness/verify.ts';

export function formatVerify(rows: VerifyRow[]): string {
  const head = `${'object'.padEnd(24)} ${'sf live'.padStart(9)} ${'wh live'.padStart(9)} ${'sf deleted'.padStart(10)} ${'wh deleted'.padStart(10)} ${'sampled'.padStart(7)}  result`;
  const lines = rows.map((r) => {
    const result = r.ok
      ? 'ok'
      : `MISMATCH${r.problem ? `: ${r.problem}` : ''}${r.sampleDiffs.length > 0 ? ` (${r.sampleDiffs.length} sampled records differ: ${r.sampleDiffs.slice(0, 3).join('; ')})` : ''}`;
    return `${r.object.padEnd(24)} ${String(r.sfLive).padStart(9)} ${String(r.whLive).padStart(9)} ${String(r.sfDeleted).padStart(10)} ${String(r.whDeleted).padStart(10)} ${String(r.sampled).padStart(7)}  ${result}`;
  });
  return [head, ...lines].join('\n') + '\n';
}

export async function runVerify(
  opts: { objects?: string; sample?: number; sandbox?: boolean },
  env: Env,
): Promise<void> {
  const config = loadConfig(env, { objects: opts.objects, sandbox: opts.sandbox });
  const log = createLogger({ level: config.logLevel, pretty: process.stderr.isTTY });
  const rows = await withRunContext(config, log, (ctx) => verifyAll(ctx, opts.sample ?? 0));
  process.stdout.write(formatVerify(rows));
  const bad = rows.filter((r) => !r.ok);
  if (bad.length > 0)
    throw new SfsyncError('VERIFY', `verify found mismatches in ${bad.map((r) => r.object).join(', ')}`);
}
