// The emulator's change event schema, field bitmaps and event bus (docs/salesforce.md#change-event-fields,
// #change-event-channels, #replay-ids), without gRPC.
import { describe, expect, it } from 'vitest';
import { createChangeCapture } from '../../emulator/pubsub/changeEvents.ts';
import { customFieldIdOf } from '../../emulator/ids.ts';
import {
  type SimpleField,
  avroValue,
  bitmapFields,
  bitmapOf,
  changeSchemaOf,
  changeTopicOf,
} from '../../emulator/pubsub/changeSchema.ts';
import { createEventBus, decodeReplayId, encodeReplayId } from '../../emulator/pubsub/eventBus.ts';
import { createPlatformEvents } from '../../emulator/pubsub/platformEvents.ts';
import { DIFF_MIN_LENGTH, textDiff } from '../../emulator/pubsub/textDiff.ts';
import { createOrgStore } from '../../emulator/store.ts';

describe('change event schema', () => {
  const store = createOrgStore({ accounts: 2 });

  it('names channels as Salesforce does, custom objects without the c', () => {
    expect(changeTopicOf('Account')).toBe('/data/AccountChangeEvent');
    expect(changeTopicOf('Invoice__c')).toBe('/data/Invoice__ChangeEvent');
  });

  it('puts the header first, leaves out Id, IsDeleted, SystemModstamp, formulas and compound components', () => {
    const schema = changeSchemaOf(store.object('Invoice__c')!);
    const json = JSON.parse(schema.json);
    expect(json).toMatchObject({ type: 'record', name: 'Invoice__ChangeEvent', namespace: 'com.sforce.eventbus' });
    const names: string[] = json.fields.map((f: { name: string }) => f.name);
    expect(names[0]).toBe('ChangeEventHeader');
    for (const gone of ['Id', 'IsDeleted', 'SystemModstamp', 'Total_With_Tax__c', 'Addr__City__s', 'Loc__Latitude__s'])
      expect(names).not.toContain(gone);
    const field = (n: string) => json.fields.find((f: { name: string }) => f.name === n);
    // docs/salesforce.md#change-event-fields: dates and datetimes are epoch-ms longs; a custom field's doc ends with
    // its 15-char field id, the same in every version of the schema.
    expect(field('Issued_At__c')).toMatchObject({ type: ['null', 'long'], default: null });
    expect(field('Issued_At__c').doc).toMatch(/^Data:DateTime:00N[0-9A-Za-z]{12}$/);
    expect(field('Due_Date__c')).toMatchObject({ type: ['null', 'long'] });
    expect(field('Due_Date__c').doc).toMatch(/^Data:DateOnly:00N[0-9A-Za-z]{12}$/);
    expect(field('Amount__c').type).toEqual(['null', 'double']);
    expect(field('Addr__c').doc).toMatch(/^Data:Address:00N[0-9A-Za-z]{12}$/);
    const ids = json.fields.map((f: { doc: string }) => f.doc.split(':')[2]).filter(Boolean);
    expect(new Set(ids).size).toBe(ids.length);
    expect(field('CreatedById').doc).toBe('CreatedBy:EntityId');
    expect(field('Name').doc).toBe('Data:Text');
    expect(field('Addr__c').type[1]).toMatchObject({ type: 'record', name: 'Address' });
    expect(field('Loc__c').type[1]).toMatchObject({ type: 'record', name: 'Location' });
    // Positions are Avro field positions: what the bitmaps count.
    const addr = schema.fields.find((f) => f.name === 'Addr__c');
    expect(addr?.position).toBe(names.indexOf('Addr__c'));
  });

  it('nests a Contact name as a PersonName record and keeps the schema id stable per object version', () => {
    const contact = changeSchemaOf(store.object('Contact')!);
    const name = JSON.parse(contact.json).fields.find((f: { name: string }) => f.name === 'Name');
    expect(name.type[1].name).toBe('PersonName');
    expect(changeSchemaOf(store.object('Contact')!).schemaId).toBe(contact.schemaId);
    expect(contact.schemaId).toMatch(/^[\w-]{22}$/);
    expect(changeSchemaOf(store.object('Account')!).schemaId).not.toBe(contact.schemaId);
  });
});

