// Schema drift: what changed in describe since the last run, and column types brought in line.
import type pg from 'pg';
import type { FieldSpec, ObjectSpec } from '../../schemas/records.ts';
import { alterColumnType, columnTypes } from '../../loaders/ddl.ts';
import { dropLiveView, ensureLiveView } from '../../loaders/views.ts';
import type { FieldSnapshot, SchemaEvent } from '../../loaders/objectState.ts';

export interface SchemaDiff {
  /** New since the last run: their columns need values for the rows already loaded. */
  added: FieldSpec[];
  removed: string[];
  typeChanged: { field: FieldSpec; oldType: string }[];
  /**
   * Formula fields whose calculatedFormula text changed (docs/salesforce.md#sobject-describe): results changed without
   * a SystemModstamp bump.
   */
  formulaChanged: FieldSpec[];
}

export function snapshotOf(spec: ObjectSpec): FieldSnapshot {
  const out: FieldSnapshot = {};
  for (const f of spec.fields)
    out[f.name] = { sfType: f.sfType, pgType: f.pgType, formula: f.calculated ? f.calculatedFormula : null };
  return out;
}

/** Pure. No previous snapshot (first run, or a table from before migration 0002) = no drift to act on. */
export function diffSchema(prev: FieldSnapshot | null, spec: ObjectSpec): SchemaDiff {
  const diff: SchemaDiff = { added: [], removed: [], typeChanged: [], formulaChanged: [] };
  if (!prev) return diff;
  const names = new Set(spec.fields.map((f) => f.name));
  for (const f of spec.fields) {
    const before = prev[f.name];
    if (!before) diff.added.push(f);
    else if (before.sfType !== f.sfType) diff.typeChanged.push({ field: f, oldType: before.sfType });
    else if (f.calculated && before.formula !== f.calculatedFormula) diff.formulaChanged.push(f);
  }
  diff.removed = Object.keys(prev).filter((name) => !names.has(name));
  return diff;
}

/** Casts that never lose or refuse a value (to text is always possible and is the fallback). */
const SAFE_CASTS: Readonly<Record<string, readonly string[]>> = {
  integer: ['bigint', 'numeric'],
  bigint: ['numeric'],
  date: ['timestamptz'],
};

/** format_type spellings of the PgType names (loaders/ddl.ts columnTypes). */
const FORMAT_TYPE: Readonly<Record<string, string>> = {
  'timestamp with time zone': 'timestamptz',
  'time without time zone': 'time',
};

const normalType = (t: string) => FORMAT_TYPE[t] ?? t.replace(/\(.*\)$/, '');

/**
 * Brings each column to its field's Postgres type: a safe cast when there is one, else text (which holds any value
 * Salesforce sends). A column already widened to text stays text. Returns column -> what was done.
 */
export async function applyTypeChanges(
  client: pg.ClientBase,
  schema: string,
  spec: ObjectSpec,
): Promise<Map<string, string>> {
  const actual = await columnTypes(client, schema, spec.table);
  const done = new Map<string, string>();
  for (const f of spec.fields) {
    const have = actual.get(f.column);
    if (have === undefined) continue;
    const current = normalType(have);
    if (current === f.pgType || current === 'text') continue;
    const target = SAFE_CASTS[current]?.includes(f.pgType) ? f.pgType : 'text';
    // A view over the column blocks ALTER TYPE: drop it, recreate it below.
    await dropLiveView(client, schema, spec.table);
    await alterColumnType(client, schema, spec.table, f.column, target);
    done.set(f.column, target === f.pgType ? `cast ${current} -> ${target}` : `widened ${current} -> text`);
  }
  if (done.size > 0) await ensureLiveView(client, schema, spec.table);
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
  for (const f of diff.formulaChanged)
    events.push({ field: f.name, kind: 'formula-changed', oldType: null, newType: null, action: 'values refreshed' });
  return events;
}
