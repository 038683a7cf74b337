// A decoded change event (docs/salesforce.md#change-event-fields) -> the column values it sets (pure). The header's
// changedFields / nulledFields / diffFields are bitmaps over the positions of the event schema's fields; a compound
// field (an address, a geolocation, a person's Name) is one record-typed field whose bits are in an extra
// "<parentPosition>-0x<bitmap>" entry, and its nested fields land in the component columns sync keeps.
import { DataError } from '../lib/errors.ts';
import type { EventLayout, LayoutField } from '../schemas/eventLayout.ts';
import type { FieldSpec, ObjectSpec } from '../schemas/records.ts';
import { hashValue, requireHashKey } from './hashValue.ts';

export type ChangeType =
  | 'CREATE'
  | 'UPDATE'
  | 'DELETE'
  | 'UNDELETE'
  | 'GAP_CREATE'
  | 'GAP_UPDATE'
  | 'GAP_DELETE'
  | 'GAP_UNDELETE'
  | 'GAP_OVERFLOW';

const CHANGE_TYPES: ReadonlySet<string> = new Set([
  'CREATE',
  'UPDATE',
  'DELETE',
  'UNDELETE',
  'GAP_CREATE',
  'GAP_UPDATE',
  'GAP_DELETE',
  'GAP_UNDELETE',
  'GAP_OVERFLOW',
]);

export type { EventLayout, LayoutField } from '../schemas/eventLayout.ts';

/**
 * Where each event field goes: `Name` or `BillingAddress.Street` -> the FieldSpec of its column. Fields absent from
 * the map (formula fields never come; fields the object spec does not load) are ignored.
 */
export type ColumnMap = ReadonlyMap<string, FieldSpec>;

export interface DecodedChange {
  changeType: ChangeType;
  entityName: string;
  /** docs/salesforce.md#change-event-header: usually one id; several for one identical change; `001*` = all. */
  recordIds: string[];
  transactionKey: string;
  sequenceNumber: number;
  /** Epoch ms of the Salesforce transaction's commit. */
  commitTimestamp: number;
  /** Columns to set, in schema order; null = SQL NULL. Empty for DELETE and GAP_* events. */
  values: Map<string, string | null>;
  /** Event fields whose value was sent as a diff, not the value (large text areas). */
  diffFields: string[];
  /**
   * Fields the event cannot give the value of: diffFields, a compound whose own column holds a value Salesforce
   * derives from its parts (a Contact's or person account's Name, the full name), and a compound whose changed or
   * nulled parts the bitmaps do not name. Non-empty: the record must be read again.
   */
  incomplete: string[];
  /**
   * ISO instant the row's cursor column gets (docs/salesforce.md#change-events-and-systemmodstamp); null for DELETE and
   * GAP_*.
   */
  cursor: string | null;
}

/** The positions of the set bits of a `0x...` bitmap; bit 0 (least significant) is position 0. */
export function bitmapPositions(hex: string): number[] {
  if (!/^0x[0-9a-f]*$/i.test(hex)) throw new DataError(`change event bitmap '${hex}' is not a 0x... hex string`);
  const digits = hex.slice(2);
  const out: number[] = [];
  // Right to left, one hex digit (4 bits) at a time: any length, no number precision limit.
  for (let d = 0; d < digits.length; d++) {
    const nibble = Number.parseInt(digits[digits.length - 1 - d]!, 16);
    for (let b = 0; b < 4; b++) if (nibble & (1 << b)) out.push(d * 4 + b);
  }
  return out;
}

/**
 * The field paths a bitmap list names: `Name` for a top-level field, `BillingAddress.Street` for a compound field's
 * nested one. Entries may come in any order, and the top-level bitmap may be missing (only nested fields changed).
 */
export function bitmapFields(entries: readonly string[], layout: EventLayout): string[] {
  const out: string[] = [];
  for (const entry of entries) {
    const nested = /^(\d+)-(0x[0-9a-f]*)$/i.exec(entry);
    if (!nested) {
      for (const p of bitmapPositions(entry)) {
        const f = layout[p];
        if (!f) throw new DataError(`change event bitmap ${entry} names position ${p}, past the event schema`);
        out.push(f.name);
      }
      continue;
    }
    const parent = layout[Number(nested[1])];
    if (!parent?.nested)
      throw new DataError(`change event bitmap ${entry}: position ${nested[1]} is not a compound field`);
    for (const p of bitmapPositions(nested[2]!)) {
      const child = parent.nested[p];
      if (child === undefined)
        throw new DataError(`change event bitmap ${entry} names a nested position past the schema`);
      out.push(`${parent.name}.${child}`);
    }
  }
  return out;
}

