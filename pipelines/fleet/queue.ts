// The fleet's job queue: pg-boss (README.md, Worker fleet, says why this engine) in the schema sfsync_queue of the
// same PostgreSQL. One queue, policy `short` (one waiting job per key, pipelines/fleet/jobs.ts singletonKey); every
// job carries its lease (expireInSeconds): pg-boss's maintenance fails a job held longer, which is how a job of a
// dead worker runs again, on any worker, after the lease.
import PgBoss from 'pg-boss';
import { oneLine } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import { type JobData, jobPriority, singletonKey } from './jobs.ts';

export const QUEUE_SCHEMA = 'sfsync_queue';
export const QUEUE_NAME = 'sfsync';

/** Attempts after the first: for a lease that ran out, a worker stopped past its grace, a failure worth a retry. */
const RETRY_LIMIT = 3;

/**
 * How often a worker looks for expired leases, and how long a failed job waits before its retry: a fraction of the
 * lease, so a short test lease recovers in seconds and the default two hours checks every two minutes.
 */
export function leaseTimings(leaseSeconds: number): {
  maintenanceSeconds: number;
  retryDelaySeconds: number;
  /** A worker stops its own job this long after it started (a tenth of the lease, at most 30 s, before its end). */
  abortAfterMs: number;
} {
  return {
    maintenanceSeconds: Math.max(1, Math.min(120, Math.floor(leaseSeconds / 8))),
    retryDelaySeconds: Math.max(1, Math.min(60, Math.floor(leaseSeconds / 60))),
    abortAfterMs: leaseSeconds * 1000 - Math.min(30_000, leaseSeconds * 100),
  };
}

export interface QueuedJob {
  id: string;
  data: JobData;
  /** Attempts before this one. */
  retryCount: number;
}

export interface JobQueue {
  /** Queues the jobs; a job whose key already waits is not queued again. Returns how many were queued. */
  enqueue(jobs: readonly JobData[]): Promise<number>;
  /**
   * Runs `handler` for the queue's jobs, `concurrency` at a time: its result completes the job, a throw fails it (and
   * pg-boss retries it after the delay while attempts are left).
   */
  work(concurrency: number, handler: (job: QueuedJob) => Promise<unknown>): Promise<void>;
  /** Fetch no more jobs (those running go on). */
  stopFetching(): Promise<void>;
  close(): Promise<void>;
}

export interface QueueOptions {
  url: string;
  leaseSeconds: number;
  log: Logger;
  /** Workers look after expired leases; a scheduler that only enqueues does not. */
  supervise: boolean;
  /** Seconds between two looks for a job while idle. */
  pollSeconds?: number;
}

export async function openQueue(opts: QueueOptions): Promise<JobQueue> {
  const { maintenanceSeconds, retryDelaySeconds } = leaseTimings(opts.leaseSeconds);
  const boss = new PgBoss({
    connectionString: opts.url,
    schema: QUEUE_SCHEMA,
    application_name: 'sfsync-queue',
    max: 4,
    supervise: opts.supervise,
    // sfsync schedules with its own cron (cli/schedule.ts); pg-boss's clock monitor is not needed.
    schedule: false,
    maintenanceIntervalSeconds: maintenanceSeconds,
  });
  boss.on('error', (err: Error) => opts.log.warn({ err: oneLine(err) }, 'job queue'));
  await boss.start();
  await boss.createQueue(QUEUE_NAME, { name: QUEUE_NAME, policy: 'short' });
  return {
    async enqueue(jobs) {
      let queued = 0;
      for (const data of jobs) {
        const id = await boss.send(QUEUE_NAME, data as object, {
          priority: jobPriority(data),
          singletonKey: singletonKey(data),
          expireInSeconds: opts.leaseSeconds,
          retryLimit: RETRY_LIMIT,
          retryDelay: retryDelaySeconds,
        });
        if (id) queued++;
      }
      return queued;
    },
    async work(concurrency, handler) {
      // pg-boss 10 runs one job at a time per work() loop: `concurrency` loops.
      for (let i = 0; i < concurrency; i++)
        await boss.work<JobData>(
          QUEUE_NAME,
          { pollingIntervalSeconds: opts.pollSeconds ?? 1, batchSize: 1, includeMetadata: true },
          async ([job]) => handler({ id: job!.id, data: job!.data, retryCount: job!.retryCount }),
        );
    },
    async stopFetching() {
      await boss.offWork(QUEUE_NAME);
    },
    async close() {
      // The jobs have ended (the caller waited for them): nothing is left to hand back.
      await boss.stop({ graceful: true, timeout: 5_000, wait: true });
    },
  };
}
