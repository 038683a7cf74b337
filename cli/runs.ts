// `sfsync runs`: the run history in sfsync.runs, newest first, as a table or JSON.
import type pg from 'pg';
import { loadConfig, type Env } from '../lib/config.ts';
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
}

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

export function formatRunsTable(runs: readonly RunRecord[], opts: RunsTableOptions = {}): string {
  if (runs.length === 0) return 'No runs recorded yet. Run `sfsync sync`.\n';
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
    return formatTextTable(header, body, { width: opts.width ?? 100, shrink: header.length - 1, optional: [5, 8] });
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
  return formatTextTable(header, body);
}

/** `--object account` finds the runs recorded as Account: API names are case-insensitive in Salesforce. */
async function spelledAsRecorded(client: pg.ClientBase, schema: string, object: string): Promise<string> {
  const { rows } = await client.query<{ object: string }>(
    'SELECT object FROM sfsync.runs WHERE target_schema = $1 AND lower(object) = lower($2) ORDER BY id DESC LIMIT 1',
    [schema, object],
  );
  return rows[0]?.object ?? object;
}

export async function runRuns(opts: RunsOptions, env: Env): Promise<void> {
  const limit = opts.limit ?? 20;
  if (!Number.isInteger(limit) || limit <= 0) throw new ConfigError('--limit must be a positive whole number');
  const config = loadConfig(env, { needSalesforce: false });
  const log = commandLogger(config);
  const db = await openDatabase(config, log);
  try {
    const runs = await withClient(db.pool, async (client) => {
      const object =
        opts.object === undefined ? undefined : await spelledAsRecorded(client, config.schema, opts.object);
      return listRuns(client, { schema: config.schema, object, limit });
    });
    process.stdout.write(
      opts.json
        ? `${JSON.stringify({ schema: config.schema, runs }, null, 2)}\n`
        : formatRunsTable(runs, { wide: opts.wide, width: terminalWidth() }),
    );
  } finally {
    await db.close();
  }
}
