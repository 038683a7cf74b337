// An object's change event schema (docs/salesforce.md#change-event-fields): Avro record
// `com.sforce.eventbus.<Object>ChangeEvent`, field 0 the ChangeEventHeader, then the object's fields as nullable
// unions, compound fields as nested records. Also the conversions from stored values to Avro values and the field
// bitmaps of changedFields / nulledFields.
import avro from 'avsc';
import { customFieldIdOf } from '../ids.ts';
import type { FieldDef, FieldType, FieldValue, ObjectDef } from '../types.ts';
import { schemaIdOf } from './eventBus.ts';

export const CHANGE_TYPES = [
  'CREATE',
  'UPDATE',
  'DELETE',
  'UNDELETE',
  'GAP_CREATE',
  'GAP_UPDATE',
  'GAP_DELETE',
  'GAP_UNDELETE',
  'GAP_OVERFLOW',
] as const;
export type ChangeType = (typeof CHANGE_TYPES)[number];

type AvroPrimitive = 'string' | 'boolean' | 'int' | 'long' | 'double';

interface Leaf {
  name: string;
  position: number;
  avro: AvroPrimitive;
  /** The stored field read for this leaf; undefined for a nested field the org does not have. */
  source: FieldDef | undefined;
}

export interface SimpleField extends Leaf {
  kind: 'simple';
}

export interface CompoundField {
  kind: 'compound';
  name: string;
  position: number;
  nested: Leaf[];
  /** A person account org's Account Name: the union's string branch, a business account's name (personAccounts.ts). */
  plain?: Leaf;
}

export type SchemaField = SimpleField | CompoundField;

export interface ChangeSchema {
  object: string;
  /** `/data/AccountChangeEvent`; `Foo__c` -> `/data/Foo__ChangeEvent` (docs/salesforce.md#change-event-channels). */
  topic: string;
  schemaId: string;
  json: string;
  type: avro.Type;
  /** Object fields in schema order (position 0 is the header). */
  fields: SchemaField[];
}

/** Nested record layouts of compound fields, one named Avro type each. */
const NESTED: Record<'Address' | 'Location' | 'PersonName', [string, AvroPrimitive][]> = {
  Address: [
    ['Street', 'string'],
    ['City', 'string'],
    ['State', 'string'],
    ['PostalCode', 'string'],
    ['Country', 'string'],
    ['StateCode', 'string'],
    ['CountryCode', 'string'],
    ['Latitude', 'double'],
    ['Longitude', 'double'],
    ['GeocodeAccuracy', 'string'],
  ],
  Location: [
    ['Latitude', 'double'],
    ['Longitude', 'double'],
  ],
  PersonName: [
    ['Salutation', 'string'],
    ['FirstName', 'string'],
    ['LastName', 'string'],
    ['MiddleName', 'string'],
    ['InformalName', 'string'],
    ['Suffix', 'string'],
  ],
};

const AVRO_OF: Partial<Record<FieldType, AvroPrimitive>> = {
  boolean: 'boolean',
  int: 'int',
  long: 'long',
  double: 'double',
  currency: 'double',
  percent: 'double',
  // docs/salesforce.md#change-event-fields: dates too are epoch-ms longs (midnight UTC), times ms since midnight.
  date: 'long',
  datetime: 'long',
  time: 'long',
};

/** The `doc` Salesforce gives each field: `Data:<kind>`, or `<audit field>:<kind>` for the audit fields. */
const KIND_OF: Partial<Record<FieldType, string>> = {
  id: 'EntityId',
  reference: 'EntityId',
  textarea: 'MultiLineText',
  email: 'Email',
  phone: 'Phone',
  url: 'Url',
  picklist: 'DynamicEnum',
  multipicklist: 'MultiEnum',
  combobox: 'DynamicEnum',
  encryptedstring: 'EncryptedText',
  boolean: 'Boolean',
  int: 'Integer',
  long: 'Long',
  double: 'Double',
  currency: 'Currency',
  percent: 'Percent',
  date: 'DateOnly',
  datetime: 'DateTime',
  time: 'TimeOnly',
  base64: 'Base64',
  address: 'Address',
  location: 'Location',
  json: 'Json',
};
const AUDIT: Record<string, string> = {
  CreatedDate: 'CreatedDate',
  CreatedById: 'CreatedBy',
  LastModifiedDate: 'LastModifiedDate',
  LastModifiedById: 'LastModifiedBy',
};

