// `sfsync schedule`: sync on cron ticks until SIGINT/SIGTERM. A group's runs never overlap (one run in flight per
// group here; the per-object advisory lock keeps other processes off an object being loaded), a failed run is
// logged and the next tick runs as usual, and a signal stops the ticks and waits for the run in flight.
import { createTask, validate, type ScheduledTask } from 'node-cron';
import { type Config, loadConfig, loadConfigs, type ScheduleGroup, type Env } from '../lib/config.ts';
import { orgOf } from './eachOrg.ts';
import { ConfigError, oneLine } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import { commandLogger } from './logger.ts';
import { withRunContext } from '../pipelines/runtime/runContext.ts';
import { createScheduleMetrics, type ScheduleMetrics, serveMetrics } from '../pipelines/runtime/metrics.ts';
import { nextTick } from '../pipelines/runtime/nextScheduledRun.ts';
import { runFailure, syncAll } from '../pipelines/sync/syncAll.ts';
import { checkObjectFilters } from '../extractors/soqlFilter.ts';
import { openDatabase } from '../pipelines/runtime/database.ts';
import { type JobQueue, openQueue } from '../pipelines/fleet/queue.ts';
import { tickJobs } from '../pipelines/fleet/tickJobs.ts';
import {
  type ChosenPipelines,
  choosePipelines,
  compilePipelines,
  syncPipelines,
} from '../pipelines/relationships/syncPipelines.ts';
import { nextSignal } from './nextSignal.ts';

export interface ScheduleOptions {
  cron?: string;
  objects?: string;
  tz?: string;
  sandbox?: boolean;
  /** Serve /metrics and /healthz on this port. */
  metricsPort?: string;
  metricsHost?: string;
  /** /healthz fails when an object's watermark is older than this; default a day plus the longest schedule period. */
  maxLagMinutes?: string;
  /** One org of the config file's `orgs`; absent = every org's groups. */
  org?: string;
  /** Queue each tick's jobs for `sfsync worker` processes instead of running them (README.md, Worker fleet). */
  enqueue?: boolean;
}

/** One nightly run at 02:00 (in --tz, else the machine's time zone). */
export const DEFAULT_CRON = '0 2 * * *';

/** --cron wins; else the config file's groups; else the nightly default. --objects and --tz override every group. */
export function resolveGroups(opts: ScheduleOptions, fromFile: readonly ScheduleGroup[]): ScheduleGroup[] {
  const objects = opts.objects
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const base = opts.cron ? [{ cron: opts.cron }] : fromFile.length > 0 ? fromFile : [{ cron: DEFAULT_CRON }];
  const groups = base.map((g) => ({ ...g, objects: objects ?? g.objects, timezone: opts.tz ?? g.timezone }));
  for (const g of groups) checkGroup(g);
  return groups;
}

function checkGroup(group: ScheduleGroup): void {
  if (!validate(group.cron)) {
    throw new ConfigError(
      `cron expression '${group.cron}' is not valid: ` +
        'use 5 fields (minute hour day month weekday) or 6 with leading seconds',
    );
  }
  if (group.timezone) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: group.timezone });
    } catch {
      throw new ConfigError(`--tz '${group.timezone}' is not an IANA time zone such as Europe/Paris`);
    }
  }
}

/**
 * A group's cron task and its run in flight. The groups come from --cron, else the config file's `schedule` key (one
 * cron expression or a list of groups, read by lib/config.ts), else DEFAULT_CRON.
 */
interface GroupRunner {
  task: ScheduledTask;
  /** The run in flight, if any. */
  current(): Promise<void> | undefined;
}

/**
 * One sync of the group's objects, then its relationship pipelines (a group that names no objects runs every pipeline,
 * one that names objects none); never throws, so a failed run leaves the schedule running.
 */