describe('event values and docs', () => {
  it('sends dates as epoch ms of their midnight UTC, datetimes as epoch ms, times as ms since midnight', () => {
    const store = createOrgStore({ accounts: 1 });
    const invoice = changeSchemaOf(store.object('Invoice__c')!);
    const leaf = (n: string) => invoice.fields.find((f) => f.name === n) as SimpleField;
    expect(avroValue(leaf('Due_Date__c'), '2024-03-01')).toBe(Date.UTC(2024, 2, 1));
    expect(avroValue(leaf('Due_Date__c'), '1969-12-31')).toBe(Date.UTC(1969, 11, 31));
    expect(avroValue(leaf('Issued_At__c'), '2024-03-01T10:30:45.123Z')).toBe(Date.UTC(2024, 2, 1, 10, 30, 45, 123));
    const time = {
      avro: 'long' as const,
      source: { name: 'At__c', label: 'At', type: 'time' as const, nillable: true },
    };
    expect(avroValue(time, '13:45:30.250Z')).toBe(((13 * 60 + 45) * 60 + 30) * 1000 + 250);
    // The encoded value round-trips through the schema as a long.
    const buf = invoice.type.toBuffer({
      ChangeEventHeader: {
        entityName: 'Invoice__c',
        recordIds: [],
        changeType: 'CREATE',
        changeOrigin: '',
        transactionKey: 't',
        sequenceNumber: 1,
        commitTimestamp: 0,
        commitNumber: 0,
        commitUser: '',
        nulledFields: [],
        diffFields: [],
        changedFields: [],
      },
      Due_Date__c: Date.UTC(2024, 2, 1),
    });
    expect((invoice.type.fromBuffer(buf) as { Due_Date__c: number }).Due_Date__c).toBe(Date.UTC(2024, 2, 1));
  });

  it('gives each custom field a stable 15-char 00N id of its own', () => {
    expect(customFieldIdOf('Invoice__c', 'Amount__c')).toMatch(/^00N[0-9A-Za-z]{12}$/);
    expect(customFieldIdOf('Invoice__c', 'Amount__c')).toBe(customFieldIdOf('invoice__c', 'amount__c'));
    expect(customFieldIdOf('Invoice__c', 'Amount__c')).not.toBe(customFieldIdOf('Order__c', 'Amount__c'));
    const a = JSON.parse(changeSchemaOf(createOrgStore({ accounts: 1 }).object('Invoice__c')!).json);
    const b = JSON.parse(changeSchemaOf(createOrgStore({ accounts: 3 }).object('Invoice__c')!).json);
    expect(a.fields.map((f: { doc: string }) => f.doc)).toEqual(b.fields.map((f: { doc: string }) => f.doc));
  });

  it('types platform event fields as Salesforce does: dates long, each custom field documented with its id', () => {
    const bus = createEventBus({ retentionMs: 60_000 });
    const def = createPlatformEvents(bus).define('Shipment__e', [
      { name: 'Ship_Date__c', type: 'date' },
      { name: 'Shipped_At__c', type: 'datetime' },
      { name: 'Carrier__c', type: 'string' },
      { name: 'Weight__c', type: 'double' },
      { name: 'Fragile__c', type: 'boolean' },
    ]);
    const json = JSON.parse(bus.schema(def.schemaId) ?? '{}');
    const docs = Object.fromEntries(json.fields.map((f: { name: string; doc: string }) => [f.name, f.doc]));
    const types = Object.fromEntries(json.fields.map((f: { name: string; type: unknown }) => [f.name, f.type]));
    expect(docs.CreatedDate).toBe('CreatedDate:DateTime');
    expect(docs.CreatedById).toBe('CreatedBy:EntityId');
    expect(docs.Ship_Date__c).toBe(`Data:DateOnly:${customFieldIdOf('Shipment__e', 'Ship_Date__c')}`);
    expect(docs.Shipped_At__c).toMatch(/^Data:DateTime:00N[0-9A-Za-z]{12}$/);
    expect(docs.Carrier__c).toMatch(/^Data:Text:00N/);
    expect(docs.Weight__c).toMatch(/^Data:Double:00N/);
    expect(docs.Fragile__c).toMatch(/^Data:Boolean:00N/);
    expect(types.Ship_Date__c).toEqual(['null', 'long']);
    expect(types.Shipped_At__c).toEqual(['null', 'long']);
    expect(() => createPlatformEvents(bus).define('Bad__e', [{ name: 'X__c', type: 'time' as 'date' }])).toThrow(
      /Unknown platform event field type time/,
    );
  });
});

describe('field bitmaps', () => {
  it('sets bit n for position n, upper-case hex of whole bytes', () => {
    expect(bitmapOf([1])).toBe('0x02');
    expect(bitmapOf([5, 6, 7, 10])).toBe('0x04E0');
    expect(bitmapOf([0, 12])).toBe('0x1001');
  });

  it('adds one <parent>-0x.. element per compound, parents in order', () => {
    expect(
      bitmapFields(
        [3],
        new Map([
          [9, [1]],
          [4, [4]],
        ]),
      ),
    ).toEqual(['0x08', '4-0x10', '9-0x02']);
    expect(bitmapFields([], new Map([[4, [0]]]))).toEqual(['4-0x01']);
  });
});

