// The windows of a backfill, pure: parse --since/--until/--window and cut [since, until) into calendar windows (UTC),
// one Bulk API 2.0 query job each (docs/salesforce.md#bulk-api-20-query-jobs).
import { ConfigError } from '../../lib/errors.ts';

export type WindowUnit = 'mo' | 'w' | 'd' | 'h';

export interface WindowSpec {
  count: number;
  unit: WindowUnit;
}

export interface TimeWindow {
  /** Inclusive. */
  from: Date;
  /** Exclusive. */
  to: Date;
}

/**
 * docs/salesforce.md#limits: 10,000 Bulk query jobs per rolling 24 h for the whole org; one backfill should not spend a
 * large part of them, nor record that many windows.
 */
export const MAX_WINDOWS = 1000;

const HOUR_MS = 3_600_000;
const UNIT_MS: Record<Exclude<WindowUnit, 'mo'>, number> = { h: HOUR_MS, d: 24 * HOUR_MS, w: 7 * 24 * HOUR_MS };

/** `1mo`, `2w`, `7d`, `1d`, `12h`. */
export function parseWindowSpec(text: string): WindowSpec {
  const m = /^(\d{1,4})(mo|w|d|h)$/.exec(text.trim());
  const count = m ? Number(m[1]) : 0;
  if (!m || count < 1)
    throw new ConfigError(
      `--window: '${text}' is not a window size; ` +
        'use a count and a unit: mo (calendar months), w, d or h, e.g. 1mo, 2w, 7d, 12h',
    );
  return { count, unit: m[2] as WindowUnit };
}

export function formatWindowSpec(spec: WindowSpec): string {
  return `${spec.count}${spec.unit}`;
}

const INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * An ISO 8601 date (`2024-01-01`, UTC midnight) or date-time; a date-time without an offset is UTC (SOQL datetimes are
 * UTC, docs/salesforce.md#soql-literals), never the machine's local time. Impossible dates (2024-02-30)
 * are refused, not rolled over.
 */
export function parseInstant(text: string, flag: string): Date {
  const m = INSTANT.exec(text.trim());
  const bad = () =>
    new ConfigError(`${flag}: '${text}' is not an ISO 8601 date or date-time, e.g. 2024-01-01 or 2024-01-01T12:00:00Z`);
  if (!m) throw bad();
  const [, y, mo, d, hh, mi] = m;
  const iso = m[4] === undefined ? `${text.trim()}T00:00:00Z` : m[7] === undefined ? `${text.trim()}Z` : text.trim();
  const ms = Date.parse(iso);
  // Date.parse rolls 2024-02-30 over to March 1st; the calendar date must survive a round trip.
  const check = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(hh ?? 0), Number(mi ?? 0)));
  if (
    Number.isNaN(ms) ||
    check.getUTCDate() !== Number(d) ||
    check.getUTCMonth() !== Number(mo) - 1 ||
    Number(hh ?? 0) > 23
  )
    throw bad();
  return new Date(ms);
}

/** Months add by calendar month from `since`, its day clamped to the month's length (Jan 31 -> Feb 29 -> Mar 31). */
function boundary(since: Date, spec: WindowSpec, k: number): Date {
  if (spec.unit !== 'mo') return new Date(since.getTime() + k * spec.count * UNIT_MS[spec.unit]);
  const months = since.getUTCMonth() + k * spec.count;
  const year = since.getUTCFullYear() + Math.floor(months / 12);
  const month = ((months % 12) + 12) % 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const day = Math.min(since.getUTCDate(), lastDay);
  return new Date(
    Date.UTC(
      year,
      month,
      day,
      since.getUTCHours(),
      since.getUTCMinutes(),
      since.getUTCSeconds(),
      since.getUTCMilliseconds(),
    ),
  );
}

/**
 * [since, until) as consecutive windows stepped from `since`; the last one ends at `until`. Windows are
 * computed from `since` alone, so a resumed backfill with the same arguments gets the very same windows.
 */
export function splitWindows(since: Date, until: Date, spec: WindowSpec): TimeWindow[] {
  if (since.getTime() >= until.getTime()) {
    throw new ConfigError(`--since (${since.toISOString()}) must be before --until (${until.toISOString()})`);
  }
  const windows: TimeWindow[] = [];
  for (let k = 0; ; k++) {
    const from = boundary(since, spec, k);
    if (from.getTime() >= until.getTime()) return windows;
    if (windows.length === MAX_WINDOWS) {
      throw new ConfigError(
        `--window ${formatWindowSpec(spec)} cuts the range into more than ${MAX_WINDOWS} windows ` +
          '(one Bulk query job each); use a larger window',
      );
    }
    const next = boundary(since, spec, k + 1);
    windows.push({ from, to: next.getTime() < until.getTime() ? next : until });
  }
}
