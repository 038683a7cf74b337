// `sfsync worker`: runs the jobs `sfsync schedule --enqueue` (and the commands' --enqueue) put in the queue, on any
// number of machines sharing one PostgreSQL, until SIGINT/SIGTERM. Each job runs under the same advisory object lock
// and watermark rules as a one-process sync; the org's API budget is shared through PostgreSQL. On a signal the worker
// fetches no more jobs, lets the running ones finish for --stop-grace seconds, then stops them: they roll back and go
// back to the queue for another worker.
import { setMaxListeners } from 'node:events';
import { type Env, loadConfigs } from '../lib/config.ts';
import { ConfigError, InterruptedError, oneLine } from '../lib/errors.ts';
import { actionFor } from '../lib/errorActions.ts';
import { commandLogger } from './logger.ts';
import { openDatabase } from '../pipelines/runtime/database.ts';
import { budgetSettings } from '../pipelines/runtime/apiBudget.ts';
import type { RunContext } from '../pipelines/runtime/runContext.ts';
import { describeJob } from '../pipelines/fleet/jobs.ts';
import { leaseTimings, openQueue, type QueuedJob } from '../pipelines/fleet/queue.ts';
import { createOrgSessions } from '../pipelines/fleet/orgSessions.ts';
import { type JobOutcome, runJob } from '../pipelines/fleet/runJob.ts';
import { createSharedBudget } from '../pipelines/fleet/sharedBudget.ts';
import { nextSignal } from './nextSignal.ts';

export interface WorkerOptions {
  /** Jobs at once (default SFSYNC_CONCURRENCY). */
  concurrency?: number;
  /** Only this org's settings and jobs (the other orgs' queues are left to other workers). */
  org?: string;
  sandbox?: boolean;
  /** Seconds the running jobs get to finish after SIGINT/SIGTERM before they are handed back. */
  stopGrace?: string;
}

/** Kubernetes sends SIGKILL 30 s after SIGTERM by default: finish or hand back well before. */
export const DEFAULT_STOP_GRACE_SECONDS = 20;

export async function runWorker(opts: WorkerOptions, env: Env): Promise<void> {
  const grace = Number(opts.stopGrace ?? DEFAULT_STOP_GRACE_SECONDS);
  if (!Number.isFinite(grace) || grace < 0)
    throw new ConfigError(`--stop-grace must be a number of seconds (got '${opts.stopGrace}')`);
  if (opts.concurrency !== undefined && (!Number.isInteger(opts.concurrency) || opts.concurrency < 1))
    throw new ConfigError('--concurrency must be a positive whole number');
  const configs = loadConfigs(env, { sandbox: opts.sandbox, org: opts.org, concurrency: opts.concurrency });
  const first = configs[0]!;
  const log = commandLogger(first);
  const concurrency = opts.concurrency ?? first.concurrency;
  const lease = first.jobLeaseSeconds ?? 7200;
  // Listens before the (slow) start, so a signal during it still stops the worker cleanly.
  const signal = nextSignal();
  const db = await openDatabase({ ...first, concurrency }, log);
  const queue = await openQueue({ url: db.url, leaseSeconds: lease, log, supervise: true }).catch(async (err) => {
    await db.close();
    throw err;
  });
  const sessions = createOrgSessions(configs, db.pool, log);
  const running = new Map<string, { controller: AbortController; done: Promise<unknown> }>();

  const run = async (job: QueuedJob, controller: AbortController): Promise<JobOutcome> => {
    const jobLog = log.child({ job: job.id, org: job.data.org, kind: job.data.kind });
    let ctx: RunContext;
    try {
      ctx = await sessions.contextFor(job.data, controller.signal, jobLog);
    } catch (err) {
      // A refused login or a config without the org would fail alike on a retry.
      if (controller.signal.aborted || actionFor(err) === 'fail-object') throw err;
      return { status: 'failed', detail: oneLine(err) };
    }
    const budget = createSharedBudget(
      db.pool,
      { schema: ctx.config.schema, org: job.data.org },
      ctx.sf,
      budgetSettings(ctx.config),
      jobLog,
    );
    return runJob(ctx, job.data, { budget, enqueue: (jobs) => queue.enqueue(jobs) });
  };

  const handler = async (job: QueuedJob): Promise<JobOutcome> => {
    const controller = new AbortController();
    // Every request and COPY of the job listens on this one signal.
    setMaxListeners(0, controller.signal);
    // Stopped before its lease ends, so that it has rolled back when pg-boss gives the job to another worker.
    // The job's own lease (set by its enqueuer), not this worker's setting: pg-boss retries the job after that one.
    const jobLease = Number.isFinite(job.leaseSeconds) && job.leaseSeconds > 0 ? job.leaseSeconds : lease;
    const leaseTimer = setTimeout(
      () =>
        controller.abort(new InterruptedError(`the job's lease of ${jobLease} s ran out; handed back to the queue`)),
      leaseTimings(jobLease).abortAfterMs,
    );
    const what = describeJob(job.data);
    const started = Date.now();
    log.info({ job: job.id, attempt: job.retryCount + 1 }, `job started: ${what}`);
    const done = run(job, controller);
    const entry = { controller, done: done.catch(() => {}) };
    running.set(job.id, entry);
    try {
      const outcome = await done;
      const line = { job: job.id, ms: Date.now() - started, detail: outcome.detail };
      if (outcome.status === 'failed') log.error(line, `job failed: ${what}`);
      else if (outcome.status === 'skipped') log.warn(line, `job skipped: ${what}`);
      else log.info(line, `job done: ${what}`);
      return outcome;
    } catch (err) {
      log.warn({ job: job.id, ms: Date.now() - started, err: oneLine(err) }, `job handed back for a retry: ${what}`);
      throw err;
    } finally {
      clearTimeout(leaseTimer);
      // A retry of this job may run here already (this attempt outlived its lease): its entry is not this one's.
      if (running.get(job.id) === entry) running.delete(job.id);
    }
  };

  await queue.work(
    configs.map((c) => c.org ?? 'default'),
    concurrency,
    handler,
  );
  log.info({ concurrency, orgs: configs.map((c) => c.org), leaseSeconds: lease }, 'worker started');
  const sig = await signal;
  log.info({ signal: sig, graceSeconds: grace }, 'stopping: no new jobs; waiting for the running ones');
  await queue.stopFetching();
  const allDone = () => Promise.all([...running.values()].map((r) => r.done));
  let graceTimer: NodeJS.Timeout | undefined;
  await Promise.race([allDone(), new Promise((r) => (graceTimer = setTimeout(r, grace * 1000)))]);
  clearTimeout(graceTimer);
  if (running.size > 0) {
    log.warn({ jobs: running.size }, 'stop grace over: rolling back the running jobs and handing them back');
    for (const r of running.values())
      r.controller.abort(new InterruptedError(`interrupted by ${sig}; handed back to the queue`));
    await allDone();
  }
  await queue.close();
  await db.close();
  log.info('worker stopped');
}
