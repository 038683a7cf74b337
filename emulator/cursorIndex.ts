// A sorted index of one cursor field (SystemModstamp, LastModifiedDate, CreatedDate) over an object's generated slots,
// so a window query (`WHERE SystemModstamp >= X`, as the incremental sync sends:
// docs/salesforce.md#incremental-cursor-windows) reads only the slots inside the window instead of generating every
// record. Generated values never change, so one index serves every snapshot; changed records live in the store's
// overlay and are checked separately.
import {
  type CursorCandidates,
  type CursorOrderOptions,
  type CursorWindow,
  type FieldValue,
  type SfRecord,
  queryAllOnly,
} from './types.ts';
import { isoOf } from './values.ts';

export interface CursorIndex {
  /** Epoch ms, ascending. */
  readonly keys: Float64Array;
  /** slots[i] holds keys[i]. */
  readonly slots: Int32Array;
}

/**
 * Builds the index of slots 0..count-1. A bucket sort over the key range: the generator spreads timestamps evenly
 * (seed.ts), so buckets hold a handful of keys each and the build is linear, far faster than a comparator sort
 * (docs/benchmarks.md#emulator-cursor-index-build). Skewed data stays correct, only slower.
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
  const [start, end] = index
    ? indexRange(
        index,
        from === undefined ? Number.NEGATIVE_INFINITY : Date.parse(from),
        to === undefined ? Number.POSITIVE_INFINITY : Date.parse(to),
      )
    : [0, 0];
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
        if (typeof v === 'string' && (from === undefined || v >= from) && (to === undefined || v <= to))
          out[n++] = slot;
      }
      return out.subarray(0, n).sort();
    },
  };
}

/** The generated slots of one cursor field: its index plus what the exact paths below need to know of each slot. */
export interface IndexedSlots {
  readonly index: CursorIndex;
  /** deletedPrefix()[p] = how many of slots[0..p) start hidden from `query`; built on first use. */
  deletedPrefix(): Int32Array;
  /** Hidden from `query`: soft-deleted, or an archived activity (types.ts queryAllOnly). */
  isDeleted(slot: number): boolean;
  /** The generated (not the overlay's) value of the field, epoch ms. */
  keyOf(slot: number): number;
}

/**
 * Counts of soft-deleted slots along the index, so `query` (which hides them,
 * docs/salesforce.md#queryall-and-deleted-records) counts a window in O(1).
 */
export function deletedPrefixOf(index: CursorIndex, isDeleted: (slot: number) => boolean): Int32Array {
  const out = new Int32Array(index.slots.length + 1);
  for (let i = 0; i < index.slots.length; i++) out[i + 1] = out[i]! + (isDeleted(index.slots[i]!) ? 1 : 0);
  return out;
}

/** Positions [start, end) of the keys inside an exact window (null = all). Bounds are canonical text (soqlWhere.ts). */
export function windowPositions(index: CursorIndex, w: CursorWindow | null): [start: number, end: number] {
  const start = w?.from === undefined ? 0 : lowerBound(index.keys, Date.parse(w.from), w.fromExclusive === true);
  const end =
    w?.to === undefined ? index.keys.length : lowerBound(index.keys, Date.parse(w.to), w.toExclusive !== true);
  return [start, Math.max(start, end)];
}

/** Whether a generated value (ms) lies inside the window; canonical text compares as its instant does. */
function msInWindow(w: CursorWindow): (ms: number) => boolean {
  // Parsed once: a COUNT() asks this of every changed record.
  const from = w.from === undefined ? Number.NEGATIVE_INFINITY : Date.parse(w.from);
  const to = w.to === undefined ? Number.POSITIVE_INFINITY : Date.parse(w.to);
  return (ms) => (w.fromExclusive ? ms > from : ms >= from) && (w.toExclusive ? ms < to : ms <= to);
}

/** A stored value inside the window, compared as text exactly as the WHERE predicate does (null never matches). */
function textInWindow(v: FieldValue | undefined, w: CursorWindow): boolean {
  if (typeof v !== 'string') return false;
  if (w.from !== undefined && (w.fromExclusive ? v <= w.from : v < w.from)) return false;
  if (w.to !== undefined && (w.toExclusive ? v >= w.to : v > w.to)) return false;
  return true;
}

/**
 * COUNT() of a window (null = every record) without building a record (docs/salesforce.md#select-count): the index
 * range, less the soft-deleted slots `query` hides, less the overlaid slots (their generated value no longer counts),
 * plus the overlay records that match. Hard-deleted slots (null) never count; soft-deleted ones only with
 * includeDeleted (queryAll, docs/salesforce.md#queryall-and-deleted-records).
 */
export function windowCount(
  gen: IndexedSlots | null,
  overlay: ReadonlyMap<number, SfRecord | null>,
  w: CursorWindow | null,
  includeDeleted: boolean,
): number {
  let n = 0;
  const base = gen ? gen.index.slots.length : 0;
  if (gen) {
    const [start, end] = windowPositions(gen.index, w);
    n = end - start;
    if (!includeDeleted && n > 0) {
      const prefix = gen.deletedPrefix();
      n -= prefix[end]! - prefix[start]!;
    }
  }
  const generatedIn = w ? msInWindow(w) : () => true;
  for (const [slot, rec] of overlay) {
    if (gen && slot < base && (includeDeleted || !gen.isDeleted(slot)) && generatedIn(gen.keyOf(slot))) n--;
    if (rec && (includeDeleted || !queryAllOnly(rec)) && (!w || textInWindow(rec[w.field], w))) n++;
  }
  return n;
}

