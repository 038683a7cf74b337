// planObject: decide how one object is loaded this run. Pure, so every branch is table-tested.
import type { CursorField } from '../../schemas/records.ts';

export type Mode = 'initial' | 'full-refresh' | 'incremental';

export interface Watermark {
  cursorField: string;
  value: string;
}

export interface Plan {
  mode: Mode;
  /** Lower bound (inclusive) of the cursor window; only for incremental runs. */
  from?: string;
}

export interface PlanInput {
  cursorField: CursorField | null;
  watermark: Watermark | null;
  fullRefresh: boolean;
  overlapMinutes: number;
}

export function planObject(input: PlanInput): Plan {
  const { cursorField, watermark } = input;
  // Objects with no cursor field (docs/salesforce.md#objects-without-system-fields) cannot be read incrementally:
  // refresh them every run.
  if (cursorField === null) return { mode: 'full-refresh' };
  if (input.fullRefresh) return { mode: 'full-refresh' };
  // A watermark on another cursor field (the object's fields changed) cannot be trusted as a bound.
  if (!watermark || watermark.cursorField !== cursorField) return { mode: 'initial' };
  // docs/salesforce.md#incremental-cursor-windows: commits can land with an earlier SystemModstamp than what we saw;
  // re-read an overlap window.
  const from = new Date(Date.parse(watermark.value) - input.overlapMinutes * 60_000).toISOString();
  return { mode: 'incremental', from };
}

/**
 * The watermark to save after a load: the highest cursor actually loaded, but never later than the server's "now -
 * overlap" (docs/salesforce.md#incremental-cursor-windows: a transaction can commit after our read with an earlier
 * SystemModstamp).
 */
export function cappedWatermark(loaded: string | null, serverNow: Date, overlapMinutes: number): string | null {
  if (loaded === null) return null;
  const cap = serverNow.getTime() - overlapMinutes * 60_000;
  return Date.parse(loaded) <= cap ? loaded : new Date(cap).toISOString();
}

/** docs/salesforce.md#getdeleted: getDeleted reaches back 15 days and needs start before end by more than a minute. */
export const GET_DELETED_MAX_DAYS = 15;
const MINUTE = 60_000;

export interface DeletedWindow {
  start: Date;
  end: Date;
  /**
   * The window had to be clipped to the 15 days getDeleted keeps: deletes may be lost, reconcile
   * (docs/salesforce.md#hard-delete-detection).
   */
  gap: boolean;
}

/**
 * The getDeleted window of an incremental run: from the last check (else the watermark) minus the lookback, to the
 * server's now. null when there is nothing to check from or the window is too short to ask for.
 */
export function deletedWindow(since: string | null, serverNow: Date, lookbackMinutes: number): DeletedWindow | null {
  if (since === null) return null;
  const end = serverNow.getTime();
  // One spare minute: Salesforce truncates both ends to the minute (docs/salesforce.md#getdeleted).
  const earliest = end - GET_DELETED_MAX_DAYS * 24 * 60 * MINUTE + 2 * MINUTE;
  const wanted = Date.parse(since) - lookbackMinutes * MINUTE;
  const start = Math.max(wanted, earliest);
  if (end - start < 2 * MINUTE) return null;
  return { start: new Date(start), end: new Date(end), gap: wanted < earliest };
}
