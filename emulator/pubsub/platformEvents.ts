// Platform events (`/event/Foo__e`): defined by the admin API, published by it or by the Publish RPC. Their schema is
// Salesforce's: `CreatedDate` (long, epoch ms) and `CreatedById` set by the org, then the custom fields as nullable
// unions, each with the doc `Data:<kind>:<field id>` (docs/salesforce.md#pubsub-api, #change-event-fields for the
// types and docs).
import avro from 'avsc';
import { customFieldIdOf } from '../ids.ts';
import type { EventBus } from './eventBus.ts';

export type PlatformFieldType = 'string' | 'boolean' | 'int' | 'long' | 'double' | 'datetime' | 'date';

export interface PlatformEventDef {
  name: string;
  topic: string;
  schemaId: string;
  type: avro.Type;
}

export interface PlatformEvents {
  define(name: string, fields: { name: string; type: PlatformFieldType }[]): PlatformEventDef;
  byTopic(topic: string): PlatformEventDef | undefined;
  /** Publishes one event with these field values (CreatedDate and CreatedById are the org's); its replay id. */
  publish(name: string, values: Record<string, unknown>, userId: string): bigint;
  /** Publishes an event a client encoded (Publish RPC): decoded, stamped by the org, re-encoded. */
  publishEncoded(def: PlatformEventDef, payload: Buffer, id: string, userId: string): bigint;
}

/** Avro type and Salesforce kind of each field type; a date is epoch ms of its midnight UTC, like a datetime. */
const AVRO: Record<PlatformFieldType, [string, string]> = {
  string: ['string', 'Text'],
  boolean: ['boolean', 'Boolean'],
  int: ['int', 'Integer'],
  long: ['long', 'Long'],
  double: ['double', 'Double'],
  datetime: ['long', 'DateTime'],
  date: ['long', 'DateOnly'],
};

export function createPlatformEvents(bus: EventBus): PlatformEvents {
  const defs = new Map<string, PlatformEventDef>();
  const stamp = (def: PlatformEventDef, values: Record<string, unknown>, userId: string) =>
    def.type.toBuffer({ ...values, CreatedDate: Date.now(), CreatedById: userId });
  return {
    define(name, fields) {
      if (!/^[A-Za-z][A-Za-z0-9_]*__e$/.test(name)) throw new Error(`A platform event name ends in __e: ${name}`);
      const json = JSON.stringify({
        name,
        namespace: 'com.sforce.eventbus',
        type: 'record',
        fields: [
          { name: 'CreatedDate', type: 'long', doc: 'CreatedDate:DateTime' },
          { name: 'CreatedById', type: 'string', doc: 'CreatedBy:EntityId' },
          ...fields.map((f) => {
            if (!Object.hasOwn(AVRO, f.type)) throw new Error(`Unknown platform event field type ${f.type}`);
            const [type, kind] = AVRO[f.type];
            return {
              name: f.name,
              type: ['null', type],
              doc: `Data:${kind}:${customFieldIdOf(name, f.name)}`,
              default: null,
            };
          }),
        ],
      });
      const def = {
        name,
        topic: `/event/${name}`,
        schemaId: bus.registerSchema(json),
        type: avro.Type.forSchema(JSON.parse(json)),
      };
      defs.set(def.topic, def);
      return def;
    },
    byTopic: (topic) => defs.get(topic),
    publish(name, values, userId) {
      const def = defs.get(`/event/${name}`);
      if (!def) throw new Error(`Unknown platform event ${name}`);
      const [event] = bus.publish(def.topic, [{ schemaId: def.schemaId, payload: stamp(def, values, userId) }]);
      return (event as { replayId: bigint }).replayId;
    },
    publishEncoded(def, payload, id, userId) {
      const values = def.type.fromBuffer(payload) as Record<string, unknown>;
      const [event] = bus.publish(def.topic, [{ id, schemaId: def.schemaId, payload: stamp(def, values, userId) }]);
      return (event as { replayId: bigint }).replayId;
    },
  };
}
