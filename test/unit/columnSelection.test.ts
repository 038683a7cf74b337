// Column control: config columns.include / exclude / hash applied to a describe, and the drift they cause.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/errors.ts';
import type { ColumnOptions } from '../../lib/config.ts';
import { type DescribeField, specOf } from '../../extractors/describe.ts';
import { selectColumns } from '../../pipelines/runtime/columnSelection.ts';
import { diffSchema, driftEvents, snapshotOf } from '../../pipelines/completeness/drift.ts';
import { columnTypeOf } from '../../schemas/fieldTypes.ts';

const fd = (name: string, type: string, extra: Partial<DescribeField> = {}): DescribeField => ({
  name,
  label: name,
  type,
  ...extra,
});

const raw: DescribeField[] = [
  fd('Id', 'id'),
  fd('IsDeleted', 'boolean'),
  fd('SystemModstamp', 'datetime'),
  fd('LastName', 'string', { length: 80 }),
  fd('Email', 'email', { length: 80 }),
  fd('Phone', 'phone', { length: 40 }),
  fd('Birthdate', 'date'),
  fd('Description', 'textarea'),
  fd('MailingAddress', 'address'),
  fd('MailingCity', 'string', { compoundFieldName: 'MailingAddress' }),
  fd('MailingLatitude', 'double', { compoundFieldName: 'MailingAddress' }),
  fd('Photo__c', 'base64'),
  fd('Score__c', 'double'),
  fd('LastSeen__c', 'datetime'),
];
const described = { spec: specOf({ name: 'Contact', label: 'Contact', fields: raw }), raw };

const options = (o: Partial<ColumnOptions>): ColumnOptions => ({ include: null, exclude: [], hash: [], ...o });
const select = (o: Partial<ColumnOptions>) => selectColumns(described, options(o));
const names = (o: Partial<ColumnOptions>) => select(o).fields.map((f) => f.name);
const problem = (o: Partial<ColumnOptions>) => {
  try {
    select(o);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('no ConfigError');
};

describe('selectColumns', () => {
  it('keeps the describe as it is without options', () => {
    expect(select({})).toBe(described.spec);
  });

  it('include keeps Id, the cursor and IsDeleted; exclude leaves fields out; a compound stands for its parts', () => {
    expect(names({ include: ['email', 'LastName'] })).toEqual([
      'Id',
      'IsDeleted',
      'SystemModstamp',
      'LastName',
      'Email',
    ]);
    expect(names({ exclude: ['Description', 'MailingAddress', 'Photo__c', 'Score__c', 'LastSeen__c'] })).toEqual([
      'Id',
      'IsDeleted',
      'SystemModstamp',
      'LastName',
      'Email',
      'Phone',
      'Birthdate',
    ]);
    expect(names({ include: ['MailingAddress'] })).toEqual([
      'Id',
      'IsDeleted',
      'SystemModstamp',
      'MailingCity',
      'MailingLatitude',
    ]);
  });

  it('hashes into a text column, loading a hashed field that include does not name', () => {
    const spec = select({ include: ['LastName'], hash: ['Email', 'Birthdate'] });
    expect(spec.fields.map((f) => [f.name, f.pgType, columnTypeOf(f), f.hashed ?? false])).toEqual([
      ['Id', 'text', 'text', false],
      ['IsDeleted', 'boolean', 'boolean', false],
      ['SystemModstamp', 'timestamptz', 'timestamptz', false],
      ['LastName', 'text', 'varchar(80)', false],
      ['Email', 'text', 'text', true],
      ['Birthdate', 'text', 'text', true],
    ]);
    // The describe's own spec is untouched.
    expect(described.spec.fields.find((f) => f.name === 'Email')?.hashed).toBeUndefined();
  });

  it('refuses every mistake at once, with a suggestion for a misspelt field', () => {
    const message = problem({
      include: ['Emal'],
      exclude: ['Id', 'Phone'],
      hash: ['SystemModstamp', 'Phone', 'Score__c', 'LastSeen__c', 'MailingAddress', 'Photo__c'],
    });
    expect(message).toMatch(/^Contact columns: /);
    for (const part of [
      "include: 'Emal' (did you mean Email?) is not a field of Contact",
      'exclude: Id is always loaded',
      'hash: SystemModstamp is always loaded as read',
      'Phone is both excluded and hashed',
      'hash: Score__c is a double field',
      'hash: LastSeen__c is a datetime field',
      'hash: MailingAddress is a compound field; name the components to hash (MailingCity, MailingLatitude)',
      'hash: Photo__c (base64) is not a field sfsync loads',
    ])
      expect(message).toContain(part);
    expect(problem({ include: ['Email'], exclude: ['email'] })).toContain('Email is both included and excluded');
    expect(problem({ exclude: ['IsDeleted'] })).toContain('exclude: IsDeleted is always loaded');
    // Excluding what is never loaded is no mistake.
    expect(names({ exclude: ['Photo__c'] })).toEqual(described.spec.fields.map((f) => f.name));
  });
});

describe('column options as schema drift', () => {
  const before = select({ exclude: ['Description'], hash: ['Email'] });

  it('records the hashed flag in the snapshot; stopping a hash is drift to re-read, starting one is not', () => {
    expect(snapshotOf(before).Email?.hashed).toBe(true);
    expect(snapshotOf(before).Phone?.hashed).toBeUndefined();
    const after = select({ exclude: ['Phone'], hash: ['Birthdate'] });
    const diff = diffSchema(snapshotOf(before), after);
    expect(diff.added.map((f) => f.name)).toEqual(['Description']);
    expect(diff.removed).toEqual(['Phone']);
    expect(diff.unhashed?.map((f) => f.name)).toEqual(['Email']);
    const events = driftEvents(diff, new Map(), 7);
    expect(events.map((e) => [e.field, e.kind, e.action])).toEqual([
      ['Description', 'added', 'new column, back-filled 7 rows'],
      ['Phone', 'removed', 'column and data kept'],
      ['Email', 'unhashed', 'no longer hashed; back-filled 7 rows as read'],
    ]);
  });
});
