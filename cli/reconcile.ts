// `sfsync reconcile` (issue 4 item 3): Id reconciliation for each object. Catches hard deletes getDeleted missed
// (window too old, purged log) and objects without a Recycle Bin.
import { loadConfig } from '../lib/config.ts';
import { SfsyncError, oneLine } from '../lib/errors.ts';
import { createLogger } from '../lib/log.ts';
import { describeObject } from '../extractors/describe.ts';
import { existingColumns } from '../loaders/ddl.ts';
import { withClient } from '../loaders/postgres.ts';
import type { RunContext } from '../pipelines/runtime/runContext.ts';
import { withObjectLock } from '../pipelines/runtime/objectLock.ts';
import { reconcileObject } from '../pipelines/completeness/reconcileObject.ts';
import { withSyncContext } from './sync.ts';

export interface ReconcileResult {
  object: string;
  status: 'succeeded' | 'failed' | 'skipped';
  /** Ids Salesforce returned. */
  live: number;
  /** Warehouse rows newly marked deleted. */
  found: number;
  error?: unknown;
}

export async function reconcileAll(ctx: RunContext): Promise<ReconcileResult[]> {
  const out: ReconcileResult[] = [];
  for (const obj of ctx.config.objects) {
    try {
      const { spec } = await describeObject(ctx.sf, obj.name);
      out.push(
        await withClient(ctx.pool, (client) => withObjectLock(client, ctx.config.schema, spec.name, async () => {
          if ((await existingColumns(client, ctx.config.schema, spec.table)).length === 0) return { object: spec.name, status: 'skipped' as const, live: 0, found: 0 };
          return { object: spec.name, status: 'succeeded' as const, ...(await reconcileObject(ctx, client, spec)) };
        })),
      );
    } catch (err) {
      ctx.log.error({ object: obj.name, err: oneLine(err) }, 'reconciliation failed');
      out.push({ object: obj.name, status: 'failed', live: 0, found: 0, error: err });
    }
  }
  return out;
}

export function formatReconcile(results: ReconcileResult[]): string {
  return results
    .map((r) => {
      const what = r.status === 'succeeded' ? `${r.live} live in Salesforce, ${r.found} newly marked deleted` : r.status === 'skipped' ? 'not loaded yet' : `FAILED: ${oneLine(r.error)}`;
      return `${r.object.padEnd(24)} ${what}`;
    })
    .join('\n') + '\n';
}

export async function runReconcile(opts: { objects?: string; sandbox?: boolean }): Promise<void> {
  const config = loadConfig(process.env, { objects: opts.objects, sandbox: opts.sandbox });
  const log = createLogger({ level: config.logLevel, pretty: process.stderr.isTTY });
  const results = await withSyncContext(config, log, reconcileAll);
  process.stdout.write(formatReconcile(results));
  const failed = results.filter((r) => r.status === 'failed');
  if (failed.length > 0) throw new SfsyncError('PARTIAL', `${failed[0]!.object}: ${oneLine(failed[0]!.error)}${failed.length > 1 ? ` (and ${failed.length - 1} more)` : ''}`);
}