async function runOnce(
  config: Config,
  log: Logger,
  metrics?: ScheduleMetrics,
  pipelines?: ChosenPipelines,
): Promise<void> {
  const started = Date.now();
  log.info('scheduled sync started');
  try {
    const summaries = await withRunContext(config, log, async (ctx) => {
      // A filter the org's schema no longer fits fails this run only (exit codes are for one-shot commands).
      await checkObjectFilters(ctx.sf, config.objects);
      const reads = pipelines ? await compilePipelines(ctx, pipelines) : [];
      const result = [...(await syncAll(ctx, false)), ...(await syncPipelines(ctx, reads, false))];
      if (metrics) {
        metrics.recordRun(result, orgOf(config));
        metrics.recordApi(ctx.sf.calls, ctx.sf.lastLimitInfo, orgOf(config));
        const client = await ctx.pool.connect();
        try {
          await metrics.refreshFromDatabase(
            client,
            config.schema,
            config.objects.map((o) => o.name),
            orgOf(config),
          );
        } catch (err) {
          log.warn({ err: oneLine(err) }, 'metrics: cannot read watermarks');
        } finally {
          client.release();
        }
      }
      return result;
    });
    const objects = summaries.map((s) => ({
      object: s.object,
      mode: s.mode,
      status: s.status,
      fetched: s.rowsFetched,
      inserted: s.rowsInserted,
      updated: s.rowsUpdated,
      ms: s.ms,
    }));
    const failure = runFailure(summaries);
    if (failure)
      log.error({ objects, ms: Date.now() - started, err: oneLine(failure) }, 'scheduled sync finished with failures');
    else log.info({ objects, ms: Date.now() - started }, 'scheduled sync finished');
  } catch (err) {
    metrics?.recordRunFailure(
      config.objects.map((o) => o.name),
      oneLine(err),
      orgOf(config),
    );
    log.error({ ms: Date.now() - started, err: oneLine(err) }, 'scheduled sync failed');
  }
}

/** The queue and database of a scheduler whose ticks only queue jobs (--enqueue). */
interface Fleet {
  queue: JobQueue;
  refreshMetrics(config: Config, metrics: ScheduleMetrics): Promise<void>;
  close(): Promise<void>;
}

async function openFleet(config: Config, log: Logger): Promise<Fleet> {
  const db = await openDatabase(config, log);
  const leaseSeconds = config.jobLeaseSeconds ?? 7200;
  // The workers look after expired leases; a scheduler only queues.
  const queue = await openQueue({ url: db.url, leaseSeconds, log, supervise: false }).catch(async (err) => {
    await db.close();
    throw err;
  });
  return {
    queue,
    async refreshMetrics(c, metrics) {
      const client = await db.pool.connect();
      try {
        const objects = c.objects.map((o) => o.name);
        await metrics.refreshFromDatabase(client, c.schema, objects, orgOf(c), { latestRuns: true });
      } finally {
        client.release();
      }
    },
    close: async () => {
      await queue.close();
      await db.close();
    },
  };
}

/** A tick of --enqueue: the group's jobs queued for the workers; never throws, so the schedule runs on. */
async function enqueueOnce(
  config: Config,
  log: Logger,
  fleet: Fleet,
  metrics?: ScheduleMetrics,
  pipelines?: ChosenPipelines,
): Promise<void> {
  try {
    const jobs = tickJobs(config, pipelines);
    const queued = await fleet.queue.enqueue(jobs);
    // A job still waiting from an earlier tick (or queued by another scheduler) is not queued twice.
    log.info({ queued, alreadyWaiting: jobs.length - queued }, 'scheduled jobs queued for the workers');
    if (metrics) await fleet.refreshMetrics(config, metrics);
  } catch (err) {
    log.error({ err: oneLine(err) }, 'scheduled jobs not queued');
  }
}

function startGroup(
  group: ScheduleGroup,
  config: Config,
  log: Logger,
  metrics?: ScheduleMetrics,
  pipelines?: ChosenPipelines,
  fleet?: Fleet,
): GroupRunner {
  let inFlight: Promise<void> | undefined;
  const tick = async () => {
    // node-cron's noOverlap already skips busy ticks; this flag also covers the shutdown wait below.
    if (inFlight) {
      log.warn('previous run still in progress: tick skipped');
      return;
    }
    const work = fleet ? enqueueOnce(config, log, fleet, metrics, pipelines) : runOnce(config, log, metrics, pipelines);
    inFlight = work.finally(() => {
      inFlight = undefined;
      log.info({ nextRun: task.getNextRun()?.toISOString() ?? null }, 'waiting for the next tick');
    });
    await inFlight;
  };
  const task = createTask(group.cron, tick, { timezone: group.timezone, noOverlap: true, name: group.cron });
  task.on('execution:overlap', () => log.warn('previous run still in progress: tick skipped'));
  void task.start();
  log.info(
    { cron: group.cron, timezone: group.timezone ?? null, nextRun: task.getNextRun()?.toISOString() ?? null },
    'schedule started',
  );
  return { task, current: () => inFlight };
}

