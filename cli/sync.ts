// `sfsync sync`: resolve the objects, run syncObject for each (p-limit), print a summary, set the exit code.
import { type Config, loadConfigs, type Env } from '../lib/config.ts';
import { BudgetError, ObjectsFailedError, oneLine, type SfsyncError } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import { eachOrg, orgOf, orgsFailure } from './eachOrg.ts';
import { commandLogger } from './logger.ts';
import { type FormulaSummary, refreshFormulasAll } from '../pipelines/completeness/formulas.ts';
import type { RunSummary } from '../pipelines/sync/syncObject.ts';
import { runFailure } from '../pipelines/sync/syncAll.ts';
import { syncAll } from '../pipelines/sync/syncAll.ts';
import { withRunContext } from '../pipelines/runtime/runContext.ts';
import { withKnownObjects } from '../pipelines/runtime/objectNames.ts';
import {
  type ChosenPipelines,
  choosePipelines,
  compilePipelines,
  syncPipelines,
} from '../pipelines/relationships/syncPipelines.ts';
import { formatCount } from '../lib/format.ts';
import { formatSeconds, formatTextTable } from './textTable.ts';

export interface SyncOptions {
  objects?: string;
  /** Relationship pipelines to run (names from the config file); alone, no objects are synced. */
  pipelines?: string;
  fullRefresh?: boolean;
  formulasOnly?: boolean;
  sandbox?: boolean;
  concurrency?: number;
  waitForLock?: boolean;
  /** One org of the config file's `orgs`; absent = every org, one after the other. */
  org?: string;
}

const SUMMARY_HEADER = ['object', 'mode', 'result'];

export function formatSummary(summaries: RunSummary[]): string {
  return formatTextTable(SUMMARY_HEADER, summaryRows(summaries));
}

function summaryRows(summaries: RunSummary[]): string[][] {
  return summaries.map((s) => {
    if (s.notStarted) return [s.object, '', `NOT STARTED: ${oneLine(s.error)}`];
    const failed = s.error instanceof BudgetError ? 'STOPPED' : 'FAILED';
    const counts = `${formatCount(s.rowsFetched)} read, ${formatCount(s.rowsInserted)} inserted`;
    const what =
      s.status === 'succeeded'
        ? `${counts}, ${formatCount(s.rowsUpdated)} updated via ${s.via}`
        : `${failed}: ${oneLine(s.error)}`;
    return [s.object, s.mode, `${what} (${formatSeconds(s.ms)})`];
  });
}

/** `sync --formulas-only`: the same columns as a sync, with `formulas` as the mode. */
export function formatFormulaSummary(summaries: FormulaSummary[]): string {
  return formatTextTable(SUMMARY_HEADER, formulaRows(summaries));
}

function formulaRows(summaries: FormulaSummary[]): string[][] {
  return summaries.map((s) => {
    const what =
      s.status === 'skipped'
        ? 'no formula fields'
        : s.status === 'failed'
          ? `FAILED: ${oneLine(s.error)}`
          : `${s.fields} fields, ${formatCount(s.fetched)} read, ${formatCount(s.updated)} updated`;
    return [s.object, 'formulas', what];
  });
}

/** One org's summary rows and the error it ends with. */
interface OrgSync {
  rows: string[][];
  failure: SfsyncError | undefined;
}

async function syncOrg(
  config: Config,
  opts: SyncOptions,
  chosen: ChosenPipelines | undefined,
  log: Logger,
): Promise<OrgSync> {
  if (opts.formulasOnly || !chosen) {
    const results = await withRunContext(config, log, async (ctx) => refreshFormulasAll(await withKnownObjects(ctx)));
    const failed = results.find((r) => r.status === 'failed');
    const failure = failed && new ObjectsFailedError(`${failed.object}: ${oneLine(failed.error)}`);
    return { rows: formulaRows(results), failure };
  }
  // Pipelines run after the objects; `--pipelines` alone runs only them.
  const objectsToo = opts.pipelines === undefined || opts.objects !== undefined;
  const summaries = await withRunContext(config, log, async (ctx) => {
    const reads = await compilePipelines(ctx, chosen);
    const objects = objectsToo ? await syncAll(await withKnownObjects(ctx), Boolean(opts.fullRefresh)) : [];
    return [...objects, ...(await syncPipelines(ctx, reads, Boolean(opts.fullRefresh)))];
  });
  return { rows: summaryRows(summaries), failure: runFailure(summaries) };
}

export async function runSync(opts: SyncOptions, env: Env): Promise<void> {
  const configs = loadConfigs(env, {
    objects: opts.objects,
    sandbox: opts.sandbox,
    concurrency: opts.concurrency,
    waitForLock: opts.waitForLock,
    org: opts.org,
  });
  const log = commandLogger(configs[0]!);
  // Every org's pipelines are checked (their SOQL, their paths) before any org logs in.
  const chosen = configs.map((config) => (opts.formulasOnly ? undefined : choosePipelines(config, opts)));
  if (configs.length === 1) {
    const { rows, failure } = await syncOrg(configs[0]!, opts, chosen[0], log);
    process.stdout.write(formatTextTable(SUMMARY_HEADER, rows));
    if (failure) throw failure;
    return;
  }
  // One org after the other, each with its own login, API budget guard and summary rows.
  const outcomes = await eachOrg(configs, (config) =>
    syncOrg(config, opts, chosen[configs.indexOf(config)], log.child({ org: orgOf(config) })),
  );
  const rows = outcomes.flatMap(({ config, result, error }) =>
    result ? result.rows.map((row) => [orgOf(config), ...row]) : [[orgOf(config), '', '', `FAILED: ${oneLine(error)}`]],
  );
  process.stdout.write(formatTextTable(['org', ...SUMMARY_HEADER], rows));
  const failures = outcomes.flatMap(({ config, result, error }) => {
    const why = error ?? result?.failure;
    return why ? [{ org: orgOf(config), error: why }] : [];
  });
  const failure = orgsFailure(failures);
  if (failure) throw failure;
}