/**
 * docs/salesforce.md#compound-fields: the component field that holds a compound field's nested value. Components name
 * their compound in describe (compoundFieldName); their own names are the nested name (FirstName), the standard prefix
 * plus it (BillingStreet) or the custom form (Addr__Street__s).
 */
export function componentOf(nested: string, components: readonly string[]): string | undefined {
  const exact = components.find((c) => c === nested);
  if (exact) return exact;
  const suffixed = components.filter((c) => c.endsWith(`__${nested}__s`) || c.endsWith(nested));
  return suffixed.length === 1 ? suffixed[0] : undefined;
}

/**
 * The column map of an object: its spec's fields by name, and every nested field of the layout's compound fields to
 * the component describe names (`compoundOf`: component name -> compound name, from describe).
 */
export function columnMapOf(
  spec: ObjectSpec,
  layout: EventLayout,
  compoundOf: ReadonlyMap<string, string>,
): Map<string, FieldSpec> {
  const byName = new Map(spec.fields.map((f) => [f.name, f]));
  const map = new Map<string, FieldSpec>();
  for (const f of layout) {
    if (!f.nested) {
      const field = byName.get(f.name);
      if (field) map.set(f.name, field);
      continue;
    }
    // A compound that is also a loaded field (a Contact's Name: the full name Salesforce composes from the parts).
    const derived = byName.get(f.name);
    if (derived) map.set(f.name, derived);
    const components = [...compoundOf].filter(([, parent]) => parent === f.name).map(([c]) => c);
    for (const child of f.nested) {
      const field = byName.get(componentOf(child, components) ?? '');
      if (field) map.set(`${f.name}.${child}`, field);
    }
  }
  return map;
}

const DAY_MS = 86_400_000;

/**
 * An event value as the text PostgreSQL parses for the column (schemas/records.ts Row). Per
 * docs/salesforce.md#change-event-fields, datetimes are epoch ms, dates the epoch ms of their midnight UTC (a day
 * count is read too), times ms since midnight. A hashed date (its column is text) is spelled as REST and Bulk spell
 * it, so its hash is the same whichever path brought it.
 */
export function columnText(
  field: Pick<FieldSpec, 'pgType' | 'name'> & { sfType?: string },
  value: unknown,
): string | null {
  if (value === null || value === undefined) return null;
  switch (field.sfType === 'date' ? 'date' : field.pgType) {
    case 'timestamptz':
      return typeof value === 'number' ? new Date(value).toISOString() : String(value);
    case 'date':
      if (typeof value !== 'number') return String(value);
      // A day count stays under 10^7 (year 29,000); the epoch ms of any midnight but 1970-01-01's are 8.64 * 10^7 or
      // more.
      return new Date(Math.abs(value) < 1e7 ? value * DAY_MS : value).toISOString().slice(0, 10);
    case 'time':
      return typeof value === 'number' ? new Date(value).toISOString().slice(11, 23) : String(value);
    case 'boolean':
      return typeof value === 'boolean' ? String(value) : String(value).toLowerCase();
    case 'jsonb':
      return typeof value === 'string' ? value : JSON.stringify(value);
    default:
      if (typeof value === 'object') throw new DataError(`${field.name}: a nested value where a scalar was expected`);
      return String(value);
  }
}

interface Header {
  entityName?: unknown;
  recordIds?: unknown;
  changeType?: unknown;
  transactionKey?: unknown;
  sequenceNumber?: unknown;
  commitTimestamp?: unknown;
  changedFields?: unknown;
  nulledFields?: unknown;
  diffFields?: unknown;
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : []);

/** The value of a field path in the decoded record: `BillingAddress.Street` reads the nested record. */
function valueAt(record: Record<string, unknown>, path: string): unknown {
  const dot = path.indexOf('.');
  if (dot < 0) return record[path];
  const parent = record[path.slice(0, dot)];
  return parent !== null && typeof parent === 'object'
    ? (parent as Record<string, unknown>)[path.slice(dot + 1)]
    : null;
}

/**
 * docs/salesforce.md#change-event-fields: a person account org's Account `Name` is `["null","string",
 * Switchable_PersonName]`: a business account's name is a plain string value, a person's name a compound.
 */
const plainName = (f: LayoutField, record: Record<string, unknown>) =>
  f.nested !== undefined && typeof record[f.name] === 'string';

/** Every field path of the layout: top-level fields and compound fields' nested ones (a plain name both). */
function allPaths(layout: EventLayout, record: Record<string, unknown>): string[] {
  return layout.flatMap((f) => {
    if (!f.nested) return [f.name];
    const parts = f.nested.map((c) => `${f.name}.${c}`);
    return plainName(f, record) ? [f.name, ...parts] : parts;
  });
}

