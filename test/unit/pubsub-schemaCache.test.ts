// Event schemas and payload decoding: a payload its schema cannot read is one clear DataError, not avsc's bare message.
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { DataError } from '../../lib/errors.ts';
import { decodePayload, eventSchemaOf } from '../../extractors/pubsub/schemaCache.ts';

const SCHEMA = JSON.stringify({
  type: 'record',
  name: 'Order_Shipped__e',
  fields: [
    { name: 'CreatedDate', type: 'long', doc: 'CreatedDate:DateTime' },
    { name: 'Note__c', type: ['null', 'string'], default: null },
  ],
});

describe('decodePayload', () => {
  const schema = eventSchemaOf('S1', SCHEMA);
  const payload = avro.Type.forSchema(JSON.parse(SCHEMA)).toBuffer({ CreatedDate: 1_700_000_000_000, Note__c: 'hi' });
  const replayId = Buffer.from([0, 0, 0, 0, 0, 0, 1, 2]);

  it('decodes a payload with its schema', () => {
    expect(decodePayload(schema, { payload, replayId }, '/event/Order_Shipped__e')).toEqual({
      CreatedDate: 1_700_000_000_000,
      Note__c: 'hi',
    });
  });

  it('turns a truncated or overlong payload into a DataError naming topic, replay id and schema', () => {
    for (const bad of [payload.subarray(0, 3), Buffer.concat([payload, Buffer.from([7])])]) {
      let thrown: unknown;
      try {
        decodePayload(schema, { payload: bad, replayId }, '/event/Order_Shipped__e');
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(DataError);
      expect((thrown as Error).message).toMatch(
        /^\/event\/Order_Shipped__e: the event with replay id 0000000000000102 does not decode with its schema S1: /,
      );
    }
  });
});

describe('eventSchemaOf', () => {
  it("takes a person account's Name nested fields from the union's record branch", () => {
    const person = {
      type: 'record',
      name: 'Switchable_PersonName',
      fields: ['Salutation', 'FirstName', 'LastName'].map((name) => ({
        name,
        type: ['null', 'string'],
        default: null,
      })),
    };
    const json = JSON.stringify({
      type: 'record',
      name: 'AccountChangeEvent',
      namespace: 'com.sforce.eventbus',
      fields: [
        { name: 'ChangeEventHeader', type: { type: 'record', name: 'H', fields: [{ name: 'x', type: 'string' }] } },
        { name: 'Name', type: ['null', 'string', person], default: null },
        { name: 'Phone', type: ['null', 'string'], default: null },
      ],
    });
    const schema = eventSchemaOf('S2', json);
    expect(schema.layout).toEqual([
      { name: 'ChangeEventHeader' },
      { name: 'Name', nested: ['Salutation', 'FirstName', 'LastName'] },
      { name: 'Phone' },
    ]);
    // Either branch decodes: a business account's name, a person's name parts.
    const type = avro.Type.forSchema(JSON.parse(json));
    for (const Name of ['Acme', { Salutation: null, FirstName: 'Ada', LastName: 'Lovelace' }]) {
      const payload = type.toBuffer({ ChangeEventHeader: { x: 'h' }, Name, Phone: null });
      expect(decodePayload(schema, { payload, replayId: Buffer.alloc(8) }, '/data/AccountChangeEvent').Name).toEqual(
        Name,
      );
    }
  });
});