/** Never in a change event: the id travels in recordIds; IsDeleted and SystemModstamp are left out by Salesforce. */
const SKIPPED = new Set(['Id', 'IsDeleted', 'SystemModstamp']);

export function changeTopicOf(object: string): string {
  return `/data/${object.endsWith('__c') ? object.slice(0, -1) : object}ChangeEvent`;
}

/** A custom field's doc ends with its field id: `Data:DateTime:00N...` (docs/salesforce.md#change-event-fields). */
function docOf(def: ObjectDef, f: FieldDef): string {
  const doc = `${AUDIT[f.name] ?? 'Data'}:${KIND_OF[f.type] ?? 'Text'}`;
  return f.custom || f.name.endsWith('__c') ? `${doc}:${customFieldIdOf(def.name, f.name)}` : doc;
}

/** `BillingStreet` of `BillingAddress` -> Street; `Addr__City__s` of `Addr__c` -> City; `FirstName` of Name. */
function nestedName(parent: string, component: string): string {
  if (parent.endsWith('__c') && component.endsWith('__s')) return component.slice(parent.length - 1, -3);
  if (parent.endsWith('Address')) return component.slice(parent.length - 'Address'.length);
  return component;
}

function nestedKind(f: FieldDef): keyof typeof NESTED {
  return f.type === 'address' ? 'Address' : f.type === 'location' ? 'Location' : 'PersonName';
}

const HEADER = {
  type: 'record',
  name: 'ChangeEventHeader',
  fields: [
    { name: 'entityName', type: 'string' },
    { name: 'recordIds', type: { type: 'array', items: 'string' } },
    { name: 'changeType', type: { type: 'enum', name: 'ChangeType', symbols: CHANGE_TYPES } },
    { name: 'changeOrigin', type: 'string' },
    { name: 'transactionKey', type: 'string' },
    { name: 'sequenceNumber', type: 'int' },
    { name: 'commitTimestamp', type: 'long' },
    { name: 'commitNumber', type: 'long' },
    { name: 'commitUser', type: 'string' },
    { name: 'nulledFields', type: { type: 'array', items: 'string' } },
    { name: 'diffFields', type: { type: 'array', items: 'string' } },
    { name: 'changedFields', type: { type: 'array', items: 'string' } },
  ],
};

const cache = new WeakMap<ObjectDef, ChangeSchema>();