/**
 * A decoded event record -> the change to apply. CREATE and UNDELETE carry the whole record (every field, null when
 * empty); UPDATE only the fields changedFields names, nulledFields set to NULL; DELETE and GAP_* no field values
 * (docs/salesforce.md#change-event-fields).
 */
export function decodeChange(
  record: Record<string, unknown>,
  layout: EventLayout,
  columns: ColumnMap,
  hashKey: string | null = null,
): DecodedChange {
  const header = record.ChangeEventHeader as Header | undefined;
  if (!header || typeof header !== 'object') throw new DataError('change event without a ChangeEventHeader');
  const changeType = String(header.changeType);
  if (!CHANGE_TYPES.has(changeType)) throw new DataError(`change event of unknown changeType '${changeType}'`);
  const commitTimestamp = Number(header.commitTimestamp);
  if (!Number.isFinite(commitTimestamp)) throw new DataError('change event without a commitTimestamp');
  const change: DecodedChange = {
    changeType: changeType as ChangeType,
    entityName: String(header.entityName ?? ''),
    recordIds: strings(header.recordIds),
    transactionKey: String(header.transactionKey ?? ''),
    sequenceNumber: Number(header.sequenceNumber ?? 0),
    commitTimestamp,
    values: new Map(),
    diffFields: [],
    incomplete: [],
    cursor: null,
  };
  if (changeType !== 'CREATE' && changeType !== 'UPDATE' && changeType !== 'UNDELETE') return change;
  const nulled = new Set(bitmapFields(strings(header.nulledFields), layout));
  change.diffFields = bitmapFields(strings(header.diffFields), layout);
  const paths =
    changeType === 'UPDATE' ? bitmapFields(strings(header.changedFields), layout) : allPaths(layout, record);
  const named = (list: Iterable<string>, name: string) => [...list].some((p) => p.startsWith(`${name}.`));
  // Paths never applied: the parts of a plain name (a string has none).
  const skipped = new Set<string>();
  for (const f of layout) {
    if (!f.nested) continue;
    const loaded = columns.has(f.name) || f.nested.some((c) => columns.has(`${f.name}.${c}`));
    if (plainName(f, record)) {
      // A business account's Name: a value for its column. Parts named beside a string are not in the event.
      if (changeType !== 'UPDATE' || !named([...paths, ...nulled], f.name)) continue;
      for (const c of f.nested) skipped.add(`${f.name}.${c}`);
      if (loaded) change.incomplete.push(f.name);
      continue;
    }
    // docs/salesforce.md#change-event-fields: a compound may come as its top-level bit alone, with no
    // `<parentPosition>-0x...` entry naming its parts. Changed fields include the nulled ones, and an UPDATE's nested
    // record holds null for every part that did not change: the parts changedFields names are read from it (null
    // where nulled); which others changed or were nulled is unknown, so the record is read again rather than guessed.
    let partsUnknown = false;
    if (nulled.has(f.name) && !named(nulled, f.name)) {
      nulled.delete(f.name);
      partsUnknown = !named(paths, f.name);
    }
    if (changeType === 'UPDATE' && paths.includes(f.name) && !named(paths, f.name)) partsUnknown = true;
    const derivedChanged =
      columns.has(f.name) && (changeType === 'UPDATE' ? named([...paths, ...nulled], f.name) : record[f.name] != null);
    if ((partsUnknown && loaded) || derivedChanged) change.incomplete.push(f.name);
  }
  change.incomplete.push(...change.diffFields);
  for (const path of [...paths, ...[...nulled].filter((p) => !paths.includes(p))]) {
    const field = columns.get(path);
    // A compound's own column (a derived full name) comes from the re-read, never from the nested record.
    if (!field || skipped.has(path) || change.incomplete.includes(path)) continue;
    const text = nulled.has(path) ? null : columnText(field, valueAt(record, path));
    // A hashed column (config columns.hash) never holds the value itself (transforms/hashValue.ts).
    change.values.set(field.column, text !== null && field.hashed ? hashValue(requireHashKey(hashKey), text) : text);
  }
  // docs/salesforce.md#change-events-and-systemmodstamp: LastModifiedDate, stamped in the same transaction as
  // SystemModstamp and never later than it; the commit time when the event lacks it.
  const raw = record.LastModifiedDate;
  const modified = typeof raw === 'number' ? raw : typeof raw === 'string' ? Date.parse(raw) : Number.NaN;
  change.cursor = new Date(Number.isNaN(modified) ? commitTimestamp : modified).toISOString();
  return change;
}
