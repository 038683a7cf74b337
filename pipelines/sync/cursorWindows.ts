// Cursor windows for large Bulk loads. A load of more than `maxRows` records is cut into windows of the cursor field by
// halving time spans, sized with `SELECT COUNT()` (docs/salesforce.md#select-count); each window is one Bulk job
// committed with its own watermark, so an interrupted load resumes after the last committed window, and a job that
// fails (QUERY_TIMEOUT, too many internal retries: docs/salesforce.md#bulk-api-20-job-states) is retried as two smaller
// windows. When Salesforce cannot count (QUERY_TIMEOUT on a very large object, docs/salesforce.md#select-count) the
// windows are cut by time instead: spans of UNKNOWN_SIZE_SPAN_DAYS from the earliest cursor value.
import type { CursorWindow } from '../../extractors/soql.ts';

export interface CountedWindow extends CursorWindow {
  /**
   * Records Salesforce counted in the window when it was sized (an estimate: the org keeps changing); null when it
   * could not count them.
   */
  count: number | null;
}

/**
 * The time span of a window when nothing could be counted: a month of changes per Bulk job. A window too large for
 * one job still fails and is halved (bulkLoad.ts), so a wrong guess costs time, never data.
 */
export const UNKNOWN_SIZE_SPAN_DAYS = 30;
const DAY_MS = 86_400_000;

export interface WindowBounds {
  /** The earliest cursor value of the object (to split a window with no lower bound); null when it has no records. */
  earliest(): Promise<string | null>;
  /**
   * The server's now, to split the last window, which has no upper bound so it also takes records changed meanwhile.
   */
  now: Date;
}

/** Below this span a window is not split further: Salesforce cursors have millisecond precision, records cluster. */
const MIN_SPAN_MS = 2_000;

/** The two halves of a window at the middle of its time span; null when it cannot be split. */
export async function halveWindow(w: CursorWindow, bounds: WindowBounds): Promise<[CursorWindow, CursorWindow] | null> {
  const lower = w.from ?? (await bounds.earliest());
  if (lower === null) return null;
  const lo = Date.parse(lower);
  const hi = w.to !== undefined ? Date.parse(w.to) : Math.max(bounds.now.getTime(), lo + 1);
  if (hi - lo < MIN_SPAN_MS) return null;
  const mid = new Date(lo + Math.floor((hi - lo) / 2)).toISOString();
  // The outer ends keep their openness: the first window takes everything older, the last everything newer.
  return [
    { ...(w.from !== undefined && { from: w.from }), to: mid },
    { from: mid, ...(w.to !== undefined && { to: w.to }) },
  ];
}

export interface WindowPlanning extends WindowBounds {
  /** Records in the window; null when Salesforce could not count them (docs/salesforce.md#select-count). */
  count(w: CursorWindow): Promise<number | null>;
  maxRows: number;
}

/**
 * Windows in cursor order covering `whole`, cut by time into spans of `spanDays` from its lower bound (else the
 * earliest cursor value) up to its upper bound (else the server's now): for a load whose size is unknown. The outer
 * ends keep their openness, so the first window takes everything older and the last everything newer.
 */
export async function timeWindows(
  whole: CursorWindow,
  bounds: WindowBounds,
  spanDays = UNKNOWN_SIZE_SPAN_DAYS,
): Promise<CountedWindow[]> {
  const lower = whole.from ?? (await bounds.earliest());
  if (lower === null) return [{ ...whole, count: null }];
  const lo = Date.parse(lower);
  const hi = whole.to !== undefined ? Date.parse(whole.to) : bounds.now.getTime();
  const out: CountedWindow[] = [];
  let from = whole.from;
  for (let t = lo + spanDays * DAY_MS; t < hi; t += spanDays * DAY_MS) {
    const to = new Date(t).toISOString();
    out.push({ ...(from !== undefined && { from }), to, count: null });
    from = to;
  }
  out.push({ ...(from !== undefined && { from }), ...(whole.to !== undefined && { to: whole.to }), count: null });
  return out;
}

/**
 * Windows in cursor order covering `whole`, each of at most `maxRows` records when the data can be split that fine.
 * Windows counted empty are left out (a record only ever moves to a later cursor, into the open last window or a
 * later run). One COUNT per split: the second half's count is the whole's minus the first's. A range Salesforce
 * cannot count (`total` or a half's count null) is cut by time (timeWindows).
 */
export async function planWindows(
  whole: CursorWindow,
  total: number | null,
  p: WindowPlanning,
): Promise<CountedWindow[]> {
  if (total === null) return timeWindows(whole, p);
  if (total <= 0) return [];
  if (total <= p.maxRows) return [{ ...whole, count: total }];
  const halves = await halveWindow(whole, p);
  if (!halves) return [{ ...whole, count: total }];
  const first = await p.count(halves[0]);
  if (first === null) return timeWindows(whole, p);
  return [
    ...(await planWindows(halves[0], first, p)),
    ...(await planWindows(halves[1], Math.max(0, total - first), p)),
  ];
}

export function describeWindow(w: CursorWindow): string {
  return `[${w.from ?? 'start'}, ${w.to ?? 'now'})`;
}
