// `sfsync push`: write rows of a PostgreSQL table, view or query to Salesforce through Bulk API 2.0 ingest jobs.
import { formatCount } from '../lib/format.ts';
import type { IngestOperation } from '../extractors/bulk/ingestJob.ts';
import { type Env, loadConfig } from '../lib/config.ts';
import { ConfigError, PushRowsFailedError } from '../lib/errors.ts';
import { type PushOutcome, type PushPlan, planOrPush } from '../pipelines/push/push.ts';
import { withRunContext } from '../pipelines/runtime/runContext.ts';
import { commandLogger } from './logger.ts';
import { formatTextTable } from './textTable.ts';

export interface PushFlags {
  /** --org: the org of the config file's `orgs` (required when it lists several). */
  org?: string;
  object?: string;
  from?: string;
  sql?: string;
  operation?: string;
  externalId?: string;
  dryRun?: boolean;
  onlyFailed?: string;
  jobSizeMb?: string;
  sandbox?: boolean;
}

export function formatPlan(plan: PushPlan): string {
  const mapping = formatTextTable(
    ['column', 'PostgreSQL type', 'field', 'Salesforce type'],
    plan.mapping.columns.map((m) => [m.column, m.pgType, m.field, m.sfType]),
  );
  return (
    `${mapping}\n${formatCount(plan.rows)} rows in ${plan.jobs} job${plan.jobs === 1 ? '' : 's'}; ` +
    `nothing was sent (--dry-run)\n\n` +
    `CSV sample:\n${plan.sample}`
  );
}

export function formatOutcome(out: PushOutcome): string {
  const head =
    `push run ${out.runId}: ${formatCount(out.rows)} rows in ` +
    `${out.jobs.length} job${out.jobs.length === 1 ? '' : 's'}, ` +
    `${formatCount(out.succeeded)} succeeded, ${formatCount(out.failed)} failed\n`;
  if (out.errors.length === 0) return head;
  const table = formatTextTable(
    ['error code', 'rows', 'example message'],
    out.errors.map((e) => [
      e.errorCode,
      formatCount(e.rows),
      e.example.length > 80 ? `${e.example.slice(0, 79)}…` : e.example,
    ]),
  );
  return `${head}\n${table}`;
}

function positive(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new ConfigError(`${flag} ${value}: expected a positive number`);
  return n;
}

export async function runPush(flags: PushFlags, env: Env): Promise<void> {
  const config = loadConfig(env, { sandbox: flags.sandbox, org: flags.org });
  if (!flags.object) throw new ConfigError('push: --object <name> is required');
  if ((flags.from === undefined) === (flags.sql === undefined))
    throw new ConfigError('push: give exactly one of --from <table or view> and --sql "SELECT ..."');
  const operation = flags.operation as IngestOperation;
  const onlyFailed = positive('--only-failed', flags.onlyFailed);
  const jobSizeMb = positive('--job-size-mb', flags.jobSizeMb);
  // docs/salesforce.md#bulk-api-20-ingest: 150 MB after base64 is about 100 MB of raw CSV.
  if (jobSizeMb !== undefined && jobSizeMb > 100) throw new ConfigError(`--job-size-mb ${jobSizeMb}: at most 100`);
  const log = commandLogger(config);
  const result = await withRunContext(config, log, (ctx) =>
    planOrPush(ctx, {
      object: flags.object!,
      operation,
      from: flags.from,
      sql: flags.sql,
      externalId: flags.externalId,
      dryRun: flags.dryRun,
      onlyFailed,
      jobBytes: jobSizeMb === undefined ? undefined : Math.floor(jobSizeMb * 1024 * 1024),
    }),
  );
  if ('mapping' in result) {
    process.stdout.write(formatPlan(result));
    return;
  }
  process.stdout.write(formatOutcome(result));
  if (result.failed > 0)
    throw new PushRowsFailedError(
      `${formatCount(result.failed)} of ${formatCount(result.rows)} rows failed ` +
        `(push run ${result.runId}; see sfsync.push_results, ` +
        `fix them, then rerun with --only-failed ${result.runId})`,
    );
}
