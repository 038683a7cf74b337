// Cursor windows for large Bulk loads. A load of more than `maxRows` records is cut into windows of the cursor field by
// halving time spans, sized with `SELECT COUNT()` (docs/salesforce.md#select-count); each window is one Bulk job
// committed with its own watermark, so an interrupted load resumes after the last committed window, and a job that
// fails (QUERY_TIMEOUT, too many internal retries: docs/salesforce.md#bulk-api-20-job-states) is retried as two smaller
// windows.
import type { CursorWindow } from '../../extractors/soql.ts';

export interface CountedWindow extends CursorWindow {
  /** Records Salesforce counted in the window when it was sized (an estimate: the org keeps changing). */
  count: number;
}

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
  count(w: CursorWindow): Promise<number>;
  maxRows: number;
}

/**
 * Windows in cursor order covering `whole`, each of at most `maxRows` records when the data can be split that fine.
 * Windows counted empty are left out (a record only ever moves to a later cursor, into the open last window or a
 * later run). One COUNT per split: the second half's count is the whole's minus the first's.
 */
export async function planWindows(whole: CursorWindow, total: number, p: WindowPlanning): Promise<CountedWindow[]> {
  if (total <= 0) return [];
  if (total <= p.maxRows) return [{ ...whole, count: total }];
  const halves = await halveWindow(whole, p);
  if (!halves) return [{ ...whole, count: total }];
  const first = await p.count(halves[0]);
  return [
    ...(await planWindows(halves[0], first, p)),
    ...(await planWindows(halves[1], Math.max(0, total - first), p)),
  ];
}

export function describeWindow(w: CursorWindow): string {
  return `[${w.from ?? 'start'}, ${w.to ?? 'now'})`;
}
