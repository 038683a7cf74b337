// Salesforce field type -> PostgreSQL column type (docs/salesforce.md#field-types). null = not loaded.
import type { FieldSpec } from './records.ts';

export type PgType = 'text' | 'boolean' | 'integer' | 'bigint' | 'numeric' | 'date' | 'timestamptz' | 'time' | 'jsonb';

/** Exhaustive on purpose: an unknown type falls back to text in pgTypeOf, never to a crash. */
export const PG_TYPE_OF: Readonly<Record<string, PgType | null>> = {
  id: 'text',
  reference: 'text',
  string: 'text',
  textarea: 'text',
  email: 'text',
  phone: 'text',
  url: 'text',
  picklist: 'text',
  multipicklist: 'text',
  combobox: 'text',
  encryptedstring: 'text',
  // docs/salesforce.md#field-types: a History OldValue/NewValue is mostly a string, number or boolean, which Bulk CSV
  // sends as bare text ("5" and 5 alike) that is no JSON; text keeps REST and Bulk equal. A nested value (REST only)
  // is stored as its JSON text (transforms/restPage.ts).
  anyType: 'text',
  // JSON values: REST nests them, Bulk CSV sends their JSON text; jsonb takes both, with every digit.
  complexvalue: 'jsonb',
  json: 'jsonb',
  masterrecord: 'text',
  datacategorygroupreference: 'text',
  byte: 'text',
  calculated: 'text',
  boolean: 'boolean',
  int: 'integer',
  long: 'bigint',
  double: 'numeric',
  currency: 'numeric',
  percent: 'numeric',
  date: 'date',
  datetime: 'timestamptz',
  time: 'time',
  // Compound fields arrive through their component fields (docs/salesforce.md#compound-fields); base64 bodies are
  // blobs, not data.
  base64: null,
  address: null,
  location: null,
};

export function pgTypeOf(sfType: string): PgType | null {
  const t = PG_TYPE_OF[sfType];
  return t === undefined ? 'text' : t;
}

/**
 * docs/salesforce.md#field-sizes: the types whose describe `length` caps every value in characters, enforced on
 * every save. Left out: multipicklist (its length is no documented cap of the joined values), anyType, and textarea
 * beyond 255 characters (long and rich text areas).
 */
const SIZED_TEXT_TYPES: ReadonlySet<string> = new Set([
  'id',
  'reference',
  'string',
  'email',
  'phone',
  'url',
  'picklist',
  'combobox',
  'encryptedstring',
]);
/** A plain Text Area holds at most 255 characters; a longer textarea is a long or rich text area. */
const MAX_PLAIN_TEXTAREA = 255;
/** PostgreSQL's largest varchar length. */
const MAX_VARCHAR = 10_485_760;
/** PostgreSQL's largest numeric precision. */
const MAX_NUMERIC_PRECISION = 1000;

/** The describe members a column size is read from. */
export interface DescribedSize {
  type: string;
  length?: unknown;
  precision?: unknown;
  scale?: unknown;
  calculated?: unknown;
}

const wholeNumber = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/**
 * The varchar length of a field's column, or undefined for an unbounded text column. Formula results are computed
 * when read and never checked against a length on save (docs/salesforce.md#field-sizes), so they stay unbounded.
 */
export function sizedLengthOf(f: DescribedSize): number | undefined {
  if (f.calculated === true || !wholeNumber(f.length) || f.length <= 0 || f.length > MAX_VARCHAR) return undefined;
  if (SIZED_TEXT_TYPES.has(f.type)) return f.length;
  return f.type === 'textarea' && f.length <= MAX_PLAIN_TEXTAREA ? f.length : undefined;
}

/**
 * describe `precision` / `scale` of a double, currency or percent field; undefined for a formula (as above) and
 * when describe gives no usable precision (0 or absent: the column stays an unconstrained numeric).
 */
export function numericSizeOf(f: DescribedSize): { precision: number; scale: number } | undefined {
  if (f.calculated === true || pgTypeOf(f.type) !== 'numeric' || !wholeNumber(f.precision)) return undefined;
  const scale = wholeNumber(f.scale) ? f.scale : 0;
  if (f.precision <= 0 || f.precision > MAX_NUMERIC_PRECISION || scale < 0 || scale > f.precision) return undefined;
  return { precision: f.precision, scale };
}

/** How columns are typed beyond the field's kind (lib/config.ts exactNumeric). */
export interface ColumnTypeOptions {
  /** numeric(precision, scale) from describe; false keeps numeric unconstrained (docs/salesforce.md#field-sizes). */
  exactNumeric?: boolean;
}

/**
 * The column type of a field as CREATE TABLE spells it: varchar(length) where describe bounds the text,
 * numeric(precision,scale) when asked for, else the field's kind. A hashed field holds hex digests: always text.
 */
export function columnTypeOf(
  field: Pick<FieldSpec, 'pgType' | 'length' | 'precision' | 'scale' | 'hashed'>,
  opts: ColumnTypeOptions = {},
): string {
  if (field.hashed) return 'text';
  if (field.pgType === 'text' && field.length !== undefined) return `varchar(${field.length})`;
  if (field.pgType === 'numeric' && opts.exactNumeric && field.precision !== undefined)
    return `numeric(${field.precision},${field.scale ?? 0})`;
  return field.pgType;
}

/**
 * Describe types whose REST value may be nested JSON (an object or array) rather than a scalar
 * (docs/salesforce.md#field-types): such values are loaded as their JSON text.
 */
const NESTED_JSON_TYPES: ReadonlySet<string> = new Set(['json', 'complexvalue', 'anyType']);

export function mayNestJson(sfType: string): boolean {
  return NESTED_JSON_TYPES.has(sfType);
}