/** The change event schema of this version of the object (a new ObjectDef after schema drift -> a new schema). */
export function changeSchemaOf(def: ObjectDef): ChangeSchema {
  const hit = cache.get(def);
  if (hit) return hit;
  const componentsOf = new Map<string, FieldDef[]>();
  for (const f of def.fields) {
    if (!f.compoundFieldName) continue;
    componentsOf.set(f.compoundFieldName, [...(componentsOf.get(f.compoundFieldName) ?? []), f]);
  }
  const compoundNames = new Set(componentsOf.keys());
  const fields: SchemaField[] = [];
  const avroFields: unknown[] = [{ name: 'ChangeEventHeader', type: HEADER, doc: 'Data:ChangeEventHeader' }];
  const defined = new Set<string>();
  for (const f of def.fields) {
    if (SKIPPED.has(f.name) || f.calculated) continue;
    if (f.compoundFieldName && compoundNames.has(f.compoundFieldName) && f.compoundFieldName !== f.name) continue;
    const position = avroFields.length;
    const components = componentsOf.get(f.name);
    if (components) {
      const kind = nestedKind(f);
      const nested: Leaf[] = NESTED[kind].map(([name, type], i) => ({
        name,
        position: i,
        avro: type,
        source: components.find((c) => nestedName(f.name, c.name) === name),
      }));
      // An Account with name parts is in an org with person accounts: its Name is a business account's name or a
      // person's name parts, `["null","string",Switchable_PersonName]` (docs/salesforce.md#change-event-fields).
      const plain =
        def.name === 'Account' && f.name === 'Name'
          ? { name: f.name, position, avro: 'string' as const, source: f }
          : undefined;
      const typeName = plain ? `Switchable_${kind}` : kind;
      const record = defined.has(typeName)
        ? typeName
        : {
            type: 'record',
            name: typeName,
            fields: nested.map((n) => ({ name: n.name, type: ['null', n.avro], default: null })),
          };
      defined.add(typeName);
      fields.push({ kind: 'compound', name: f.name, position, nested, ...(plain && { plain }) });
      const union = plain ? ['null', 'string', record] : ['null', record];
      avroFields.push({ name: f.name, type: union, doc: docOf(def, f), default: null });
      continue;
    }
    if (f.type === 'address' || f.type === 'location') continue;
    const type = AVRO_OF[f.type] ?? 'string';
    fields.push({ kind: 'simple', name: f.name, position, avro: type, source: f });
    avroFields.push({ name: f.name, type: ['null', type], doc: docOf(def, f), default: null });
  }
  const name = `${def.name.endsWith('__c') ? def.name.slice(0, -1) : def.name}ChangeEvent`;
  const json = JSON.stringify({ type: 'record', name, namespace: 'com.sforce.eventbus', fields: avroFields });
  const schema: ChangeSchema = {
    object: def.name,
    topic: changeTopicOf(def.name),
    schemaId: schemaIdOf(json),
    json,
    type: avro.Type.forSchema(JSON.parse(json)),
    fields,
  };
  cache.set(def, schema);
  return schema;
}

/**
 * A stored value (types.ts FieldValue: text) as the Avro value of its leaf: datetimes epoch ms, dates epoch ms of their
 * midnight UTC, times ms since midnight (docs/salesforce.md#change-event-fields).
 */
export function avroValue(leaf: { avro: AvroPrimitive; source: FieldDef | undefined }, v: FieldValue | undefined) {
  if (v === null || v === undefined || v === '') return null;
  const type = leaf.source?.type;
  if (leaf.avro === 'string') return String(v);
  if (leaf.avro === 'boolean') return v === true || v === 'true';
  const text = String(v);
  if (type === 'datetime') return Date.parse(text);
  if (type === 'date') return Date.parse(`${text.slice(0, 10)}T00:00:00Z`);
  if (type === 'time') return Date.parse(`1970-01-01T${text.endsWith('Z') ? text : `${text}Z`}`);
  return leaf.avro === 'int' || leaf.avro === 'long' ? Math.trunc(Number(text)) : Number(text);
}

/**
 * A bitmap element of changedFields / nulledFields: `0x` and upper-case hex of whole bytes, bit n (from the least
 * significant) = position n (docs/salesforce.md#change-event-fields).
 */
export function bitmapOf(positions: number[]): string {
  let bits = 0n;
  for (const p of positions) bits |= 1n << BigInt(p);
  let hex = bits.toString(16).toUpperCase();
  if (hex.length % 2 === 1) hex = `0${hex}`;
  return `0x${hex}`;
}

/** Top-level positions plus `<parentPosition>-0x..` elements for compound components. */
export function bitmapFields(top: number[], nested: Map<number, number[]>): string[] {
  const out = top.length ? [bitmapOf(top)] : [];
  for (const [parent, positions] of [...nested].sort((a, b) => a[0] - b[0]))
    out.push(`${parent}-${bitmapOf(positions)}`);
  return out;
}
