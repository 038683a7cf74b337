// A sorted index of one cursor field (SystemModstamp, LastModifiedDate, CreatedDate) over an object's generated
// slots, so a window query (`WHERE SystemModstamp >= X`, salesforce-api.md §4.7, the incremental sync of §5.2)
// reads only the slots inside the window instead of generating every record. Generated values never change, so
// one index serves every snapshot; changed records live in the store's overlay and are checked separately.
import type { CursorCandidates, SfRecord } from './types.ts';

export interface CursorIndex {
  /** Epoch ms, ascending. */
  readonly keys: Float64Array;
  /** slots[i] holds keys[i]. */
  readonly slots: Int32Array;
}

/**
 * Builds the index of slots 0..count-1. A bucket sort over the key range: the generator spreads timestamps
 * evenly (seed.ts), so buckets hold a handful of keys each and the build is linear (a comparator sort of a million
 * slots measured about 1 s; this is a fraction of that). Skewed data stays correct, only slower.
 */
export function buildCursorIndex(count: number, keyOf: (slot: number) => number): CursorIndex {
  const raw = new Float64Array(count);
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let s = 0; s < count; s++) {
    const k = keyOf(s);
    raw[s] = k;
    if (k < min) min = k;
    if (k > max) max = k;
  }
  const buckets = Math.max(1, count);
  const width = (max - min + 1) / buckets;
  const bucketOf = (k: number) => Math.min(buckets - 1, Math.floor((k - min) / width));
  const starts = new Int32Array(buckets + 1);
  for (let s = 0; s < count; s++) starts[bucketOf(raw[s]!) + 1]!++;
  for (let b = 0; b < buckets; b++) starts[b + 1]! += starts[b]!;
  const fill = starts.slice(0, buckets);
  const slots = new Int32Array(count);
  for (let s = 0; s < count; s++) slots[fill[bucketOf(raw[s]!)]!++] = s;
  for (let b = 0; b < buckets; b++) sortBucket(slots, raw, starts[b]!, starts[b + 1]!);
  const keys = new Float64Array(count);
  for (let i = 0; i < count; i++) keys[i] = raw[slots[i]!]!;
  return { keys, slots };
}

function sortBucket(slots: Int32Array, raw: Float64Array, from: number, to: number): void {
  if (to - from < 2) return;
  if (to - from > 32) {
    slots.subarray(from, to).sort((a, b) => raw[a]! - raw[b]! || a - b);
    return;
  }
  // Insertion sort; slots arrive ascending, so ties keep slot order.
  for (let i = from + 1; i < to; i++) {
    const s = slots[i]!;
    const k = raw[s]!;
    let j = i - 1;
    while (j >= from && raw[slots[j]!]! > k) {
      slots[j + 1] = slots[j]!;
      j--;
    }
    slots[j + 1] = s;
  }
}

/** First position whose key is >= ms (or > ms when `after`). */
function lowerBound(keys: Float64Array, ms: number, after: boolean): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const k = keys[mid]!;
    if (k < ms || (after && k === ms)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Positions [start, end) of the keys within [fromMs, toMs] (both inclusive; either may be infinite). */
export function indexRange(index: CursorIndex, fromMs: number, toMs: number): [start: number, end: number] {
  const start = lowerBound(index.keys, fromMs, false);
  const end = lowerBound(index.keys, toMs, true);
  return [start, Math.max(start, end)];
}

/**
 * Candidates of a window over generated slots (index) plus the overlay (changed, inserted, hard-deleted slots, whose
 * generated value no longer counts). Overlay records are compared as stored text, exactly as the WHERE predicate
 * compares datetimes (soqlWhere.ts), so nothing inside the window is left out.
 */
export function windowCandidates(
  index: CursorIndex | null,
  overlay: ReadonlyMap<number, SfRecord | null>,
  field: string,
  from: string | undefined,
  to: string | undefined,
): CursorCandidates {
  const [start, end] = index ? indexRange(index, from === undefined ? Number.NEGATIVE_INFINITY : Date.parse(from), to === undefined ? Number.POSITIVE_INFINITY : Date.parse(to)) : [0, 0];
  return {
    estimate: end - start + overlay.size,
    slots() {
      const out = new Int32Array(end - start + overlay.size);
      let n = 0;
      for (let i = start; i < end; i++) {
        const slot = (index as CursorIndex).slots[i]!;
        if (overlay.size === 0 || !overlay.has(slot)) out[n++] = slot;
      }
      for (const [slot, rec] of overlay) {
        const v = rec?.[field];
        if (typeof v === 'string' && (from === undefined || v >= from) && (to === undefined || v <= to)) out[n++] = slot;
      }
      return out.subarray(0, n).sort();
    },
  };
}
