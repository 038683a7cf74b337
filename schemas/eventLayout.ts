// The shape of an event schema that change event bitmaps count positions in (docs/salesforce.md#change-event-fields):
// shared by the schema cache that reads it from Avro and the transform that decodes events with it.

/** One field of the event schema, by position: its name and, for a compound field, its nested fields' names. */
export interface LayoutField {
  name: string;
  nested?: readonly string[];
}

/** The event schema's top-level fields in schema order. */
export type EventLayout = readonly LayoutField[];
