// `sfsync status`: per object, the watermark and how far behind it is, the last run and the table's row count.
import { type Env, loadConfig } from '../lib/config.ts';
import { createLogger } from '../lib/log.ts';
import { openDatabase } from '../pipelines/runtime/database.ts';
import { resolveGroups } from './schedule.ts';
import { formatSeconds, formatTextTable } from './textTable.ts';
import type { StatusEntry } from '../pipelines/runtime/status.ts';
import { collectStatus } from '../pipelines/runtime/status.ts';

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

export function formatStatusTable(entries: StatusEntry[]): string {
  if (entries.length === 0) return 'No object has been synced yet. Run `sfsync sync`.\n';
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
    e.rows === null ? '-' : String(e.rows),
    e.watermark ? `${e.watermark.value} (${e.watermark.cursorField})` : '-',
    formatLag(e.lagSeconds),
    e.nextRun?.replace('.000Z', 'Z') ?? '-',
    e.lastRun?.mode ?? '-',
    e.lastRun ? e.lastRun.status + (e.lastRun.error ? `: ${e.lastRun.error}` : '') : '-',
    String(e.lastRun?.rowsInserted ?? ''),
    String(e.lastRun?.rowsUpdated ?? ''),
    formatSeconds(e.lastRun?.durationMs ?? null),
    e.lastRun?.finishedAt ?? '',
  ]);
  const drift = entries.flatMap((e) =>
    e.schemaEvents.map(
      (ev) =>
        `  ${ev.at}  ${e.object}.${ev.field}: ${ev.kind}${ev.oldType || ev.newType ? ` (${ev.oldType ?? '-'} -> ${ev.newType ?? '-'})` : ''}${ev.action ? `, ${ev.action}` : ''}`,
    ),
  );
  return (
    formatTextTable(header, body) + (drift.length > 0 ? `\nSchema changes (newest first):\n${drift.join('\n')}\n` : '')
  );
}

export async function runStatus(opts: { json?: boolean }, env: Env): Promise<void> {
  const config = loadConfig(env, { needSalesforce: false });
  const log = createLogger({ level: config.logLevel, pretty: process.stderr.isTTY });
  // The groups `sfsync schedule` would start with no flags: the config file's, else the nightly default.
  const schedule = { groups: resolveGroups({}, config.schedule), objects: config.objects.map((o) => o.name) };
  const db = await openDatabase(config, log);
  try {
    const entries = await collectStatus(db.pool, config.schema, new Date(), schedule);
    process.stdout.write(
      opts.json
        ? `${JSON.stringify({ schema: config.schema, objects: entries }, null, 2)}\n`
        : formatStatusTable(entries),
    );
  } finally {
    await db.close();
  }
}
