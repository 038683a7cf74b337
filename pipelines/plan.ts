// planObject: decide how one object is loaded this run. Pure, so every branch is table-tested.
import type { CursorField } from '../extractors/types.ts';

export type Mode = 'initial' | 'full-refresh' | 'incremental';

export interface Watermark {
  cursorField: string;
  value: string;
}

export interface Plan {
  mode: Mode;
  /** Lower bound (inclusive) of the cursor window; only for incremental runs. */
  from?: string;
  cursorField: CursorField | null;
}

export interface PlanInput {
  cursorField: CursorField | null;
  watermark: Watermark | null;
  fullRefresh: boolean;
  overlapMinutes: number;
}

export function planObject(input: PlanInput): Plan {
  const { cursorField, watermark } = input;
  // Objects with no cursor field (salesforce-api.md §3.5) cannot be read incrementally: refresh them every run.
  if (cursorField === null) return { mode: 'full-refresh', cursorField };
  if (input.fullRefresh) return { mode: 'full-refresh', cursorField };
  // A watermark on another cursor field (the object's fields changed) cannot be trusted as a bound.
  if (!watermark || watermark.cursorField !== cursorField) return { mode: 'initial', cursorField };
  // §4.7: commits can land with an earlier SystemModstamp than what we saw; re-read an overlap window.
  const from = new Date(Date.parse(watermark.value) - input.overlapMinutes * 60_000).toISOString();
  return { mode: 'incremental', from, cursorField };
}
