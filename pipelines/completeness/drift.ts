// Schema drift: what changed in describe since the last run, and column types brought in line.
import type pg from 'pg';
import { type ColumnTypeOptions, columnTypeOf } from '../../schemas/fieldTypes.ts';
import type { FieldSpec, ObjectSpec } from '../../schemas/records.ts';
import { alterColumnType, columnTypes } from '../../loaders/ddl.ts';
import { dropLiveView, ensureLiveView } from '../../loaders/views.ts';
import type { FieldMemo, FieldSnapshot, SchemaEvent } from '../../loaders/objectState.ts';
import { widenedType } from './widenType.ts';

export interface SchemaDiff {
  /** New since the last run: their columns need values for the rows already loaded. */
  added: FieldSpec[];
  removed: string[];
  typeChanged: { field: FieldSpec; oldType: string }[];
  /** Same type, another describe size (length, precision or scale, docs/salesforce.md#field-sizes). */
  sizeChanged: { field: FieldSpec; oldSize: string | null }[];
  /**
   * Formula fields whose calculatedFormula text changed (docs/salesforce.md#sobject-describe): results changed without
   * a SystemModstamp bump.
   */
  formulaChanged: FieldSpec[];
  /** Hashed at the last run, stored as read now (config columns.hash): their columns hold hashes to replace. */
  unhashed?: FieldSpec[];
}

/** describe's size of a field as the snapshot keeps it: '40' (length), '18,2' (precision,scale), null (none). */
export function sizeOf(f: FieldSpec): string | null {
  if (f.length !== undefined) return String(f.length);
  return f.precision !== undefined ? `${f.precision},${f.scale ?? 0}` : null;
}

export function snapshotOf(spec: ObjectSpec): FieldSnapshot {
  const out: FieldSnapshot = {};
  for (const f of spec.fields)
    out[f.name] = {
      sfType: f.sfType,
      pgType: f.pgType,
      formula: f.calculated ? f.calculatedFormula : null,
      size: sizeOf(f),
      ...(f.hashed && { hashed: true }),
    };
  return out;
}

/** Snapshots compare equal when every field has the same members (key order aside). */
export function sameSnapshot(a: FieldSnapshot | null, b: FieldSnapshot): boolean {
  if (!a) return false;
  const names = Object.keys(b);
  const same = (x: FieldMemo, y: FieldMemo) =>
    x.sfType === y.sfType &&
    x.pgType === y.pgType &&
    x.formula === y.formula &&
    x.size === y.size &&
    Boolean(x.hashed) === Boolean(y.hashed);
  return Object.keys(a).length === names.length && names.every((n) => a[n] !== undefined && same(a[n], b[n]!));
}

/** 'string(40)', 'currency(18,2)', 'textarea': a type with its describe size, for drift events. */
const sizedType = (sfType: string, size: string | null) => (size === null ? sfType : `${sfType}(${size})`);

/** Pure. No previous snapshot (first run, or a table from before migration 0002) = no drift to act on. */
export function diffSchema(prev: FieldSnapshot | null, spec: ObjectSpec): SchemaDiff {
  const diff: SchemaDiff = { added: [], removed: [], typeChanged: [], sizeChanged: [], formulaChanged: [] };
  if (!prev) return diff;
  const names = new Set(spec.fields.map((f) => f.name));
  for (const f of spec.fields) {
    const before = prev[f.name];
    if (!before) diff.added.push(f);
    else if (before.sfType !== f.sfType) diff.typeChanged.push({ field: f, oldType: before.sfType });
    else {
      // A snapshot from before sizes were kept has no size: nothing to compare it with.
      if (before.size !== undefined && before.size !== sizeOf(f))
        diff.sizeChanged.push({ field: f, oldSize: before.size });
      if (f.calculated && before.formula !== f.calculatedFormula) diff.formulaChanged.push(f);
    }
    // Newly hashed columns need nothing here: pipelines/completeness/hashExisting.ts hashed them before the load.
    if (before?.hashed && !f.hashed) {
      diff.unhashed ??= [];
      diff.unhashed.push(f);
    }
  }
  diff.removed = Object.keys(prev).filter((name) => !names.has(name));
  return diff;
}

