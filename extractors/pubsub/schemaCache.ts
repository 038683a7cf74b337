// Event schemas by schema id (docs/salesforce.md#pubsub-api: an id names one schema version, so a cached one never
// changes): the Avro type that decodes payloads and the field layout the change bitmaps count positions in.
import avro from 'avsc';
import { DataError } from '../../lib/errors.ts';
import type { EventLayout, LayoutField } from '../../schemas/eventLayout.ts';
import type { PubSubClient } from './pubsubClient.ts';

export interface EventSchema {
  id: string;
  type: avro.Type;
  layout: EventLayout;
  /**
   * The top-level fields in order: Avro type name (`long`, `string`, `record`, ...) and `doc`, where Salesforce names
   * the field's kind (`CreatedDate:DateTime`, docs/salesforce.md#change-event-fields).
   */
  fields: readonly SchemaField[];
}

export interface SchemaField {
  name: string;
  avroType: string;
  doc?: string;
}

export interface SchemaCache {
  get(schemaId: string, signal?: AbortSignal): Promise<EventSchema>;
}

/** The non-null branch of a nullable union, or the type itself. */
function valueType(type: avro.Type): avro.Type {
  const branches = (type as { types?: avro.Type[] }).types;
  return branches?.find((t) => t.typeName !== 'null') ?? type;
}

/**
 * The nested fields of a compound field: those of its union's record branch. A person account's Name is
 * `["null","string",Switchable_PersonName]` (docs/salesforce.md#change-event-fields), a string or a person's name
 * parts, and its bitmaps name the record's fields.
 */
function nestedOf(type: avro.Type): { name: string }[] | undefined {
  const branches = (type as { types?: avro.Type[] }).types ?? [type];
  const record = branches.find((t) => t.typeName === 'record');
  return (record as { fields?: { name: string }[] } | undefined)?.fields;
}

export function eventSchemaOf(id: string, json: string): EventSchema {
  let type: avro.Type;
  let docs: unknown[] = [];
  try {
    const parsed = JSON.parse(json) as avro.Schema & { fields?: { doc?: unknown }[] };
    docs = (parsed.fields ?? []).map((f) => f?.doc);
    type = avro.Type.forSchema(parsed);
  } catch (err) {
    throw new DataError(`event schema ${id} is not an Avro schema: ${(err as Error).message}`);
  }
  const fields = (type as { fields?: { name: string; type: avro.Type }[] }).fields;
  if (!fields) throw new DataError(`event schema ${id} is not an Avro record`);
  const info: SchemaField[] = [];
  const layout: LayoutField[] = fields.map((f, i) => {
    const t = valueType(f.type);
    const doc = docs[i];
    info.push({ name: f.name, avroType: t.typeName, ...(typeof doc === 'string' && { doc }) });
    const nested = nestedOf(f.type);
    // The header is a record too, but no bitmap ever names it.
    return nested && f.name !== 'ChangeEventHeader'
      ? { name: f.name, nested: nested.map((n) => n.name) }
      : { name: f.name };
  });
  return { id, type, layout, fields: info };
}

/**
 * A payload decoded with its schema. A payload the schema cannot read (truncated, trailing bytes) is bad input from
 * the server: a DataError naming the topic, replay id and schema, not the Avro library's bare "truncated buffer".
 */
export function decodePayload(
  schema: EventSchema,
  event: { payload: Buffer; replayId: Buffer },
  topic: string,
): Record<string, unknown> {
  try {
    return schema.type.fromBuffer(event.payload) as Record<string, unknown>;
  } catch (err) {
    throw new DataError(
      `${topic}: the event with replay id ${event.replayId.toString('hex')} does not decode with its schema ` +
        `${schema.id}: ${(err as Error).message}`,
    );
  }
}

export function createSchemaCache(client: PubSubClient): SchemaCache {
  const schemas = new Map<string, Promise<EventSchema>>();
  return {
    get(schemaId, signal) {
      let s = schemas.get(schemaId);
      if (!s) {
        s = client.getSchema(schemaId, signal).then((json) => eventSchemaOf(schemaId, json));
        // A failed fetch is not kept: the next event asks again.
        s.catch(() => schemas.delete(schemaId));
        schemas.set(schemaId, s);
      }
      return s;
    },
  };
}
