// `sfsync status`: per object, the watermark, the last run and the table's row count; a table or --json.
import type pg from 'pg';
import { loadConfig } from '../lib/config.ts';
import { createLogger } from '../lib/log.ts';
import { qualified, withClient } from '../loaders/postgres.ts';
import { readStatus, type ObjectStatus } from '../loaders/state.ts';
import { openDatabase } from './database.ts';

export interface StatusEntry extends ObjectStatus {
  table: string;
  rows: number | null;
}

async function rowCount(client: pg.PoolClient, schema: string, object: string): Promise<number | null> {
  const table = object.toLowerCase();
  const { rows } = await client.query('SELECT to_regclass($1) IS NOT NULL AS present', [qualified(schema, table)]);
  if (!rows[0]?.present) return null;
  const result = await client.query(`SELECT count(*)::float8 AS n FROM ${qualified(schema, table)}`);
  return result.rows[0].n as number;
}

export async function collectStatus(pool: pg.Pool, schema: string): Promise<StatusEntry[]> {
  return withClient(pool, async (client) => {
    const entries = await readStatus(client, schema);
    const out: StatusEntry[] = [];
    for (const e of entries) out.push({ ...e, table: `${schema}.${e.object.toLowerCase()}`, rows: await rowCount(client, schema, e.object) });
    return out;
  });
}

function seconds(ms: number | null): string {
  return ms === null ? '' : `${(ms / 1000).toFixed(1)} s`;
}

export function formatStatusTable(entries: StatusEntry[]): string {
  if (entries.length === 0) return 'No object has been synced yet. Run `sfsync sync`.\n';
  const header = ['object', 'rows', 'watermark', 'last run', 'status', 'inserted', 'updated', 'duration', 'finished'];
  const body = entries.map((e) => [
    e.object,
    e.rows === null ? '-' : String(e.rows),
    e.watermark ? `${e.watermark.value} (${e.watermark.cursorField})` : '-',
    e.lastRun?.mode ?? '-',
    e.lastRun ? e.lastRun.status + (e.lastRun.error ? `: ${e.lastRun.error}` : '') : '-',
    String(e.lastRun?.rowsInserted ?? ''),
    String(e.lastRun?.rowsUpdated ?? ''),
    seconds(e.lastRun?.durationMs ?? null),
    e.lastRun?.finishedAt ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n') + '\n';
}

export async function runStatus(opts: { json?: boolean }): Promise<void> {
  const config = loadConfig(process.env, { needSalesforce: false });
  const log = createLogger({ level: config.logLevel, pretty: process.stderr.isTTY });
  const db = await openDatabase(config, log);
  try {
    const entries = await collectStatus(db.pool, config.schema);
    process.stdout.write(opts.json ? JSON.stringify({ schema: config.schema, objects: entries }, null, 2) + '\n' : formatStatusTable(entries));
  } finally {
    await db.close();
  }
}
