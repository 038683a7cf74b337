// One REST query record (salesforce-api.md §4.3) -> a Row of Postgres-parsable text in spec.fields order (pure).
import { DataError } from '../lib/errors.ts';
import type { FieldSpec, Row } from '../schemas/records.ts';

/**
 * Values are passed through as text: numbers keep their JSON source text (`1.2345678E7` and
 * `12345678901234567.89` parse exactly as numeric), datetimes keep `+0000` (timestamptz accepts it).
 * The record must come from parseJsonNumbersAsText (exactJson.ts), so numbers arrive as their source text.
 */
export function recordToRow(record: Record<string, unknown>, fields: readonly FieldSpec[]): Row {
  const row: (string | null)[] = new Array(fields.length);
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!;
    row[i] = valueToText(record[field.name], field, record);
  }
  return row;
}

function valueToText(v: unknown, field: FieldSpec, record: Record<string, unknown>): string | null {
  if (v === null) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  // §4.3: every selected field is present (null when empty); absence means the answer does not match the SOQL.
  if (v === undefined)
    throw new DataError(`A ${recordType(record)} record from Salesforce lacks the field ${field.name}`);
  throw new DataError(
    `Field ${field.name} of a ${recordType(record)} record holds a nested ${typeof v === 'object' ? 'object' : typeof v}, not a scalar`,
  );
}

function recordType(record: Record<string, unknown>): string {
  const t = (record.attributes as { type?: unknown } | undefined)?.type;
  return typeof t === 'string' ? t : 'Salesforce';
}
