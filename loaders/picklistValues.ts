// sfsync.picklist_values (migration 0005): describe's picklist entries of the loaded fields, so analysts can join a
// value to its label (docs/salesforce.md#picklist-values). Written with the field snapshot, and only what changed.
import type pg from 'pg';
import type { ObjectSpec } from '../schemas/records.ts';
import type { ObjectKey } from './state.ts';

/** One entry as the table holds it. */
export interface PicklistRow {
  field: string;
  value: string;
  label: string;
  active: boolean;
  isDefault: boolean;
  /** 1-based position in describe's list. */
  sortOrder: number;
}

export interface StoredPicklistRow extends PicklistRow {
  /** describe no longer lists it (removed_at is set). */
  removed: boolean;
}

/** What the table must change to match describe: entries to write, and entries to mark removed. */
export interface PicklistChanges {
  upserts: PicklistRow[];
  removed: { field: string; value: string }[];
}

/** The entries describe lists now, one per field and value (the first wins, should describe repeat one). */
export function picklistRowsOf(spec: ObjectSpec): PicklistRow[] {
  const rows: PicklistRow[] = [];
  for (const f of spec.fields) {
    const seen = new Set<string>();
    for (const [i, e] of (f.picklistEntries ?? []).entries()) {
      if (seen.has(e.value)) continue;
      seen.add(e.value);
      rows.push({
        field: f.name,
        value: e.value,
        label: e.label,
        active: e.active,
        isDefault: e.isDefault,
        sortOrder: i + 1,
      });
    }
  }
  return rows;
}

const keyOf = (r: { field: string; value: string }) => `${r.field}\u0000${r.value}`;

/**
 * Pure. A value describe no longer lists is marked removed, not deleted: records may still hold it (docs/
 * salesforce.md#picklist-values), so its last label stays joinable; listed again, it is written back unmarked.
 */
export function picklistChanges(stored: readonly StoredPicklistRow[], wanted: readonly PicklistRow[]): PicklistChanges {
  const have = new Map(stored.map((r) => [keyOf(r), r]));
  const want = new Set(wanted.map(keyOf));
  const upserts = wanted.filter((w) => {
    const h = have.get(keyOf(w));
    return (
      !h ||
      h.removed ||
      h.label !== w.label ||
      h.active !== w.active ||
      h.isDefault !== w.isDefault ||
      h.sortOrder !== w.sortOrder
    );
  });
  const removed = stored
    .filter((r) => !r.removed && !want.has(keyOf(r)))
    .map((r) => ({ field: r.field, value: r.value }));
  return { upserts, removed };
}

export const hasPicklistChanges = (c: PicklistChanges) => c.upserts.length > 0 || c.removed.length > 0;

export async function readPicklistValues(client: pg.ClientBase, key: ObjectKey): Promise<StoredPicklistRow[]> {
  const { rows } = await client.query<StoredPicklistRow>(
    `SELECT field, value, label, active, is_default AS "isDefault", sort_order AS "sortOrder",
       removed_at IS NOT NULL AS removed
     FROM sfsync.picklist_values WHERE target_schema = $1 AND object = $2`,
    [key.schema, key.object],
  );
  return rows;
}

/** One statement each for the writes and the removals, whatever the number of entries. */
export async function applyPicklistChanges(
  client: pg.ClientBase,
  key: ObjectKey,
  changes: PicklistChanges,
): Promise<void> {
  const { upserts, removed } = changes;
  if (upserts.length > 0) {
    await client.query(
      `INSERT INTO sfsync.picklist_values AS p
         (target_schema, object, field, value, label, active, is_default, sort_order)
       SELECT $1, $2, u.* FROM unnest($3::text[], $4::text[], $5::text[], $6::boolean[], $7::boolean[], $8::int[])
         AS u(field, value, label, active, is_default, sort_order)
       ON CONFLICT (target_schema, object, field, value) DO UPDATE SET
         label = EXCLUDED.label, active = EXCLUDED.active, is_default = EXCLUDED.is_default,
         sort_order = EXCLUDED.sort_order, removed_at = NULL, updated_at = now()`,
      [
        key.schema,
        key.object,
        upserts.map((r) => r.field),
        upserts.map((r) => r.value),
        upserts.map((r) => r.label),
        upserts.map((r) => r.active),
        upserts.map((r) => r.isDefault),
        upserts.map((r) => r.sortOrder),
      ],
    );
  }
  if (removed.length > 0) {
    await client.query(
      `UPDATE sfsync.picklist_values AS p SET removed_at = now(), updated_at = now()
       FROM unnest($3::text[], $4::text[]) AS r(field, value)
       WHERE p.target_schema = $1 AND p.object = $2 AND p.field = r.field AND p.value = r.value
         AND p.removed_at IS NULL`,
      [key.schema, key.object, removed.map((r) => r.field), removed.map((r) => r.value)],
    );
  }
}
