// The emulator's person accounts (emulator/pubsub/personAccounts.ts): Account's name parts, the full name composed
// from them, and Account change events whose Name is ["null","string",Switchable_PersonName]
// (docs/salesforce.md#change-event-fields).
import { describe, expect, it } from 'vitest';
import { createChangeCapture } from '../../emulator/pubsub/changeEvents.ts';
import { bitmapOf, changeSchemaOf } from '../../emulator/pubsub/changeSchema.ts';
import { createEventBus } from '../../emulator/pubsub/eventBus.ts';
import { withPersonAccounts } from '../../emulator/pubsub/personAccounts.ts';
import { createOrgStore } from '../../emulator/store.ts';

type Event = Record<string, unknown> & { ChangeEventHeader: { changedFields: string[]; nulledFields: string[] } };

describe('person accounts', () => {
  const bus = createEventBus({ retentionMs: 60_000 });
  const capture = createChangeCapture(withPersonAccounts(createOrgStore({ accounts: 2 })), bus);
  capture.enable('Account');
  const { store } = capture;
  const schema = () => changeSchemaOf(store.object('Account')!);
  const events = () => bus.read('/data/AccountChangeEvent', 0n, 100).map((e) => schema().type.fromBuffer(e.payload));

  it('gives Account the name parts as components of Name, and Name the switchable union', () => {
    const fields = store.object('Account')!.fields;
    for (const part of ['Salutation', 'FirstName', 'LastName'])
      expect(fields.find((f) => f.name === part)?.compoundFieldName).toBe('Name');
    expect(fields.find((f) => f.name === 'IsPersonAccount')).toMatchObject({ type: 'boolean', createable: false });
    const name = JSON.parse(schema().json).fields.find((f: { name: string }) => f.name === 'Name');
    expect(name.type.slice(0, 2)).toEqual(['null', 'string']);
    expect(name.type[2]).toMatchObject({ type: 'record', name: 'Switchable_PersonName' });
    expect(name.type[2].fields.map((f: { name: string }) => f.name)).toEqual([
      'Salutation',
      'FirstName',
      'LastName',
      'MiddleName',
      'InformalName',
      'Suffix',
    ]);
  });

  it("sends a business account's Name as a string and a person account's as its parts; composes the full name", () => {
    const business = store.insert('Account', { Name: 'Acme' }).Id;
    const person = store.insert('Account', {
      IsPersonAccount: true,
      Salutation: 'Ms.',
      FirstName: 'Martha',
      LastName: 'Brown',
    }).Id;
    expect(store.get(person)?.Name).toBe('Martha Brown');
    store.update(person, { FirstName: 'Marta' });
    expect(store.get(person)?.Name).toBe('Marta Brown');
    store.update(business, { Name: 'Acme Ltd' });
    const [created, createdPerson, renamed, renamedBusiness] = events().slice(-4) as Event[];
    expect(created!.Name).toBe('Acme');
    expect(createdPerson!.Name).toEqual({
      Salutation: 'Ms.',
      FirstName: 'Martha',
      LastName: 'Brown',
      MiddleName: null,
      InformalName: null,
      Suffix: null,
    });
    const pos = (n: string) => schema().fields.find((f) => f.name === n)!.position;
    // A person's FirstName: a nested bit of Name (FirstName is the record's field 1).
    expect(renamed!.ChangeEventHeader.changedFields).toEqual([
      bitmapOf([pos('LastModifiedDate')]),
      `${pos('Name')}-0x02`,
    ]);
    expect((renamed!.Name as Record<string, unknown>).FirstName).toBe('Marta');
    // A business account's Name: its top-level bit and the string.
    expect(renamedBusiness!.ChangeEventHeader.changedFields).toEqual([
      bitmapOf([pos('Name'), pos('LastModifiedDate')]),
    ]);
    expect(renamedBusiness!.Name).toBe('Acme Ltd');
  });
});
