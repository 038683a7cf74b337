// `sfsync status`: per object, the watermark and how far behind it is, the last run and the table's row count.
import type pg from 'pg';
import { type Config, type Env, loadConfigs } from '../lib/config.ts';
import { orgOf } from './eachOrg.ts';
import { commandLogger } from './logger.ts';
import { openDatabase } from '../pipelines/runtime/database.ts';
import { resolveGroups } from './schedule.ts';
import { formatCount } from '../lib/format.ts';
import { formatRelativeTime, formatSeconds, formatTextTable, terminalWidth } from './textTable.ts';
import type { StatusEntry } from '../pipelines/runtime/status.ts';
import { collectStatus } from '../pipelines/runtime/status.ts';
import { withClient } from '../loaders/postgres.ts';
import { listStreams, type StreamRecord } from '../loaders/streamState.ts';

/** The two largest units, e.g. `3h 12m`, `45s`, `2d 4h`. */
export function formatLag(totalSeconds: number | null): string {
  if (totalSeconds === null) return '-';
  const units: [string, number][] = [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ];
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

export interface StatusTableOptions {
  /** Every column, timestamps in full, however wide. */
  wide?: boolean;
  /** The widest a line may be (the terminal's columns); not applied with `wide`. */
  width?: number;
  now?: Date;
}

/** An entry of one of several orgs: the tables get an org column. */
type OfOrg = { org?: string };
const withOrg = (items: readonly OfOrg[], header: string[], body: string[][]) =>
  items.some((i) => i.org !== undefined)
    ? { header: ['org', ...header], body: body.map((row, i) => [items[i]!.org ?? '', ...row]) }
    : { header, body };

const count = (n: number | null | undefined) => (n === null || n === undefined ? '' : formatCount(n));

function wideTable(entries: (StatusEntry & OfOrg)[]): string {
  const header = [
    'object',
    'rows',
    'watermark',
    'lag',
    'next run',
    'last run',
    'status',
    'inserted',
    'updated',
    'duration',
    'finished',
  ];
  const body = entries.map((e) => [
    e.object,
    e.rows === null ? '-' : formatCount(e.rows),
    e.watermark ? `${e.watermark.value} (${e.watermark.cursorField})` : '-',
    formatLag(e.lagSeconds),
    e.nextRun?.replace('.000Z', 'Z') ?? '-',
    e.lastRun?.mode ?? '-',
    e.lastRun ? e.lastRun.status + (e.lastRun.error ? `: ${e.lastRun.error}` : '') : '-',
    count(e.lastRun?.rowsInserted),
    count(e.lastRun?.rowsUpdated),
    formatSeconds(e.lastRun?.durationMs ?? null),
    e.lastRun?.finishedAt ?? '',
  ]);
  const t = withOrg(entries, header, body);
  return formatTextTable(t.header, t.body);
}

/** The columns read most, times relative to now; the last run's error is cut to fit the width. */
function narrowTable(entries: (StatusEntry & OfOrg)[], width: number, now: Date): string {
  const header = ['object', 'rows', 'lag', 'last run', 'finished', 'next run', 'error'];
  const body = entries.map((e) => [
    e.object,
    e.rows === null ? '-' : formatCount(e.rows),
    formatLag(e.lagSeconds),
    e.lastRun?.status ?? '-',
    // A run in flight has no end yet: its start tells how long it has been going.
    e.lastRun && !e.lastRun.finishedAt
      ? `started ${formatRelativeTime(e.lastRun.startedAt, now)}`
      : formatRelativeTime(e.lastRun?.finishedAt, now),
    formatRelativeTime(e.nextRun, now),
    e.lastRun?.error ?? '',
  ]);
  const t = withOrg(entries, header, body);
  return formatTextTable(t.header, t.body, { width, shrink: t.header.length - 1 });
}

/** Entries that carry an `org` (several orgs) get an org column. */
export function formatStatusTable(entries: (StatusEntry & OfOrg)[], opts: StatusTableOptions = {}): string {
  if (entries.length === 0) return 'No object has been synced yet. Run `sfsync sync`.\n';
  const now = opts.now ?? new Date();
  const width = opts.wide ? Number.POSITIVE_INFINITY : (opts.width ?? 100);
  const drift = entries.flatMap((e) =>
    e.schemaEvents.map((ev) => {
      const types = ev.oldType || ev.newType ? ` (${ev.oldType ?? '-'} -> ${ev.newType ?? '-'})` : '';
      const at = opts.wide ? ev.at : formatRelativeTime(ev.at, now);
      const object = `${e.org ? `${e.org}: ` : ''}${e.object}`;
      const line = `  ${at}  ${object}.${ev.field}: ${ev.kind}${types}${ev.action ? `, ${ev.action}` : ''}`;
      return line.length > width ? `${line.slice(0, width - 1)}…` : line;
    }),
  );
  return (
    (opts.wide ? wideTable(entries) : narrowTable(entries, width, now)) +
    (drift.length > 0 ? `\nSchema changes (newest first):\n${drift.join('\n')}\n` : '')
  );
}

/** A stream's state as status shows it: what it last wrote, or `not running` when its process is gone. */
export function streamState(s: StreamRecord): string {
  if (!s.alive) return s.status === 'stopped' ? 'stopped' : 'not running';
  return s.status;
}

/**
 * `sfsync stream` per object: connected or not, the commit time of the last change applied, and its lag (how long
 * after Salesforce committed it the change was in the table).
 */
export function formatStreams(streams: (StreamRecord & OfOrg)[], opts: StatusTableOptions = {}): string {
  if (streams.length === 0) return '';
  const now = opts.now ?? new Date();
  const header = ['object', 'stream', 'last event', 'lag', 'events', 'error'];
  const body = streams.map((s) => [
    s.object,
    streamState(s),
    opts.wide ? (s.lastEventAt ?? '-') : formatRelativeTime(s.lastEventAt, now),
    formatLag(streamLagSeconds(s)),
    formatCount(s.eventsApplied),
    s.error ?? '',
  ]);
  const width = opts.wide ? Number.POSITIVE_INFINITY : (opts.width ?? 100);
  const t = withOrg(streams, header, body);
  return `\nStreams (sfsync stream):\n${formatTextTable(t.header, t.body, { width, shrink: t.header.length - 1 })}`;
}

/** Seconds from a change's commit in Salesforce to the commit of its rows here; null before the first event. */
export function streamLagSeconds(s: Pick<StreamRecord, 'lastEventAt' | 'appliedAt'>): number | null {
  if (!s.lastEventAt || !s.appliedAt) return null;
  return Math.max(0, Math.round((Date.parse(s.appliedAt) - Date.parse(s.lastEventAt)) / 1000));
}

/** One org's objects and streams, as `status --json` shows them. */
async function orgStatus(pool: pg.Pool, config: Config, now: Date) {
  // The groups `sfsync schedule` would start with no flags: the config file's, else the nightly default.
  const schedule = { groups: resolveGroups({}, config.schedule), objects: config.objects.map((o) => o.name) };
  const objects = await collectStatus(pool, config.schema, now, schedule);
  const streams = await withClient(pool, (c) => listStreams(c, config.schema));
  return { org: orgOf(config), schema: config.schema, objects, streams };
}

export async function runStatus(opts: { json?: boolean; wide?: boolean; org?: string }, env: Env): Promise<void> {
  const configs = loadConfigs(env, { needSalesforce: false, org: opts.org });
  // Database and logging settings are the same for every org.
  const log = commandLogger(configs[0]!);
  const db = await openDatabase(configs[0]!, log);
  try {
    const now = new Date();
    const orgs: Awaited<ReturnType<typeof orgStatus>>[] = [];
    for (const config of configs) orgs.push(await orgStatus(db.pool, config, now));
    const table = { wide: opts.wide, width: terminalWidth(), now };
    const json = orgs.map((o) => ({
      ...o,
      streams: o.streams.map((s) => ({ ...s, state: streamState(s), lagSeconds: streamLagSeconds(s) })),
    }));
    // Several orgs: one table with an org column.
    const several = orgs.length > 1;
    const objects = orgs.flatMap((o) => o.objects.map((e) => (several ? { ...e, org: o.org } : e)));
    const streams = orgs.flatMap((o) => o.streams.map((s) => (several ? { ...s, org: o.org } : s)));
    process.stdout.write(
      opts.json
        ? `${JSON.stringify(several ? { orgs: json } : json[0], null, 2)}\n`
        : formatStatusTable(objects, table) + formatStreams(streams, table),
    );
  } finally {
    await db.close();
  }
}
