import { describe, expect, it } from 'vitest';
import type { FieldSpec } from '../../schemas/records.ts';
import { DataError } from '../../lib/errors.ts';
import type { ObjectSpec } from '../../schemas/records.ts';
import { hashValue } from '../../transforms/hashValue.ts';
import {
  bitmapFields,
  bitmapPositions,
  columnMapOf,
  columnText,
  componentOf,
  decodeChange,
  type EventLayout,
} from '../../transforms/changeEvent.ts';
import { fieldSpec } from '../support/fieldSpec.ts';

const ADDRESS = ['Street', 'City', 'State', 'PostalCode', 'Country', 'StateCode', 'CountryCode'];
/** Positions as an emulated AccountChangeEvent has them: header first, then the fields. */
const layout: EventLayout = [
  { name: 'ChangeEventHeader' },
  { name: 'Name' },
  { name: 'Phone' },
  { name: 'BillingAddress', nested: ADDRESS },
  { name: 'AnnualRevenue' },
  { name: 'LastModifiedDate' },
  { name: 'Founded__c' },
  { name: 'Active__c' },
  { name: 'Loc__c', nested: ['Latitude', 'Longitude'] },
];

const spec: ObjectSpec = {
  name: 'Account',
  table: 'account',
  label: 'Account',
  cursorField: 'SystemModstamp',
  hasIsDeleted: true,
  fields: [
    fieldSpec('Id', 'id'),
    fieldSpec('Name'),
    fieldSpec('Phone', 'phone'),
    fieldSpec('BillingStreet', 'textarea'),
    fieldSpec('BillingCity'),
    fieldSpec('BillingState'),
    fieldSpec('BillingStateCode', 'picklist'),
    fieldSpec('AnnualRevenue', 'currency'),
    fieldSpec('LastModifiedDate', 'datetime'),
    fieldSpec('SystemModstamp', 'datetime'),
    fieldSpec('Founded__c', 'date'),
    fieldSpec('Active__c', 'boolean'),
    fieldSpec('Loc__Latitude__s', 'double'),
    fieldSpec('Loc__Longitude__s', 'double'),
  ],
};
const compoundOf = new Map([
  ['BillingStreet', 'BillingAddress'],
  ['BillingCity', 'BillingAddress'],
  ['BillingState', 'BillingAddress'],
  ['BillingStateCode', 'BillingAddress'],
  ['Loc__Latitude__s', 'Loc__c'],
  ['Loc__Longitude__s', 'Loc__c'],
]);
const columns = columnMapOf(spec, layout, compoundOf);

const header = (changeType: string, extra: Record<string, unknown> = {}) => ({
  entityName: 'Account',
  recordIds: ['001000000000001AAA'],
  changeType,
  changeOrigin: 'com/salesforce/api/rest/62.0',
  transactionKey: 'tx-1',
  sequenceNumber: 1,
  commitTimestamp: 1718000000123,
  commitNumber: 10,
  commitUser: '005000000000001AAA',
  nulledFields: [],
  diffFields: [],
  changedFields: [],
  ...extra,
});

describe('bitmapPositions', () => {
  it('counts bit 0 as the least significant bit of the last hex digit', () => {
    expect(bitmapPositions('0x1')).toEqual([0]);
    expect(bitmapPositions('0x06')).toEqual([1, 2]);
    expect(bitmapPositions('0x10')).toEqual([4]);
    // The documentation's example: 0x650004E0 = bits 5, 6, 7, 10, 24, 26, 29, 30.
    expect(bitmapPositions('0x650004E0')).toEqual([5, 6, 7, 10, 24, 26, 29, 30]);
  });

  it('reads bitmaps wider than 53 bits and lower-case digits', () => {
    expect(bitmapPositions('0x80000000000000000001')).toEqual([0, 79]);
    expect(bitmapPositions('0xa')).toEqual([1, 3]);
  });

  it('refuses what is not a 0x hex string', () => {
    expect(() => bitmapPositions('650004E0')).toThrow(DataError);
    expect(() => bitmapPositions('0xZZ')).toThrow(DataError);
  });
});

