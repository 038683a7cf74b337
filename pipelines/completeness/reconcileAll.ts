// reconcileAll: Id reconciliation of every configured object, one after another, each under its object lock.
import { oneLine } from '../../lib/errors.ts';
import { describeConfigured } from '../runtime/columnSelection.ts';
import { existingColumns } from '../../loaders/ddl.ts';
import { withClient } from '../../loaders/postgres.ts';
import type { RunContext } from '../runtime/runContext.ts';
import { lockObject } from '../runtime/objectLock.ts';
import { reconcileObject } from './reconcileObject.ts';

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
      const spec = await describeConfigured(ctx, obj.name);
      out.push(
        await withClient(ctx.pool, (client) =>
          lockObject(ctx, client, spec.name, async () => {
            if ((await existingColumns(client, ctx.config.schema, spec.table)).length === 0)
              return { object: spec.name, status: 'skipped' as const, live: 0, found: 0 };
            return { object: spec.name, status: 'succeeded' as const, ...(await reconcileObject(ctx, client, spec)) };
          }),
        ),
      );
    } catch (err) {
      ctx.log.error({ object: obj.name, err: oneLine(err) }, 'reconciliation failed');
      out.push({ object: obj.name, status: 'failed', live: 0, found: 0, error: err });
    }
  }
  return out;
}
