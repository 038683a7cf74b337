// `sfsync runs`: the run history in sfsync.runs, newest first, as a table or JSON.
import type pg from 'pg';
import { type Config, loadConfigs, type Env } from '../lib/config.ts';
import { orgOf } from './eachOrg.ts';
import { ConfigError } from '../lib/errors.ts';
import { commandLogger } from './logger.ts';
import { withClient } from '../loaders/postgres.ts';
import { listRuns, type RunRecord } from '../loaders/state.ts';
import { openDatabase } from '../pipelines/runtime/database.ts';
import { formatCount } from '../lib/format.ts';
import { formatRelativeTime, formatSeconds, formatTextTable, terminalWidth } from './textTable.ts';

export interface RunsOptions {
  object?: string;
  limit?: number;
  json?: boolean;
  wide?: boolean;
  /** One org of the config file's `orgs`; absent = every org. */
  org?: string;
}

/** A run of one of several orgs: the table gets an org column. */
type OrgRun = RunRecord & { org?: string };

const count = (n: number | null) => (n === null ? '' : formatCount(n));

/** `from .. to` of an incremental or backfill window; empty for whole-object loads. */
function window(run: RunRecord): string {
  if (!run.windowFrom && !run.windowTo) return '';
  return `${run.windowFrom ?? ''}..${run.windowTo ?? ''}`;
}

export interface RunsTableOptions {
  /** Every column, timestamps in full, however wide. */
  wide?: boolean;
  /** The widest a line may be (the terminal's columns); not applied with `wide`. */
  width?: number;
  now?: Date;
}

export function formatRunsTable(runs: readonly OrgRun[], opts: RunsTableOptions = {}): string {
  if (runs.length === 0) return 'No runs recorded yet. Run `sfsync sync`.\n';
  const orgs = runs.some((r) => r.org !== undefined);
  const withOrg = (header: string[], body: string[][]) =>
    orgs ? { header: ['org', ...header], body: body.map((row, i) => [runs[i]!.org ?? '', ...row]) } : { header, body };
  const shift = orgs ? 1 : 0;
  if (!opts.wide) {
    const now = opts.now ?? new Date();
    const header = ['id', 'object', 'mode', 'status', 'started', 'duration', 'fetched', 'inserted', 'updated', 'error'];
    const body = runs.map((r) => [
      String(r.id),
      r.object,
      r.mode,
      r.status,
      formatRelativeTime(r.startedAt, now),
      formatSeconds(r.durationMs),
      count(r.rowsFetched),
      count(r.rowsInserted),
      count(r.rowsUpdated),
      r.error ?? '',
    ]);
    // Long object names and errors: the duration, then the updates, make room first.
    const t = withOrg(header, body);
    return formatTextTable(t.header, t.body, {
      width: opts.width ?? 100,
      shrink: t.header.length - 1,
      optional: [5 + shift, 8 + shift],
    });
  }
  const header = [
    'id',
    'object',
    'mode',
    'status',
    'started',
    'duration',
    'fetched',
    'inserted',
    'updated',
    'deleted',
    'MB',
    'api calls',
    'bulk jobs',
    'window',
    'error',
  ];
  const body = runs.map((r) => [
    String(r.id),
    r.object,
    r.mode,
    r.status,
    r.startedAt,
    formatSeconds(r.durationMs),
    count(r.rowsFetched),
    count(r.rowsInserted),
    count(r.rowsUpdated),
    count(r.rowsDeleted),
    r.bytes === null ? '' : (r.bytes / 1_000_000).toFixed(1),
    count(r.apiCalls),
    String(r.bulkJobIds.length || ''),
    window(r),
    r.error ?? '',
  ]);
  const t = withOrg(header, body);
  return formatTextTable(t.header, t.body);
}

/** `--object account` finds the runs recorded as Account: API names are case-insensitive in Salesforce. */
async function spelledAsRecorded(client: pg.ClientBase, schema: string, object: string): Promise<string> {
  const { rows } = await client.query<{ object: string }>(
    'SELECT object FROM sfsync.runs WHERE target_schema = $1 AND lower(object) = lower($2) ORDER BY id DESC LIMIT 1',
    [schema, object],
  );
  return rows[0]?.object ?? object;
}

/** The org's newest runs. */
async function orgRuns(client: pg.ClientBase, config: Config, opts: RunsOptions, limit: number): Promise<RunRecord[]> {
  const object = opts.object === undefined ? undefined : await spelledAsRecorded(client, config.schema, opts.object);
  return listRuns(client, { schema: config.schema, object, limit });
}

export async function runRuns(opts: RunsOptions, env: Env): Promise<void> {
  const limit = opts.limit ?? 20;
  if (!Number.isInteger(limit) || limit <= 0) throw new ConfigError('--limit must be a positive whole number');
  const configs = loadConfigs(env, { needSalesforce: false, org: opts.org });
  // Database and logging settings are the same for every org.
  const log = commandLogger(configs[0]!);
  const db = await openDatabase(configs[0]!, log);
  try {
    if (configs.length === 1) {
      const config = configs[0]!;
      const runs = await withClient(db.pool, (client) => orgRuns(client, config, opts, limit));
      process.stdout.write(
        opts.json
          ? `${JSON.stringify({ org: orgOf(config), schema: config.schema, runs }, null, 2)}\n`
          : formatRunsTable(runs, { wide: opts.wide, width: terminalWidth() }),
      );
      return;
    }
    // Several orgs: the newest `limit` runs of them all (each org's newest `limit` hold them), newest first.
    const runs = await withClient(db.pool, async (client) => {
      const all: (RunRecord & { org: string; schema: string })[] = [];
      for (const config of configs)
        for (const r of await orgRuns(client, config, opts, limit))
          all.push({ ...r, org: orgOf(config), schema: config.schema });
      return all.sort((a, b) => b.id - a.id).slice(0, limit);
    });
    process.stdout.write(
      opts.json
        ? `${JSON.stringify({ runs }, null, 2)}\n`
        : formatRunsTable(runs, { wide: opts.wide, width: terminalWidth() }),
    );
  } finally {
    await db.close();
  }
}