export async function runSchedule(opts: ScheduleOptions, env: Env): Promise<void> {
  const orgs = loadConfigs(env, { objects: opts.objects, sandbox: opts.sandbox, org: opts.org });
  const log = commandLogger(orgs[0]!);
  // Each org's groups (its own `schedule`, else the file's, else the nightly default), each group with its own config.
  // Settings are checked once, up front: a missing key fails now with exit code 2, not at 02:00.
  const plans = orgs.flatMap((base) =>
    resolveGroups(opts, base.schedule).map((group) => {
      const objects = group.objects?.join(',');
      const config = loadConfig(env, { objects, sandbox: opts.sandbox, org: base.org });
      return { group, config, pipelines: choosePipelines(config, { objects }) };
    }),
  );
  const groups = plans.map((p) => p.group);
  const metrics = opts.metricsPort ? createScheduleMetrics({ maxLagSeconds: maxLagSeconds(opts, groups) }) : undefined;
  const server = metrics ? await startMetricsServer(metrics, opts, log) : undefined;
  const fleet = opts.enqueue ? await openFleet(orgs[0]!, log) : undefined;
  // The workers' runs reach /healthz through the database: read between ticks too.
  const refresh =
    fleet && metrics
      ? setInterval(() => {
          for (const p of plans)
            fleet.refreshMetrics(p.config, metrics).catch((err: unknown) => {
              log.warn({ err: oneLine(err) }, 'metrics: cannot read watermarks');
            });
        }, 30_000)
      : undefined;
  const signal = nextSignal();
  const runners = plans.map(({ group, config, pipelines }) =>
    startGroup(
      group,
      config,
      log.child({
        ...(orgs.length > 1 ? { org: orgOf(config) } : {}),
        cron: group.cron,
        objects: config.objects.map((o) => o.name),
      }),
      metrics,
      pipelines,
      fleet,
    ),
  );
  if (fleet && metrics) await Promise.all(plans.map((p) => fleet.refreshMetrics(p.config, metrics).catch(() => {})));
  const sig = await signal;
  // withRunContext's own SIGINT/SIGTERM handler has already aborted the run in flight: it rolls back and returns.
  log.info({ signal: sig }, 'stopping: no new runs; waiting for the run in flight');
  for (const r of runners) await r.task.destroy();
  await Promise.all(runners.map((r) => r.current()));
  clearInterval(refresh);
  await fleet?.close();
  await server?.close();
  log.info('schedule stopped');
}

/** --max-lag-minutes, else a day plus the longest time between two ticks of any group: one missed night is fine. */
export function maxLagSeconds(opts: ScheduleOptions, groups: readonly ScheduleGroup[], now = new Date()): number {
  if (opts.maxLagMinutes !== undefined) {
    const minutes = Number(opts.maxLagMinutes);
    if (!Number.isFinite(minutes) || minutes <= 0)
      throw new ConfigError(`--max-lag-minutes must be a positive number (got '${opts.maxLagMinutes}')`);
    return minutes * 60;
  }
  let period = 0;
  for (const g of groups) {
    const first = nextTick(g.cron, g.timezone, now);
    const second = first && nextTick(g.cron, g.timezone, first);
    if (first && second) period = Math.max(period, (second.getTime() - first.getTime()) / 1000);
  }
  return 86_400 + period;
}

async function startMetricsServer(metrics: ScheduleMetrics, opts: ScheduleOptions, log: Logger) {
  const port = Number(opts.metricsPort);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new ConfigError(`--metrics-port must be a port number (got '${opts.metricsPort}')`);
  const host = opts.metricsHost ?? '0.0.0.0';
  try {
    const server = await serveMetrics(metrics, port, host);
    log.info({ host, port: server.port }, 'serving /metrics and /healthz');
    return server;
  } catch (err) {
    throw new ConfigError(`--metrics-port ${port}: cannot listen on ${host}: ${oneLine(err)}`);
  }
}