/** A changed record in an ORDER BY: its key as stored text, and as epoch ms when that text is canonical (else NaN). */
interface ChangedKey {
  slot: number;
  key: string | null;
  /** canonicalMs(key), found on the first comparison with a generated slot (a delta's window often has none). */
  ms?: number;
}

/** Epoch ms whose canonical text is 'YYYY-MM-DDTHH:mm:ss.SSSZ' (years 0000-9999): there, text order is time order. */
const MIN_FIXED = Date.parse('0000-01-01T00:00:00.000Z');
const MAX_FIXED = Date.parse('9999-12-31T23:59:59.999Z');

function canonicalMs(key: string | null): number {
  if (key === null || key.length !== 24) return Number.NaN;
  const ms = Date.parse(key);
  return ms >= MIN_FIXED && ms <= MAX_FIXED && isoOf(ms) === key ? ms : Number.NaN;
}

/**
 * runPart's order (soql.ts): text order, nulls per nullsFirst (ORDER BY, docs/salesforce.md#soql-limits-and-errors),
 * ties by slot.
 */
function changedOrder(o: CursorOrderOptions): (a: ChangedKey, b: ChangedKey) => number {
  return (a, b) => {
    if (a.key !== b.key) {
      if (a.key === null || b.key === null) return (a.key === null) === o.nullsFirst ? -1 : 1;
      return a.key < b.key !== o.desc ? -1 : 1;
    }
    return o.tieDesc ? b.slot - a.slot : a.slot - b.slot;
  };
}

/** The overlay records an ORDER BY over the window returns, in its order. */
function changedKeys(
  overlay: ReadonlyMap<number, SfRecord | null>,
  field: string,
  w: CursorWindow | null,
  o: CursorOrderOptions,
): ChangedKey[] {
  const out: ChangedKey[] = [];
  for (const [slot, rec] of overlay) {
    if (!rec || (!o.includeDeleted && queryAllOnly(rec))) continue;
    if (w && !textInWindow(rec[field], w)) continue;
    const v = rec[field];
    out.push({ slot, key: typeof v === 'string' ? v : null });
  }
  return out.sort(changedOrder(o));
}

/** Sign of (generated slot with key ms) against a changed record in the ORDER BY: the order changedOrder gives. */
function generatedVsChanged(ms: number, slot: number, c: ChangedKey, o: CursorOrderOptions): number {
  if (c.key === null) return o.nullsFirst ? 1 : -1;
  c.ms ??= canonicalMs(c.key);
  let cmp: number;
  if (!Number.isNaN(c.ms) && ms >= MIN_FIXED && ms <= MAX_FIXED) cmp = ms - c.ms;
  else {
    const text = isoOf(ms);
    cmp = text < c.key ? -1 : text > c.key ? 1 : 0;
  }
  if (cmp !== 0) return o.desc ? -cmp : cmp;
  return o.tieDesc ? c.slot - slot : slot - c.slot;
}

/**
 * Index positions [start, end) in ORDER BY order: groups of equal keys ascending (descending when desc), each
 * group's slots ascending (descending when tieDesc). The index keeps equal keys in slot order (buildCursorIndex).
 */
function* orderedPositions(
  keys: Float64Array,
  start: number,
  end: number,
  desc: boolean,
  tieDesc: boolean,
): Generator<number> {
  let lo = desc ? end : start;
  for (;;) {
    let from: number;
    let to: number;
    if (desc) {
      if (lo <= start) return;
      to = lo;
      from = to - 1;
      while (from > start && keys[from - 1] === keys[to - 1]) from--;
      lo = from;
    } else {
      if (lo >= end) return;
      from = lo;
      to = from + 1;
      while (to < end && keys[to] === keys[from]) to++;
      lo = to;
    }
    if (tieDesc) for (let i = to - 1; i >= from; i--) yield i;
    else for (let i = from; i < to; i++) yield i;
  }
}

/**
 * `ORDER BY field [LIMIT take]` over a window (null = all) without building a record: the generated slots in index
 * order, merged with the matching overlay records (sorted apart), in the order runPart sorts (soql.ts): text order,
 * nulls per nullsFirst, ties by slot. Only the first `take` (which may be infinite) are kept.
 */
export function windowOrder(
  gen: IndexedSlots | null,
  overlay: ReadonlyMap<number, SfRecord | null>,
  field: string,
  w: CursorWindow | null,
  o: CursorOrderOptions,
): Int32Array {
  if (o.take <= 0) return new Int32Array(0);
  const changed = changedKeys(overlay, field, w, o);
  const [start, end] = gen ? windowPositions(gen.index, w) : [0, 0];
  const out = new Int32Array(Math.min(o.take, end - start + changed.length));
  let n = 0;
  let c = 0;
  if (gen) {
    const { keys, slots } = gen.index;
    for (const i of orderedPositions(keys, start, end, o.desc, o.tieDesc)) {
      const slot = slots[i]!;
      if ((overlay.size > 0 && overlay.has(slot)) || (!o.includeDeleted && gen.isDeleted(slot))) continue;
      while (c < changed.length && n < out.length && generatedVsChanged(keys[i]!, slot, changed[c]!, o) > 0)
        out[n++] = changed[c++]!.slot;
      if (n === out.length) break;
      out[n++] = slot;
    }
  }
  while (c < changed.length && n < out.length) out[n++] = changed[c++]!.slot;
  return out.subarray(0, n);
}