/** SQLSTATE of ALTER TYPE on a column a view or rule reads (PostgreSQL: feature_not_supported). */
const DEPENDENT_OBJECT = '0A000';

/**
 * Brings each column to hold what its field now needs (pipelines/completeness/widenType.ts): a longer varchar, a
 * numeric holding both sizes, a safe cast, else text (which holds any value Salesforce sends). A column is never
 * narrowed: one already wider (text from before exact types, a varchar describe has since shortened) stays as it is.
 * A view of the user's over the column blocks the change: the column is kept and the change tried again next run.
 * Call it outside a transaction, like ensureTable. Returns column -> what was done.
 */
export async function applyTypeChanges(
  client: pg.ClientBase,
  schema: string,
  spec: ObjectSpec,
  types: ColumnTypeOptions = {},
  onBlocked: (column: string, why: string) => void = () => {},
): Promise<Map<string, string>> {
  const actual = await columnTypes(client, schema, spec.table);
  const done = new Map<string, string>();
  let viewDropped = false;
  try {
    for (const f of spec.fields) {
      const have = actual.get(f.column);
      const change = have === undefined ? null : widenedType(have, columnTypeOf(f, types));
      if (!change) continue;
      // The live view over the column blocks ALTER TYPE: drop it, recreate it below.
      if (!viewDropped) await dropLiveView(client, schema, spec.table);
      viewDropped = true;
      try {
        await alterColumnType(client, schema, spec.table, f.column, change.type);
        done.set(f.column, change.action);
      } catch (err) {
        const e = err as { code?: string; message?: string; detail?: string };
        if (e.code !== DEPENDENT_OBJECT) throw err;
        const why = `${e.message ?? 'a view depends on it'}${e.detail ? ` (${e.detail})` : ''}`;
        done.set(f.column, `kept ${have}: ${why}`);
        onBlocked(f.column, why);
      }
    }
  } finally {
    if (viewDropped) await ensureLiveView(client, schema, spec.table);
  }
  return done;
}

/** The drift events of one run, with what sfsync did about each. */
export function driftEvents(
  diff: SchemaDiff,
  typeActions: Map<string, string>,
  backfilled: number | null,
): SchemaEvent[] {
  const events: SchemaEvent[] = [];
  const filled = backfilled === null ? 'new column' : `new column, back-filled ${backfilled} rows`;
  for (const f of diff.added)
    events.push({ field: f.name, kind: 'added', oldType: null, newType: f.sfType, action: filled });
  for (const name of diff.removed)
    events.push({ field: name, kind: 'removed', oldType: null, newType: null, action: 'column and data kept' });
  for (const { field, oldType } of diff.typeChanged) {
    events.push({
      field: field.name,
      kind: 'type-changed',
      oldType,
      newType: field.sfType,
      action: typeActions.get(field.column) ?? 'column type unchanged',
    });
  }
  for (const { field, oldSize } of diff.sizeChanged) {
    events.push({
      field: field.name,
      kind: 'size-changed',
      oldType: sizedType(field.sfType, oldSize),
      newType: sizedType(field.sfType, sizeOf(field)),
      // A describe that shrinks a size leaves the wider column: values loaded before may not fit the new size.
      action: typeActions.get(field.column) ?? 'column kept: it holds the new size (a column is never narrowed)',
    });
  }
  for (const f of diff.formulaChanged)
    events.push({ field: f.name, kind: 'formula-changed', oldType: null, newType: null, action: 'values refreshed' });
  const read = backfilled === null ? 'stored as read from now on' : `back-filled ${backfilled} rows as read`;
  for (const f of diff.unhashed ?? [])
    events.push({ field: f.name, kind: 'unhashed', oldType: null, newType: null, action: `no longer hashed; ${read}` });
  return events;
}
