// A platform event (docs/salesforce.md#pubsub-api) -> a row of its table (pure): the replay id, the publish time
// (the event's CreatedDate) and one column per payload field, typed from the event's Avro schema.
import type { PgType } from '../schemas/fieldTypes.ts';
import { columnNameOf } from '../schemas/pgNames.ts';
import { columnText } from './changeEvent.ts';

/** A payload field as the event table keeps it. */
export interface EventColumn {
  name: string;
  column: string;
  pgType: PgType;
}

/** The columns every event table starts with; payload columns follow. */
export const EVENT_KEY_COLUMNS = ['replay_id', 'published_at'] as const;

/** Salesforce kinds whose values are Avro longs yet not numbers (docs/salesforce.md#change-event-fields). */
const TEMPORAL: ReadonlyMap<string, PgType> = new Map<string, PgType>([
  ['DateTime', 'timestamptz'],
  ['DateOnly', 'date'],
  ['TimeOnly', 'time'],
]);

/**
 * The kind a field's `doc` names: `<role>:<kind>[:<field id>]` (`Data:DateTime:00NDp000009Rr9D`, `Data:DateOnly`,
 * `CreatedDate:DateTime`), docs/salesforce.md#change-event-fields; undefined without one.
 */
export function docKind(doc: string | undefined): string | undefined {
  const parts = (doc ?? '').split(':');
  return parts.length >= 2 && parts.length <= 3 && parts[1] ? parts[1] : undefined;
}

/**
 * The PostgreSQL type of an event field: dates, datetimes and times from the kind in its `doc` (all three are epoch-ms
 * longs on the wire, docs/salesforce.md#change-event-fields), anything else from its Avro type.
 */
export function eventPgType(field: { avroType: string; doc?: string }): PgType {
  const temporal = TEMPORAL.get(docKind(field.doc) ?? '');
  if (temporal) return temporal;
  switch (field.avroType) {
    case 'boolean':
      return 'boolean';
    case 'int':
      return 'integer';
    case 'long':
      return 'bigint';
    case 'float':
    case 'double':
      return 'numeric';
    case 'record':
    case 'array':
    case 'map':
      return 'jsonb';
    default:
      return 'text';
  }
}

/** The payload columns; CreatedDate is the publish time, kept in published_at. */
export function eventColumnsOf(fields: readonly { name: string; avroType: string; doc?: string }[]): EventColumn[] {
  return fields
    .filter((f) => f.name !== 'CreatedDate')
    .map((f) => ({ name: f.name, column: columnNameOf(f.name), pgType: eventPgType(f) }))
    .filter((c) => !(EVENT_KEY_COLUMNS as readonly string[]).includes(c.column));
}

/** The publish time of a decoded event (its CreatedDate), else null. */
export function publishedAt(record: Record<string, unknown>): Date | null {
  const at = record.CreatedDate;
  return typeof at === 'number'
    ? new Date(at)
    : typeof at === 'string' && !Number.isNaN(Date.parse(at))
      ? new Date(at)
      : null;
}

/** A decoded event's payload values, as text PostgreSQL parses, in `columns` order. */
export function eventValues(record: Record<string, unknown>, columns: readonly EventColumn[]): (string | null)[] {
  return columns.map((c) => columnText(c, record[c.name]));
}
