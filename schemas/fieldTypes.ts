// Salesforce field type -> PostgreSQL column type (docs/salesforce.md#field-types). null = not loaded.

export type PgType = 'text' | 'boolean' | 'integer' | 'bigint' | 'numeric' | 'date' | 'timestamptz' | 'time';

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
  anyType: 'text',
  complexvalue: 'text',
  json: 'text',
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
