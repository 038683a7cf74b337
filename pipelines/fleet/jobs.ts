// The jobs of the worker fleet: what a job says (kind, org, object, the object's options), its priority and its
// deduplication key. Plain data: the scheduler and the commands write it into the queue, `sfsync worker` reads it.
import type { ObjectOptions } from '../../lib/config.ts';

export type JobKind = 'sync' | 'formulas' | 'pipeline' | 'reconcile' | 'verify' | 'backfill-window';

export interface BackfillWindowJob {
  backfillId: number;
  /** The dateTime field the window bounds apply to (the cursor, or CreatedDate). */
  field: string;
  from: string;
  to: string;
}

export interface JobData {
  kind: JobKind;
  /** The config file's org name: a worker logs in with that org's settings from its own config. */
  org: string;
  /** The org's schema when the job was queued: a worker whose config gives the org another schema refuses it. */
  schema: string;
  /** Objects' jobs: the object's options as the enqueuing config had them (no secrets in them). */
  object?: ObjectOptions;
  /** pipeline jobs: the relationship pipeline's name. */
  pipeline?: string;
  /** verify jobs: records compared field by field. */
  sample?: number;
  window?: BackfillWindowJob;
  /** Place among the jobs its org queued together (0 first); sets the priority. */
  rank: number;
}

/**
 * pg-boss runs higher priorities first. Each batch an org queues counts from rank 0, so the n-th object of every org
 * comes before the (n+1)-th of any: an org with 300 objects does not hold the others back, and an org whose tick comes
 * later still gets its first objects in ahead of the long tail. Backfill windows (history, often hundreds) come after
 * every day-to-day job.
 */
export function jobPriority(data: Pick<JobData, 'kind' | 'rank'>): number {
  const tier = data.kind === 'backfill-window' ? -1_000_000 : 0;
  return tier - Math.min(data.rank, 999_999);
}

/**
 * At most one job per key waits in the queue (pg-boss policy `short`): several schedulers ticking at once, or a tick
 * while the last one's job still waits, queue nothing twice.
 */
export function singletonKey(data: JobData): string {
  const what = data.object?.name ?? data.pipeline ?? '';
  const window = data.window ? `:${data.window.backfillId}:${data.window.from}` : '';
  return `${data.kind}:${data.schema}:${what.toLowerCase()}${window}`;
}

/** For log lines and `sfsync worker` output: `sync east Account`, `backfill-window east Account [from, to)`. */
export function describeJob(data: JobData): string {
  const what = data.object?.name ?? data.pipeline ?? '';
  const window = data.window ? ` [${data.window.from}, ${data.window.to})` : '';
  return `${data.kind} ${data.org} ${what}${window}`;
}

/** One batch's jobs ranked in order. */
export function ranked(jobs: readonly Omit<JobData, 'rank'>[]): JobData[] {
  return jobs.map((j, rank) => ({ ...j, rank }));
}
