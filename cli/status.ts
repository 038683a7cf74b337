// `sfsync status`: per object, the watermark and how far behind it is, the last run and the table's row count.
import type pg from 'pg';
import { loadConfig, type ScheduleGroup } from '../lib/config.ts';
import { createLogger } from '../lib/log.ts';
import { qualified, withClient } from '../loaders/postgres.ts';
import { listSchemaEvents, type SchemaEventRecord } from '../loaders/objectState.ts';
import { readStatus, type ObjectStatus } from '../loaders/state.ts';
import { openDatabase } from '../pipelines/runtime/database.ts';
import { nextScheduledRun } from '../pipelines/runtime/nextScheduledRun.ts';
import { resolveGroups } from './schedule.ts';
import { formatTextTable } from './textTable.ts';

export interface StatusEntry extends ObjectStatus {
  table: string;
  rows: number | null;
  /** Seconds from the watermark to now: changes made in Salesforce since then are not in the warehouse yet. */
  lagSeconds: number | null;
  /** The latest schema drift events of the object (new, removed or retyped fields), newest first. */
  schemaEvents: SchemaEventRecord[];
  /** When `sfsync schedule` with this config would next sync the object (ISO 8601); null when no group syncs it. */
  nextRun: string | null;
}

/** The schedule `sfsync schedule` would run with this config: its groups, and the objects a group without a list syncs. */
export interface SchedulePlan {
  groups: readonly ScheduleGroup[];
  objects: readonly string[];
}

const EVENTS_SHOWN = 5;

async function rowCount(client: pg.PoolClient, schema: string, object: string): Promise<number | null> {
  const table = object.toLowerCase();
  const { rows } = await client.query('SELECT to_regclass($1) IS NOT NULL AS present', [qualified(schema, table)]);
  if (!rows[0]?.present) return null;
  const result = await client.query(`SELECT count(*)::float8 AS n FROM ${qualified(schema, table)}`);
  return result.rows[0].n as number;
}

export function lagSeconds(watermark: string | undefined, now: Date): number | null {
  if (!watermark) return null;
  return Math.max(0, Math.round((now.getTime() - Date.parse(watermark)) / 1000));
}

export async function collectStatus(pool: pg.Pool, schema: string, now = new Date(), schedule?: SchedulePlan): Promise<StatusEntry[]> {
  return withClient(pool, async (client) => {
    const entries = await readStatus(client, schema);
    const out: StatusEntry[] = [];
    for (const e of entries) {
      const rows = await rowCount(client, schema, e.object);
      const schemaEvents = await listSchemaEvents(client, { schema, object: e.object, limit: EVENTS_SHOWN });
      const next = schedule ? nextScheduledRun(e.object, schedule.groups, schedule.objects, now) : null;
      out.push({ ...e, table: `${schema}.${e.object.toLowerCase()}`, rows, lagSeconds: lagSeconds(e.watermark?.value, now), schemaEvents, nextRun: next?.toISOString() ?? null });
    }
    return out;
  });
}

function seconds(ms: number | null): string {
  return ms === null ? '' : `${(ms / 1000).toFixed(1)} s`;
}

/** The two largest units, e.g. `3h 12m`, `45s`, `2d 4h`. */
export function formatLag(totalSeconds: number | null): string {
  if (totalSeconds === null) return '-';
  const units: [string, number][] = [['d', 86_400], ['h', 3_600], ['m', 60], ['s', 1]];
  const parts: string[] = [];
  let rest = totalSeconds;
  for (const [name, size] of units) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0 || (parts.length > 0 && parts.length < 2)) parts.push(`${n}${name}`);
    if (parts.length === 2) break;
  }
  return parts.length > 0 ? parts.join(' ') : '0s';
}

export function formatStatusTable(entries: StatusEntry[]): string {
  if (entries.length === 0) return 'No object has been synced yet. Run `sfsync sync`.\n';
  const header = ['object', 'rows', 'watermark', 'lag', 'next run', 'last run', 'status', 'inserted', 'updated', 'duration', 'finished'];
  const body = entries.map((e) => [
    e.object,
    e.rows === null ? '-' : String(e.rows),
    e.watermark ? `${e.watermark.value} (${e.watermark.cursorField})` : '-',
    formatLag(e.lagSeconds),
    e.nextRun?.replace('.000Z', 'Z') ?? '-',
    e.lastRun?.mode ?? '-',
    e.lastRun ? e.lastRun.status + (e.lastRun.error ? `: ${e.lastRun.error}` : '') : '-',
    String(e.lastRun?.rowsInserted ?? ''),
    String(e.lastRun?.rowsUpdated ?? ''),
    seconds(e.lastRun?.durationMs ?? null),
    e.lastRun?.finishedAt ?? '',
  ]);
  const drift = entries.flatMap((e) =>
    e.schemaEvents.map((ev) => `  ${ev.at}  ${e.object}.${ev.field}: ${ev.kind}${ev.oldType || ev.newType ? ` (${ev.oldType ?? '-'} -> ${ev.newType ?? '-'})` : ''}${ev.action ? `, ${ev.action}` : ''}`),
  );
  return formatTextTable(header, body) + (drift.length > 0 ? `\nSchema changes (newest first):\n${drift.join('\n')}\n` : '');
}

export async function runStatus(opts: { json?: boolean }): Promise<void> {
  const config = loadConfig(process.env, { needSalesforce: false });
  const log = createLogger({ level: config.logLevel, pretty: process.stderr.isTTY });
  // The groups `sfsync schedule` would start with no flags: the config file's, else the nightly default.
  const schedule = { groups: resolveGroups({}, config.schedule), objects: config.objects.map((o) => o.name) };
  const db = await openDatabase(config, log);
  try {
    const entries = await collectStatus(db.pool, config.schema, new Date(), schedule);
    process.stdout.write(opts.json ? `${JSON.stringify({ schema: config.schema, objects: entries }, null, 2)}\n` : formatStatusTable(entries));
  } finally {
    await db.close();
  }
}
