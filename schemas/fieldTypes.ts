// Salesforce field type -> PostgreSQL column type (docs/salesforce.md#field-types). null = not loaded.

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
 * Describe types whose REST value may be nested JSON (an object or array) rather than a scalar
 * (docs/salesforce.md#field-types): such values are loaded as their JSON text.
 */
const NESTED_JSON_TYPES: ReadonlySet<string> = new Set(['json', 'complexvalue', 'anyType']);

export function mayNestJson(sfType: string): boolean {
  return NESTED_JSON_TYPES.has(sfType);
}
