// sfsync run in-process by the integration tests: the Config a command would read, `sfsync sync` (syncAll under
// withRunContext, logging nothing) and the ObjectSpec sfsync derives from a describe.
import { type Config, loadConfig } from '../../lib/config.ts';
import { silentLogger } from '../../lib/log.ts';
import { describeObject } from '../../extractors/describe.ts';
import type { ProgressReporter } from '../../pipelines/runtime/progress.ts';
import { type RunContext, withRunContext } from '../../pipelines/runtime/runContext.ts';
import { syncAll } from '../../pipelines/sync/syncAll.ts';
import type { RunSummary } from '../../pipelines/sync/syncObject.ts';
import type { ObjectSpec } from '../../schemas/records.ts';

/**
 * The Config of `sfsync sync --objects <objects>` under `env` (LOG_LEVEL silent unless `env` says otherwise), run in
 * `cwd`; without objects, the objects of the config file found from `cwd`.
 */
export function syncConfig(env: Record<string, string>, objects?: readonly string[], cwd?: string): Readonly<Config> {
  return loadConfig({ LOG_LEVEL: 'silent', ...env }, objects ? { objects: objects.join(',') } : {}, cwd);
}

export interface SyncOptions {
  /** `--full-refresh`. */
  fullRefresh?: boolean;
  /** Runs once logged in and the database is ready, just before the first object starts. */
  before?: (ctx: RunContext) => void;
  /** Where the live progress goes instead of the run's own display. */
  progress?: ProgressReporter;
}

/** One `sfsync sync` in-process: a summary per object, in the config's object order. */
export async function syncInProcess(config: Config, opts: SyncOptions = {}): Promise<RunSummary[]> {
  return withRunContext(config, silentLogger(), (ctx) => {
    opts.before?.(ctx);
    return syncAll(opts.progress ? { ...ctx, progress: opts.progress } : ctx, opts.fullRefresh ?? false);
  });
}

/** The summaries of one run keyed by object name. */
export function byObject(summaries: readonly RunSummary[]): Map<string, RunSummary> {
  return new Map(summaries.map((s) => [s.object, s]));
}

/** The ObjectSpec sfsync derives from the object's describe (what the warehouse table is built from). */
export async function describeSpec(config: Config, object: string): Promise<ObjectSpec> {
  return (await withRunContext(config, silentLogger(), (ctx) => describeObject(ctx.sf, object))).spec;
}
