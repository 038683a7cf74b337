// `sfsync schedule`: sync on cron ticks until SIGINT/SIGTERM. A group's runs never overlap (one run in flight per
// group here; the per-object advisory lock keeps other processes off an object being loaded), a failed run is
// logged and the next tick runs as usual, and a signal stops the ticks and waits for the run in flight.
import { createTask, validate, type ScheduledTask } from 'node-cron';
import { type Config, loadConfig, type ScheduleGroup, type Env } from '../lib/config.ts';
import { ConfigError, oneLine } from '../lib/errors.ts';
import { createLogger, type Logger } from '../lib/log.ts';
import { withRunContext } from '../pipelines/runtime/runContext.ts';
import { runFailure, syncAll } from '../pipelines/sync/syncAll.ts';

export interface ScheduleOptions {
  cron?: string;
  objects?: string;
  tz?: string;
  sandbox?: boolean;
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
      `cron expression '${group.cron}' is not valid: use 5 fields (minute hour day month weekday) or 6 with leading seconds`,
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

/** One sync of the group's objects; never throws, so a failed run leaves the schedule running. */
async function runOnce(config: Config, log: Logger): Promise<void> {
  const started = Date.now();
  log.info('scheduled sync started');
  try {
    const summaries = await withRunContext(config, log, (ctx) => syncAll(ctx, false));
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
    log.error({ ms: Date.now() - started, err: oneLine(err) }, 'scheduled sync failed');
  }
}

function startGroup(group: ScheduleGroup, config: Config, log: Logger): GroupRunner {
  let inFlight: Promise<void> | undefined;
  const tick = async () => {
    // node-cron's noOverlap already skips busy ticks; this flag also covers the shutdown wait below.
    if (inFlight) {
      log.warn('previous run still in progress: tick skipped');
      return;
    }
    inFlight = runOnce(config, log).finally(() => {
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

function nextSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals) => {
      process.off('SIGINT', on).off('SIGTERM', on);
      resolve(sig);
    };
    process.on('SIGINT', on).on('SIGTERM', on);
  });
}

export async function runSchedule(opts: ScheduleOptions, env: Env): Promise<void> {
  const base = loadConfig(env, { objects: opts.objects, sandbox: opts.sandbox });
  const log = createLogger({ level: base.logLevel, pretty: process.stderr.isTTY });
  const groups = resolveGroups(opts, base.schedule);
  // Settings are checked once, up front: a missing key fails now with exit code 2, not at 02:00.
  const configs = groups.map((g) => loadConfig(env, { objects: g.objects?.join(','), sandbox: opts.sandbox }));
  const signal = nextSignal();
  const runners = groups.map((g, i) =>
    startGroup(g, configs[i]!, log.child({ cron: g.cron, objects: configs[i]!.objects.map((o) => o.name) })),
  );
  const sig = await signal;
  // withRunContext's own SIGINT/SIGTERM handler has already aborted the run in flight: it rolls back and returns.
  log.info({ signal: sig }, 'stopping: no new runs; waiting for the run in flight');
  for (const r of runners) await r.task.destroy();
  await Promise.all(runners.map((r) => r.current()));
  log.info('schedule stopped');
}
