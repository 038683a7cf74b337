// The --enqueue of the one-shot commands (reconcile, verify, backfill): their work queued for `sfsync worker`
// instead of done in this process.
import type { Config } from '../../lib/config.ts';
import type { Logger } from '../../lib/log.ts';
import type { BackfillPlan } from '../backfill/backfillObject.ts';
import { openDatabase } from '../runtime/database.ts';
import { type JobData, type JobKind, ranked } from './jobs.ts';
import { openQueue } from './queue.ts';

/** One job per configured object, ranked in the config's order. */
export function objectJobs(config: Config, kind: JobKind, extra: Partial<JobData> = {}): JobData[] {
  const org = config.org ?? 'default';
  return ranked(config.objects.map((object) => ({ ...extra, kind, org, schema: config.schema, object })));
}

/** A job per window not yet done, each object's windows in order, the objects taking turns. */
export function backfillJobs(config: Config, plans: readonly BackfillPlan[]): JobData[] {
  const org = config.org ?? 'default';
  const jobs: JobData[] = [];
  for (const plan of plans) {
    const object = config.objects.find((o) => o.name.toLowerCase() === plan.object.toLowerCase());
    if (!object) continue;
    for (const [rank, w] of plan.todo.entries())
      jobs.push({
        kind: 'backfill-window',
        org,
        schema: config.schema,
        object: { ...object, name: plan.object },
        window: { backfillId: plan.backfillId, field: plan.field, from: w.from, to: w.to },
        rank,
      });
  }
  return jobs;
}

/** Queues the jobs; returns the line the command prints. */
export async function enqueueJobs(config: Config, log: Logger, jobs: readonly JobData[]): Promise<string> {
  const db = await openDatabase(config, log);
  try {
    const queue = await openQueue({ url: db.url, leaseSeconds: config.jobLeaseSeconds ?? 7200, log, supervise: false });
    try {
      const queued = await queue.enqueue(jobs);
      const waiting = jobs.length - queued;
      return (
        `queued ${queued} job${queued === 1 ? '' : 's'} for sfsync worker` +
        `${waiting > 0 ? ` (${waiting} already waiting in the queue)` : ''}\n`
      );
    } finally {
      await queue.close();
    }
  } finally {
    await db.close();
  }
}
