// sfsync.object_state and sfsync.schema_events (migration 0002): delete checks, the last describe seen, drift history.
import type pg from 'pg';
import type { ObjectKey } from './state.ts';

/** What sfsync knew about one field at the last completed run. */
export interface FieldMemo {
  sfType: string;
  pgType: string;
  /** describe calculatedFormula (docs/salesforce.md#sobject-describe); null for plain fields. */
  formula: string | null;
  /** Stored as keyed hashes (config columns.hash); absent in snapshots from before column hashing = false. */
  hashed?: boolean;
  /**
   * describe's size (pipelines/completeness/drift.ts sizeOf): '40', '18,2', or null for none. Absent in snapshots
   * saved before sizes were kept.
   */
  size?: string | null;
}

export type FieldSnapshot = Record<string, FieldMemo>;

export interface ObjectState {
  lastDeletedCheck: string | null;
  needsReconcile: boolean;
  fields: FieldSnapshot | null;
  /**
   * The filter (config objects[].where, as extractors/soqlFilter.ts normalises it) the rows were last brought in line
   * with; null = none. Absent where the state was built by hand.
   */
  filter?: string | null;
}

/** `hashed` / `unhashed`: the config started or stopped hashing the field (columns.hash). */
export type DriftKind =
  | 'added'
  | 'removed'
  | 'type-changed'
  | 'size-changed'
  | 'formula-changed'
  | 'hashed'
  | 'unhashed';

export interface SchemaEvent {
  field: string;
  kind: DriftKind;
  oldType: string | null;
  newType: string | null;
  /** What sfsync did about it, e.g. 'back-filled 120 rows', 'column kept', 'widened to text'. */
  action: string;
}

export interface SchemaEventRecord extends SchemaEvent {
  object: string;
  at: string;
}

const iso = (expr: string) => `to_char(${expr} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

export async function getObjectState(client: pg.ClientBase, key: ObjectKey): Promise<ObjectState> {
  const { rows } = await client.query<ObjectState>(
    `SELECT ${iso('last_deleted_check')} AS "lastDeletedCheck", needs_reconcile AS "needsReconcile", fields, filter
     FROM sfsync.object_state WHERE target_schema = $1 AND object = $2`,
    [key.schema, key.object],
  );
  return rows[0] ?? { lastDeletedCheck: null, needsReconcile: false, fields: null, filter: null };
}

async function upsert(client: pg.ClientBase, key: ObjectKey, column: string, value: unknown): Promise<void> {
  await client.query(
    `INSERT INTO sfsync.object_state AS s (target_schema, object, ${column}) VALUES ($1, $2, $3)
     ON CONFLICT (target_schema, object) DO UPDATE SET ${column} = EXCLUDED.${column}, updated_at = now()`,
    [key.schema, key.object, value],
  );
}

/**
 * docs/salesforce.md#getdeleted: the next getDeleted window starts at `coveredUntil` (latestDateCovered); never moves
 * backwards.
 */
export async function saveDeletedCheck(client: pg.ClientBase, key: ObjectKey, coveredUntil: string): Promise<void> {
  await client.query(
    `INSERT INTO sfsync.object_state AS s (target_schema, object, last_deleted_check) VALUES ($1, $2, $3)
     ON CONFLICT (target_schema, object) DO UPDATE SET
       last_deleted_check = GREATEST(s.last_deleted_check, EXCLUDED.last_deleted_check), updated_at = now()`,
    [key.schema, key.object, coveredUntil],
  );
}

export async function setNeedsReconcile(client: pg.ClientBase, key: ObjectKey, needed: boolean): Promise<void> {
  await upsert(client, key, 'needs_reconcile', needed);
}

/** The filter the object's rows are now in line with (pipelines/sync/filterCheck.ts); null = none. */
export async function saveFilter(client: pg.ClientBase, key: ObjectKey, filter: string | null): Promise<void> {
  await upsert(client, key, 'filter', filter);
}

export async function saveFieldSnapshot(client: pg.ClientBase, key: ObjectKey, fields: FieldSnapshot): Promise<void> {
  await upsert(client, key, 'fields', JSON.stringify(fields));
}

export async function recordSchemaEvents(
  client: pg.ClientBase,
  key: ObjectKey,
  events: readonly SchemaEvent[],
): Promise<void> {
  for (const e of events) {
    await client.query(
      'INSERT INTO sfsync.schema_events (target_schema, object, field, kind, old_type, new_type, action) ' +
        'VALUES ($1, $2, $3, $4, $5, $6, $7)',
      [key.schema, key.object, e.field, e.kind, e.oldType, e.newType, e.action],
    );
  }
}

/** Newest first. */
export async function listSchemaEvents(
  client: pg.ClientBase,
  opts: { schema: string; object?: string; limit: number },
): Promise<SchemaEventRecord[]> {
  const { rows } = await client.query<SchemaEventRecord>(
    `SELECT object, field, kind, old_type AS "oldType", new_type AS "newType", action, ${iso('at')} AS at
     FROM sfsync.schema_events WHERE target_schema = $1 AND ($2::text IS NULL OR object = $2)
     ORDER BY id DESC LIMIT $3`,
    [opts.schema, opts.object ?? null, opts.limit],
  );
  return rows;
}