describe('bitmapFields', () => {
  it('names top-level fields by schema position and compound children as Parent.Child', () => {
    // 0x22 = positions 1 (Name) and 5 (LastModifiedDate); 3-0x03 = BillingAddress Street and City.
    expect(bitmapFields(['0x22', '3-0x03'], layout)).toEqual([
      'Name',
      'LastModifiedDate',
      'BillingAddress.Street',
      'BillingAddress.City',
    ]);
  });

  it('takes a list with no top-level bitmap (only nested fields changed) and entries in any order', () => {
    expect(bitmapFields(['8-0x2', '3-0x20'], layout)).toEqual(['Loc__c.Longitude', 'BillingAddress.StateCode']);
  });

  it('refuses a position past the schema or a nested entry on a plain field', () => {
    expect(() => bitmapFields(['0x400'], layout)).toThrow(/position 10/);
    expect(() => bitmapFields(['1-0x1'], layout)).toThrow(/not a compound/);
  });
});

describe('componentOf and columnMapOf', () => {
  it('finds standard, custom and exact component names', () => {
    expect(componentOf('Street', ['BillingStreet', 'BillingCity'])).toBe('BillingStreet');
    expect(componentOf('State', ['BillingState', 'BillingStateCode'])).toBe('BillingState');
    expect(componentOf('StateCode', ['BillingState', 'BillingStateCode'])).toBe('BillingStateCode');
    expect(componentOf('Latitude', ['Loc__Latitude__s', 'Loc__Longitude__s'])).toBe('Loc__Latitude__s');
    expect(componentOf('FirstName', ['FirstName', 'LastName'])).toBe('FirstName');
    expect(componentOf('Country', ['BillingStreet'])).toBeUndefined();
  });

  it('maps nested fields to component columns and leaves out what the spec does not load', () => {
    expect(columns.get('BillingAddress.Street')?.column).toBe('billingstreet');
    expect(columns.get('BillingAddress.StateCode')?.column).toBe('billingstatecode');
    expect(columns.get('Loc__c.Longitude')?.column).toBe('loc__longitude__s');
    expect(columns.has('BillingAddress.Country')).toBe(false);
    expect(columns.has('ChangeEventHeader')).toBe(false);
  });
});

describe('columnText', () => {
  it('turns Avro values into the text PostgreSQL parses', () => {
    expect(columnText(fieldSpec('D', 'datetime'), 1718000000123)).toBe('2024-06-10T06:13:20.123Z');
    expect(columnText(fieldSpec('D', 'date'), 19884)).toBe('2024-06-10');
    expect(columnText(fieldSpec('D', 'date'), 1717977600000)).toBe('2024-06-10');
    // A hashed date's column is text: it is still spelled as REST and Bulk spell it, so the hashes agree.
    const hashedDate: FieldSpec = { ...fieldSpec('D', 'date'), pgType: 'text', hashed: true };
    expect(columnText(hashedDate, 1717977600000)).toBe('2024-06-10');
    expect(columnText(fieldSpec('T', 'time'), 3_723_004)).toBe('01:02:03.004');
    expect(columnText(fieldSpec('B', 'boolean'), false)).toBe('false');
    expect(columnText(fieldSpec('N', 'currency'), 1234.5)).toBe('1234.5');
    expect(columnText(fieldSpec('S'), 'x')).toBe('x');
    expect(columnText(fieldSpec('S'), null)).toBeNull();
  });
});