describe('event bus', () => {
  it('hands out increasing, never contiguous replay ids, 8 bytes on the wire', () => {
    const bus = createEventBus({ retentionMs: 60_000 });
    const events = bus.publish(
      '/t',
      [1, 2, 3].map(() => ({ schemaId: 's', payload: Buffer.alloc(0) })),
    );
    const ids = events.map((e) => e.replayId);
    expect(ids[1]! - ids[0]!).toBeGreaterThan(1n);
    expect(ids[2]! - ids[1]!).toBeGreaterThan(1n);
    expect(encodeReplayId(ids[0]!)).toHaveLength(8);
    expect(decodeReplayId(encodeReplayId(ids[2]!))).toBe(ids[2]);
    expect(decodeReplayId(Buffer.from('1234'))).toBeUndefined();
  });

  it('reads the events after a position, at most as many as asked for, whatever the position', () => {
    const bus = createEventBus({ retentionMs: 60_000 });
    const ids = bus
      .publish(
        '/t',
        Array.from({ length: 7 }, () => ({ schemaId: 's', payload: Buffer.alloc(0) })),
      )
      .map((e) => e.replayId);
    const read = (position: bigint, max: number) => bus.read('/t', position, max).map((e) => e.replayId);
    expect(read(0n, 100)).toEqual(ids);
    expect(read(0n, 3)).toEqual(ids.slice(0, 3));
    expect(read(ids[2]!, 2)).toEqual(ids.slice(3, 5));
    // Between two ids (they are never contiguous): the next one on.
    expect(read(ids[4]! + 1n, 100)).toEqual(ids.slice(5));
    expect(read(ids[6]!, 100)).toEqual([]);
    expect(read(ids[6]! + 10n, Number.POSITIVE_INFINITY)).toEqual([]);
    expect(read(ids[0]! - 1n, Number.POSITIVE_INFINITY)).toEqual(ids);
  });

  it('invalidates a stored position once retention purges it', () => {
    let now = 1_000;
    const bus = createEventBus({ retentionMs: 100, clock: () => now });
    const [first] = bus.publish('/t', [{ schemaId: 's', payload: Buffer.alloc(0) }]);
    expect(bus.isValidPosition('/t', first!.replayId)).toBe(true);
    expect(bus.isValidPosition('/t', bus.tip() + 5n)).toBe(false);
    now += 101;
    expect(bus.read('/t', 0n, 10)).toEqual([]);
    expect(bus.isValidPosition('/t', first!.replayId)).toBe(false);
    expect(bus.floor('/t')).toBe(first!.replayId);
  });
});

describe('change capture', () => {
  it('sends only changed fields on UPDATE, nothing for objects not selected', () => {
    const bus = createEventBus({ retentionMs: 60_000 });
    const capture = createChangeCapture(createOrgStore({ accounts: 2 }), bus);
    capture.enable('Account');
    const { store } = capture;
    const id = store.insert('Account', { Name: 'A', Phone: '1', BillingCity: 'Paris' }).Id;
    store.update(id, { Phone: null, BillingCity: 'Lyon' });
    store.insert('Contact', { LastName: 'Not captured' });
    const schema = changeSchemaOf(store.object('Account')!);
    const events = bus.read('/data/AccountChangeEvent', 0n, 10).map((e) => schema.type.fromBuffer(e.payload));
    expect(events).toHaveLength(2);
    expect(bus.read('/data/ChangeEvents', 0n, 10)).toHaveLength(2);
    const update = events[1] as Record<string, unknown> & { ChangeEventHeader: Record<string, unknown> };
    const pos = (n: string) => schema.fields.find((f) => f.name === n)!.position;
    expect(update.ChangeEventHeader.changedFields).toEqual([
      bitmapOf([pos('LastModifiedDate'), pos('Phone')]),
      `${pos('BillingAddress')}-0x02`,
    ]);
    expect(update.ChangeEventHeader.nulledFields).toEqual([bitmapOf([pos('Phone')])]);
    expect(update.Name).toBeNull();
    expect((update.BillingAddress as Record<string, unknown>).City).toBe('Lyon');
  });

  it('sends DELETE, UNDELETE with the whole record, DELETE for a hard delete, nothing when the bin is emptied', () => {
    const bus = createEventBus({ retentionMs: 60_000 });
    const capture = createChangeCapture(createOrgStore({ accounts: 2 }), bus);
    capture.enable('Account');
    const { store } = capture;
    const a = store.insert('Account', { Name: 'Kept' }).Id;
    const b = store.insert('Account', { Name: 'Gone' }).Id;
    capture.transaction(() => {
      store.softDelete(a);
      store.undelete(a);
    });
    store.hardDelete(b);
    store.softDelete(a);
    store.hardDelete(a);
    const type = changeSchemaOf(store.object('Account')!).type;
    const events = bus.read('/data/AccountChangeEvent', 0n, 10).map((e) => type.fromBuffer(e.payload));
    const summary = events.map((e) => {
      const h = e.ChangeEventHeader as { changeType: string; recordIds: string[]; sequenceNumber: number };
      return [h.changeType, h.recordIds[0], h.sequenceNumber, e.Name];
    });
    expect(summary).toEqual([
      ['CREATE', a, 1, 'Kept'],
      ['CREATE', b, 1, 'Gone'],
      ['DELETE', a, 1, null],
      ['UNDELETE', a, 2, 'Kept'],
      ['DELETE', b, 1, null],
      ['DELETE', a, 1, null],
    ]);
  });
});

