// The fleet's job queue: pg-boss (README.md, Worker fleet, says why this engine) in the schema sfsync_queue of the
// same PostgreSQL. One queue per org (queueOf), policy `short` (one waiting job per key, pipelines/fleet/jobs.ts
// singletonKey): a worker fetches only its config's orgs' jobs, so one started with --org (or an old config during a
// rollout) never takes, and fails, a job it cannot run. Every job carries its lease (expireInSeconds): pg-boss's
// maintenance fails a job held longer, which is how a job of a dead worker runs again, on any worker, after the lease.
import PgBoss from 'pg-boss';
import { oneLine } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import { type JobData, jobPriority, singletonKey } from './jobs.ts';

export const QUEUE_SCHEMA = 'sfsync_queue';

/** The org's queue: its jobs ranked by jobPriority among themselves. */
export function queueOf(org: string): string {
  return `sfsync.${org}`;
}

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
  /** The job's own lease, as its enqueuer set it: pg-boss retries the job once it is over. */
  leaseSeconds: number;
}

export interface JobQueue {
  /** Queues the jobs; a job whose key already waits is not queued again. Returns how many were queued. */
  enqueue(jobs: readonly JobData[]): Promise<number>;
  /**
   * Runs `handler` for the jobs of these orgs' queues, `concurrency` at a time in all: its result completes the job,
   * a throw fails it (and pg-boss retries it after the delay while attempts are left).
   */
  work(orgs: readonly string[], concurrency: number, handler: (job: QueuedJob) => Promise<unknown>): Promise<void>;
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
  const created = new Set<string>();
  const queueFor = async (org: string): Promise<string> => {
    const name = queueOf(org);
    if (!created.has(name)) {
      await boss.createQueue(name, { name, policy: 'short' });
      created.add(name);
    }
    return name;
  };
  let fetching = true;
  const inFlight = new Set<Promise<unknown>>();
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  return {
    async enqueue(jobs) {
      let queued = 0;
      for (const data of jobs) {
        const id = await boss.send(await queueFor(data.org), data as object, {
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
    async work(orgs, concurrency, handler) {
      const names: string[] = [];
      for (const org of orgs) names.push(await queueFor(org));
      // pg-boss 10's work() polls one queue: `concurrency` loops of its own, each taking the next job of the orgs'
      // queues in turn (from a different org each time), keep the worker's concurrency across all its orgs.
      let turn = 0;
      const loop = async () => {
        while (fetching) {
          let found = false;
          for (let k = 0; k < names.length && fetching; k++) {
            const name = names[turn++ % names.length]!;
            const fetched = boss.fetch<JobData>(name, { batchSize: 1, includeMetadata: true }).catch((err: Error) => {
              opts.log.warn({ err: oneLine(err) }, 'job queue');
              return [];
            });
            inFlight.add(fetched);
            const [job] = await fetched;
            inFlight.delete(fetched);
            if (!job) continue;
            found = true;
            const queued: QueuedJob = {
              id: job.id,
              data: job.data,
              retryCount: job.retryCount,
              // EXTRACT(epoch ...) comes back from PostgreSQL as a numeric string.
              leaseSeconds: Number(job.expireInSeconds),
            };
            // Not recorded (PostgreSQL away): the job's lease runs out and pg-boss retries it.
            const unrecorded = (err: Error) => opts.log.warn({ job: job.id, err: oneLine(err) }, 'job queue');
            try {
              const output = await handler(queued);
              await boss.complete(name, job.id, output as object).catch(unrecorded);
            } catch (err) {
              await boss.fail(name, job.id, err as object).catch(unrecorded);
            }
            break;
          }
          if (!found && fetching) await sleep((opts.pollSeconds ?? 1) * 1000);
        }
      };
      for (let i = 0; i < concurrency; i++)
        void loop().catch((err: unknown) => opts.log.error({ err: oneLine(err) }, 'job queue: a worker loop stopped'));
    },
    async stopFetching() {
      fetching = false;
      // A job fetched meanwhile has started (its handler runs) once this resolves: the caller waits for it too.
      await Promise.all(inFlight);
      await new Promise((r) => setImmediate(r));
    },
    async close() {
      // The jobs have ended (the caller waited for them): nothing is left to hand back.
      await boss.stop({ graceful: true, timeout: 5_000, wait: true });
    },
  };
}