describe('decodeChange', () => {
  it('CREATE sets every field of the event, nulls included, and the cursor to LastModifiedDate', () => {
    const change = decodeChange(
      {
        ChangeEventHeader: header('CREATE'),
        Name: 'Acme',
        Phone: null,
        BillingAddress: { Street: '1 Main St', City: 'Paris', State: null, StateCode: null },
        AnnualRevenue: 10.5,
        LastModifiedDate: 1718000000000,
        Founded__c: 19884,
        Active__c: true,
        Loc__c: null,
      },
      layout,
      columns,
    );
    expect(change.changeType).toBe('CREATE');
    expect(change.recordIds).toEqual(['001000000000001AAA']);
    expect(Object.fromEntries(change.values)).toEqual({
      name: 'Acme',
      phone: null,
      billingstreet: '1 Main St',
      billingcity: 'Paris',
      billingstate: null,
      billingstatecode: null,
      annualrevenue: '10.5',
      lastmodifieddate: '2024-06-10T06:13:20.000Z',
      founded__c: '2024-06-10',
      active__c: 'true',
      loc__latitude__s: null,
      loc__longitude__s: null,
    });
    expect(change.cursor).toBe('2024-06-10T06:13:20.000Z');
  });

  it('UPDATE sets only the changed fields; nulled fields become NULL, also inside a compound', () => {
    const change = decodeChange(
      {
        ChangeEventHeader: header('UPDATE', {
          // Name (1), Phone (2), LastModifiedDate (5); BillingAddress City (bit 1).
          changedFields: ['0x26', '3-0x02'],
          nulledFields: ['0x04', '3-0x02'],
        }),
        Name: 'Renamed',
        Phone: null,
        BillingAddress: { City: null },
        AnnualRevenue: null,
        LastModifiedDate: 1718000005000,
      },
      layout,
      columns,
    );
    expect(Object.fromEntries(change.values)).toEqual({
      name: 'Renamed',
      phone: null,
      lastmodifieddate: '2024-06-10T06:13:25.000Z',
      billingcity: null,
    });
    expect(change.cursor).toBe('2024-06-10T06:13:25.000Z');
  });

  it('UPDATE naming a compound by its top-level bit alone: which parts changed is unknown, so it re-reads', () => {
    // BillingAddress (3) and LastModifiedDate (5), with no `3-0x...` entry for the compound's parts.
    const nulled = decodeChange(
      {
        ChangeEventHeader: header('UPDATE', { changedFields: ['0x28'], nulledFields: ['0x08'] }),
        BillingAddress: null,
        LastModifiedDate: 1718000005000,
      },
      layout,
      columns,
    );
    // Some parts were nulled, which ones no bitmap says: nothing is nulled on a guess.
    expect(Object.fromEntries(nulled.values)).toEqual({ lastmodifieddate: '2024-06-10T06:13:25.000Z' });
    expect(nulled.incomplete).toEqual(['BillingAddress']);
    const changed = decodeChange(
      {
        ChangeEventHeader: header('UPDATE', { changedFields: ['0x28'] }),
        BillingAddress: { City: 'Oslo' },
        LastModifiedDate: 1718000005000,
      },
      layout,
      columns,
    );
    // Which parts changed is unknown: the record is read again rather than guessed from the nested record.
    expect(changed.incomplete).toEqual(['BillingAddress']);
    expect(Object.fromEntries(changed.values)).toEqual({ lastmodifieddate: '2024-06-10T06:13:25.000Z' });
  });

  it("UPDATE with a compound's bare bit in nulledFields nulls only the parts changedFields names", () => {
    // changedFields: BillingAddress (3), LastModifiedDate (5) and BillingAddress City (3-0x02) only; nulledFields:
    // BillingAddress's bare bit. Street, State and StateCode did not change and keep their values.
    const change = decodeChange(
      {
        ChangeEventHeader: header('UPDATE', { changedFields: ['0x28', '3-0x02'], nulledFields: ['0x08'] }),
        // An UPDATE's nested record: null for every part that did not change, and for the nulled City.
        BillingAddress: { Street: null, City: null, State: null, StateCode: null },
        LastModifiedDate: 1718000005000,
      },
      layout,
      columns,
    );
    expect(Object.fromEntries(change.values)).toEqual({
      lastmodifieddate: '2024-06-10T06:13:25.000Z',
      billingcity: null,
    });
    expect(change.incomplete).toEqual([]);
    // A changed part with a value beside the bare nulled bit keeps its value: changed fields include the nulled ones.
    const moved = decodeChange(
      {
        ChangeEventHeader: header('UPDATE', { changedFields: ['0x28', '3-0x03'], nulledFields: ['0x08'] }),
        BillingAddress: { Street: null, City: 'Oslo' },
        LastModifiedDate: 1718000005000,
      },
      layout,
      columns,
    );
    expect(Object.fromEntries(moved.values)).toEqual({
      lastmodifieddate: '2024-06-10T06:13:25.000Z',
      billingstreet: null,
      billingcity: 'Oslo',
    });
  });

  it('UPDATE without LastModifiedDate takes the commit time as the cursor; diff fields are left to a re-read', () => {
    const change = decodeChange(
      {
        ChangeEventHeader: header('UPDATE', { changedFields: ['0x02'], diffFields: ['0x02'] }),
        Name: '@@ -1 +1 @@',
      },
      layout,
      columns,
    );
    expect(change.values.size).toBe(0);
    expect(change.diffFields).toEqual(['Name']);
    expect(change.incomplete).toEqual(['Name']);
    expect(change.cursor).toBe('2024-06-10T06:13:20.123Z');
  });

  it("marks a derived compound (a Contact's full Name) and diff fields as incomplete: the record is re-read", () => {
    const contactLayout: EventLayout = [
      { name: 'ChangeEventHeader' },
      { name: 'Name', nested: ['Salutation', 'FirstName', 'LastName'] },
      { name: 'Email' },
    ];
    const contact: ObjectSpec = {
      ...spec,
      name: 'Contact',
      table: 'contact',
      fields: [
        fieldSpec('Id', 'id'),
        fieldSpec('Name'),
        fieldSpec('FirstName'),
        fieldSpec('LastName'),
        fieldSpec('Email'),
      ],
    };
    const parts = new Map([
      ['FirstName', 'Name'],
      ['LastName', 'Name'],
    ]);
    const map = columnMapOf(contact, contactLayout, parts);
    expect(map.get('Name.FirstName')?.column).toBe('firstname');
    const renamed = decodeChange(
      // Top-level bit 1 (Name) as well as its nested FirstName: neither writes the full name column.
      { ChangeEventHeader: header('UPDATE', { changedFields: ['0x02', '1-0x02'] }), Name: { FirstName: 'Ada' } },
      contactLayout,
      map,
    );
    expect(Object.fromEntries(renamed.values)).toEqual({ firstname: 'Ada' });
    expect(renamed.incomplete).toEqual(['Name']);
    const email = decodeChange(
      { ChangeEventHeader: header('UPDATE', { changedFields: ['0x04'] }), Email: 'a@b.c' },
      contactLayout,
      map,
    );
    expect(email.incomplete).toEqual([]);
    const created = decodeChange(
      { ChangeEventHeader: header('CREATE'), Name: { LastName: 'Lovelace' }, Email: null },
      contactLayout,
      map,
    );
    expect(created.incomplete).toEqual(['Name']);
    expect(created.values.get('lastname')).toBe('Lovelace');
    expect(created.values.has('name')).toBe(false);
  });

  describe('person accounts: Name is ["null","string",Switchable_PersonName]', () => {
    const PERSON = ['Salutation', 'FirstName', 'LastName', 'MiddleName', 'InformalName', 'Suffix'];
    // As schemaCache reads it: the nested fields are the record branch's.
    const personLayout: EventLayout = [
      { name: 'ChangeEventHeader' },
      { name: 'Name', nested: PERSON },
      { name: 'Phone' },
      { name: 'LastModifiedDate' },
    ];
    const account: ObjectSpec = {
      ...spec,
      fields: [
        fieldSpec('Id', 'id'),
        fieldSpec('Name'),
        fieldSpec('Salutation', 'picklist'),
        fieldSpec('FirstName'),
        fieldSpec('LastName'),
        fieldSpec('Phone', 'phone'),
        fieldSpec('LastModifiedDate', 'datetime'),
      ],
    };
    const parts = new Map(['Salutation', 'FirstName', 'LastName'].map((c) => [c, 'Name']));
    const map = columnMapOf(account, personLayout, parts);

    it("a business account's Name is a string: its column's value, no re-read", () => {
      const created = decodeChange(
        { ChangeEventHeader: header('CREATE'), Name: 'Acme', Phone: '1', LastModifiedDate: 1718000000000 },
        personLayout,
        map,
      );
      expect(Object.fromEntries(created.values)).toEqual({
        name: 'Acme',
        salutation: null,
        firstname: null,
        lastname: null,
        phone: '1',
        lastmodifieddate: '2024-06-10T06:13:20.000Z',
      });
      expect(created.incomplete).toEqual([]);
      const renamed = decodeChange(
        // Name (1) and LastModifiedDate (3).
        { ChangeEventHeader: header('UPDATE', { changedFields: ['0x0A'] }), Name: 'Acme Ltd', LastModifiedDate: 1 },
        personLayout,
        map,
      );
      expect(Object.fromEntries(renamed.values)).toEqual({
        name: 'Acme Ltd',
        lastmodifieddate: '1970-01-01T00:00:00.001Z',
      });
      expect(renamed.incomplete).toEqual([]);
    });

    it("a person account's Name is its parts: they are applied, the full name is read again by Id", () => {
      const created = decodeChange(
        {
          ChangeEventHeader: header('CREATE'),
          Name: { Salutation: 'Ms.', FirstName: 'Martha', LastName: 'Brown' },
          Phone: null,
          LastModifiedDate: 1718000000000,
        },
        personLayout,
        map,
      );
      expect(created.incomplete).toEqual(['Name']);
      expect(created.values.has('name')).toBe(false);
      expect(created.values.get('firstname')).toBe('Martha');
      // FirstName changed: `1-0x02` names a nested field of Name, the record branch.
      const renamed = decodeChange(
        {
          ChangeEventHeader: header('UPDATE', { changedFields: ['0x08', '1-0x02'] }),
          Name: { FirstName: 'Marta' },
          LastModifiedDate: 1718000005000,
        },
        personLayout,
        map,
      );
      expect(renamed.incomplete).toEqual(['Name']);
      expect(Object.fromEntries(renamed.values)).toEqual({
        lastmodifieddate: '2024-06-10T06:13:25.000Z',
        firstname: 'Marta',
      });
    });
  });

  it('hashes the values of hashed fields under the key', () => {
    const hashed = new Map(columns);
    hashed.set('Phone', fieldSpec('Phone', 'phone', { hashed: true }));
    const key = 'k'.repeat(16);
    const change = decodeChange(
      { ChangeEventHeader: header('UPDATE', { changedFields: ['0x04'] }), Phone: '+33 1 23' },
      layout,
      hashed,
      key,
    );
    expect(change.values.get('phone')).toBe(hashValue(key, '+33 1 23'));
  });

  it('DELETE, GAP and overflow events carry no values; unknown change types are refused', () => {
    for (const type of ['DELETE', 'GAP_UPDATE', 'GAP_OVERFLOW']) {
      const change = decodeChange({ ChangeEventHeader: header(type) }, layout, columns);
      expect(change.changeType).toBe(type);
      expect(change.values.size).toBe(0);
      expect(change.cursor).toBeNull();
    }
    expect(() => decodeChange({ ChangeEventHeader: header('MERGE') }, layout, columns)).toThrow(DataError);
    expect(() => decodeChange({ Name: 'x' }, layout, columns)).toThrow(DataError);
  });
});
