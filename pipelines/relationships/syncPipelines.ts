// Relationship pipelines in a `sfsync sync` run (docs/salesforce.md#relationship-pipelines): choose them (--pipelines),
// check them (their SOQL before login, their paths through describe before any object is loaded), then run their
// reads after the objects, SFSYNC_CONCURRENCY at once, with the API budget guard before each.
import pLimit from 'p-limit';
import type { Config, PipelineOptions } from '../../lib/config.ts';
import { ConfigError } from '../../lib/errors.ts';
import { budgetSettings, createBudget } from '../runtime/apiBudget.ts';
import type { RunContext } from '../runtime/runContext.ts';
import type { RunSummary } from '../sync/syncObject.ts';
import { notStarted } from '../sync/syncAll.ts';
import { checkPipelines, compilePipeline, type PipelineRead } from './compilePipeline.ts';
import type { ParsedPipeline } from './parseSoql.ts';
import { describer } from './resolvePaths.ts';
import { syncRead } from './syncRead.ts';

export interface ChosenPipelines {
  pipelines: PipelineOptions[];
  parsed: ParsedPipeline[];
}

/**
 * The pipelines a run takes: those `--pipelines` names (each must be in the config file), else every configured one
 * unless `--objects` chose objects alone. Their SOQL is checked here, before any login.
 */
export function choosePipelines(config: Config, flags: { pipelines?: string; objects?: string }): ChosenPipelines {
  let pipelines = config.pipelines;
  if (flags.pipelines !== undefined) {
    const names = flags.pipelines
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (names.length === 0) throw new ConfigError('--pipelines: give at least one pipeline name');
    const byName = new Map(config.pipelines.map((p) => [p.name, p]));
    const unknown = names.filter((n) => !byName.has(n));
    if (unknown.length > 0) {
      const known = config.pipelines.map((p) => p.name).join(', ') || 'none';
      throw new ConfigError(`--pipelines: ${unknown.join(', ')} not in the config file's pipelines (known: ${known})`);
    }
    pipelines = names.map((n) => byName.get(n)!);
  } else if (flags.objects !== undefined) {
    pipelines = [];
  }
  return {
    pipelines,
    parsed: checkPipelines(
      pipelines,
      config.objects.map((o) => o.name),
    ),
  };
}

/** Every read of the chosen pipelines, their paths resolved through describe: a ConfigError stops the run here. */
export async function compilePipelines(ctx: RunContext, chosen: ChosenPipelines): Promise<PipelineRead[]> {
  const reads: PipelineRead[] = [];
  for (const [i, p] of chosen.pipelines.entries())
    reads.push(...(await compilePipeline(p, chosen.parsed[i]!, describer(ctx.sf, p.name))));
  return reads;
}

/** Never throws for one read's failure: the summaries say it (object = the read's state key, `pipeline:<table>`). */
export async function syncPipelines(
  ctx: RunContext,
  reads: readonly PipelineRead[],
  fullRefresh: boolean,
): Promise<RunSummary[]> {
  if (reads.length === 0) return [];
  const budget = createBudget(ctx.sf, budgetSettings(ctx.config), ctx.log);
  const limit = pLimit(ctx.config.concurrency);
  return Promise.all(
    reads.map((read) =>
      limit(async (): Promise<RunSummary> => {
        try {
          await budget.check();
        } catch (err) {
          return notStarted(read.spec.stateKey ?? read.spec.table, 'incremental', err);
        }
        const summary = await syncRead({ ...ctx, sf: ctx.sf.fork() }, read, { fullRefresh, budget });
        if (summary.status === 'failed') budget.noteFailure(summary.error);
        return summary;
      }),
    ),
  );
}