type Decoded = Record<string, unknown> & { ChangeEventHeader: Record<string, unknown> };

/** A capture of a fresh org with Account selected, and the Account events so far, decoded. */
function accountCapture(shapes: Parameters<typeof createChangeCapture>[2] = {}) {
  const bus = createEventBus({ retentionMs: 60_000 });
  const capture = createChangeCapture(createOrgStore({ accounts: 3 }), bus, shapes);
  capture.enable('Account');
  const schema = () => changeSchemaOf(capture.store.object('Account')!);
  const events = () =>
    bus.read('/data/AccountChangeEvent', 0n, 100).map((e) => schema().type.fromBuffer(e.payload) as Decoded);
  const pos = (n: string) => schema().fields.find((f) => f.name === n)!.position;
  return { capture, store: capture.store, events, pos };
}

describe('merged change events (mergeRecordIds)', () => {
  it("sends one event for a transaction's identical updates and deletes, records in order; off, one each", () => {
    for (const on of [true, false]) {
      const { capture, store, events } = accountCapture({ shapes: { mergeRecordIds: on } });
      const ids = [1, 2, 3, 4].map((i) => store.insert('Account', { Name: `M${i}` }).Id);
      capture.transaction(() => {
        for (const id of ids.slice(0, 3)) store.update(id, { Industry: 'Apparel' });
        store.update(ids[3]!, { Industry: 'Energy' });
        store.softDelete(ids[3]!);
        store.softDelete(ids[2]!);
      });
      // After the four CREATEs:
      const summary = events()
        .slice(4)
        .map((e) => {
          const h = e.ChangeEventHeader as { changeType: string; recordIds: string[]; sequenceNumber: number };
          return [h.changeType, h.recordIds, h.sequenceNumber, e.Industry];
        });
      if (on)
        expect(summary).toEqual([
          ['UPDATE', ids.slice(0, 3), 1, 'Apparel'],
          ['UPDATE', [ids[3]], 2, 'Energy'],
          ['DELETE', [ids[3], ids[2]], 3, null],
        ]);
      else expect(summary).toHaveLength(6);
      // The records of one transaction's updates share their stamp (what makes their events the same change).
      const stamps = new Set(ids.slice(0, 2).map((id) => store.get(id)!.LastModifiedDate));
      expect(stamps.size).toBe(on ? 1 : 2);
    }
  });

  it('never moves a change ahead of an earlier change of the same record, and merges no differing values', () => {
    const { capture, store, events } = accountCapture({ shapes: { mergeRecordIds: true } });
    const [a, b] = [1, 2].map((i) => store.insert('Account', { Name: `O${i}` }).Id) as [string, string];
    capture.transaction(() => {
      store.update(a, { Industry: 'Retail' });
      store.update(b, { Industry: 'Energy' });
      // The same change as a's, but b's Energy comes first: merged into a's event, b would end up Energy.
      store.update(b, { Industry: 'Retail' });
      store.update(a, { Phone: '1' });
      store.update(b, { Phone: '2' });
    });
    const updates = events()
      .filter((e) => e.ChangeEventHeader.changeType === 'UPDATE')
      .map((e) => [e.ChangeEventHeader.recordIds, e.Industry, e.Phone]);
    expect(updates).toEqual([
      [[a], 'Retail', null],
      [[b], 'Energy', null],
      [[b], 'Retail', null],
      [[a], null, '1'],
      [[b], null, '2'],
    ]);
    expect(store.get(b)!.Industry).toBe('Retail');
  });
});

describe('long text area diffs (longTextDiffs)', () => {
  const paragraph = (i: number) => `Paragraph ${i}: ${'cloud computing '.repeat(8)}`;
  const long = Array.from({ length: 12 }, (_, i) => paragraph(i)).join('\n');

  /** Applies a zero-context unified diff (as Salesforce's reconstruction guide does with a diff library). */
  function patch(before: string, diff: string): string {
    const lines = before.split('\n');
    const [, hashLine, ...rest] = diff.split('\n');
    expect(hashLine).toMatch(/^\+\+\+ [0-9a-f]{64}$/);
    const out: string[] = [];
    let at = 0;
    for (let k = 0; k < rest.length; ) {
      const m = /^@@ -(\d+),(\d+) \+\d+,\d+ @@$/.exec(rest[k++]!)!;
      const [start, count] = [Number(m[1]), Number(m[2])];
      const upTo = count === 0 ? start : start - 1;
      out.push(...lines.slice(at, upTo));
      at = upTo + count;
      while (k < rest.length && !rest[k]!.startsWith('@@')) {
        const line = rest[k++]!;
        if (line.startsWith('+')) out.push(line.slice(1));
      }
    }
    return [...out, ...lines.slice(at)].join('\n');
  }

  it('sends a unified diff with the SHA-256 of the new value only where the documented rules allow', () => {
    const edited = long.replace('Paragraph 3:', 'Paragraph three:').replace('Paragraph 9:', 'Paragraph nine:');
    const diff = textDiff(long, edited)!;
    expect(diff.startsWith('--- \n+++ ')).toBe(true);
    expect(diff).toContain('\n@@ -4,1 +4,1 @@\n-Paragraph 3:');
    expect(patch(long, diff)).toBe(edited);
    const appended = `${long}\nOne more line.`;
    expect(patch(long, textDiff(long, appended)!)).toBe(appended);
    const cut = long.split('\n').slice(1).join('\n');
    expect(patch(long, textDiff(long, cut)!)).toBe(cut);
    // Under 1,000 characters; lengths more than 50% apart; more than 25% of the lines changed: the whole value.
    expect(textDiff('short\ntext', 'short\ntexts')).toBeUndefined();
    expect(long.length).toBeGreaterThan(DIFF_MIN_LENGTH);
    expect(textDiff(long, `${long}\n${long}`)).toBeUndefined();
    const many = long
      .split('\n')
      .map((l, i) => (i % 2 ? `${l}!` : l))
      .join('\n');
    expect(textDiff(long, many)).toBeUndefined();
    // Only the line breaks changed: no line differs, so the whole value.
    expect(textDiff(long, long.replaceAll('\n', '\r\n'))).toBeUndefined();
  });

  it('puts the diff in the long text area and its bit in diffFields and changedFields; off, the whole value', () => {
    for (const on of [true, false]) {
      const { store, events, pos } = accountCapture({ shapes: { longTextDiffs: on } });
      const id = store.insert('Account', { Name: 'Long', Description: long }).Id;
      const edited = long.replace('Paragraph 5:', 'Paragraph five:');
      store.update(id, { Description: edited, Phone: '5' });
      const update = events().at(-1)!;
      expect(update.ChangeEventHeader.changedFields).toEqual([
        bitmapOf([pos('Phone'), pos('Description'), pos('LastModifiedDate')]),
      ]);
      expect(update.ChangeEventHeader.diffFields).toEqual(on ? [bitmapOf([pos('Description')])] : []);
      if (on) expect(patch(long, update.Description as string)).toBe(edited);
      else expect(update.Description).toBe(edited);
      // A plain text field never comes as a diff.
      expect(update.Phone).toBe('5');
    }
  });
});

describe("a compound's own bit (compoundParentBits)", () => {
  it('sets the compound bit in changedFields beside its nested entry; nulledFields keep the nested entry alone', () => {
    for (const on of [true, false]) {
      const { store, events, pos } = accountCapture({ shapes: { compoundParentBits: on } });
      const id = store.insert('Account', { Name: 'C', BillingCity: 'Paris', BillingStreet: '1 Rue' }).Id;
      store.update(id, { BillingCity: 'Lyon', BillingStreet: null });
      const h = events().at(-1)!.ChangeEventHeader;
      const top = on ? [pos('BillingAddress'), pos('LastModifiedDate')] : [pos('LastModifiedDate')];
      expect(h.changedFields).toEqual([bitmapOf(top), `${pos('BillingAddress')}-0x03`]);
      expect(h.nulledFields).toEqual([`${pos('BillingAddress')}-0x01`]);
    }
  });
});
