import { describe, expect, it } from 'vitest';
import { DataError } from '../../lib/errors.ts';
import { createDescribeCache, specOf, validatorOf } from '../../extractors/describe.ts';
import { replicationDate } from '../../extractors/getDeleted.ts';
import { parseLimits } from '../../extractors/limits.ts';
import { pollDelay } from '../../extractors/bulk/queryJob.ts';

const fd = (name: string, type: string, extra: Record<string, unknown> = {}) => ({
  name,
  label: `${name} label`,
  type,
  ...extra,
});

describe('specOf (describe -> ObjectSpec)', () => {
  const spec = specOf({
    name: 'Account',
    label: 'Account',
    fields: [
      fd('Id', 'id'),
      fd('IsDeleted', 'boolean'),
      fd('Name', 'string'),
      fd('BillingAddress', 'address'),
      fd('BillingCity', 'string', { compoundFieldName: 'BillingAddress' }),
      fd('Photo__c', 'base64'),
      fd('Loc__c', 'location'),
      fd('Loc__Latitude__s', 'double', { compoundFieldName: 'Loc__c' }),
      fd('Rating', 'picklist', {
        picklistValues: [
          { value: 'Hot', active: true },
          { value: 'Old', active: false },
        ],
      }),
      fd('Score__c', 'double', { calculated: true, calculatedFormula: 'A + B' }),
      fd('CreatedDate', 'datetime'),
      fd('LastModifiedDate', 'datetime'),
      fd('SystemModstamp', 'datetime'),
      fd('Weird__c', 'somethingnew'),
    ],
  });

  it('keeps compound components, drops compound parents and base64', () => {
    expect(spec.fields.map((f) => f.name)).toEqual([
      'Id',
      'IsDeleted',
      'Name',
      'BillingCity',
      'Loc__Latitude__s',
      'Rating',
      'Score__c',
      'CreatedDate',
      'LastModifiedDate',
      'SystemModstamp',
      'Weird__c',
    ]);
  });

  it('lowercases table and column names, maps types, keeps labels, formulas and active picklist values', () => {
    expect(spec.table).toBe('account');
    const byName = Object.fromEntries(spec.fields.map((f) => [f.name, f]));
    expect(byName.Loc__Latitude__s).toMatchObject({
      column: 'loc__latitude__s',
      pgType: 'numeric',
      label: 'Loc__Latitude__s label',
    });
    expect(byName.Score__c).toMatchObject({ calculated: true, calculatedFormula: 'A + B' });
    expect(byName.Rating?.picklistValues).toEqual(['Hot']);
    expect(byName.Weird__c?.pgType).toBe('text');
    expect(byName.SystemModstamp?.pgType).toBe('timestamptz');
  });

  it('picks the cursor SystemModstamp > LastModifiedDate > CreatedDate > none, and notes IsDeleted', () => {
    expect(spec.cursorField).toBe('SystemModstamp');
    expect(spec.hasIsDeleted).toBe(true);
    const history = specOf({
      name: 'AccountHistory',
      label: 'h',
      fields: [fd('Id', 'id'), fd('CreatedDate', 'datetime'), fd('LastModifiedDate', 'datetime')],
    });
    expect(history.cursorField).toBe('LastModifiedDate');
    const user = specOf({ name: 'User', label: 'u', fields: [fd('Id', 'id'), fd('CreatedDate', 'datetime')] });
    expect(user).toMatchObject({ cursorField: 'CreatedDate', hasIsDeleted: false });
    expect(specOf({ name: 'X', label: 'x', fields: [fd('Id', 'id')] }).cursorField).toBeNull();
  });
});

describe('/limits', () => {
  it('normalises Max/Remaining (ints or strings) and ignores other members', () => {
    expect(
      parseLimits({
        DailyApiRequests: { Max: 15000, Remaining: 14998, 'My App': { Max: 0, Remaining: 0 } },
        Old: { Max: '5000', Remaining: '10' },
        Weird: 3,
      }),
    ).toEqual({
      DailyApiRequests: { max: 15000, remaining: 14998 },
      Old: { max: 5000, remaining: 10 },
    });
    expect(() => parseLimits([])).toThrow(DataError);
  });
});

describe('getDeleted dates', () => {
  it('formats UTC with whole seconds', () => {
    expect(replicationDate(new Date('2024-05-05T12:30:15.123Z'))).toBe('2024-05-05T12:30:15+00:00');
    expect(() => replicationDate(new Date('x'))).toThrow(DataError);
  });
});

describe('Bulk job poll schedule', () => {
  it('starts at 500 ms, grows x1.5, caps at 2 s for about a minute, then at 10 s', () => {
    expect([0, 1, 2, 3, 4, 20, 39, 40, 41, 100].map((n) => pollDelay(n))).toEqual([
      500, 750, 1125, 1688, 2000, 2000, 2000, 10_000, 10_000, 10_000,
    ]);
  });
});

describe('describe cache', () => {
  it('keeps a Last-Modified only when it is a whole second before the response Date (RFC 9110 8.8.2.2)', () => {
    const lm = 'Wed, 01 May 2024 10:00:00 GMT';
    expect(validatorOf({ 'last-modified': lm, date: 'Wed, 01 May 2024 10:00:01 GMT' })).toBe(lm);
    expect(validatorOf({ 'last-modified': lm, date: lm })).toBeUndefined();
    expect(validatorOf({ 'last-modified': lm })).toBeUndefined();
    expect(validatorOf({ date: lm })).toBeUndefined();
  });

  it('holds at most max entries, dropping the least recently used', () => {
    const cache = createDescribeCache(2);
    const entry = (name: string) => ({ body: { name, label: name, fields: [] }, lastModified: 'x', fetchedAt: 0 });
    cache.set('a', entry('a'));
    cache.set('b', entry('b'));
    cache.get('a');
    cache.set('c', entry('c'));
    expect(cache.size).toBe(2);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')?.body.name).toBe('a');
    expect(cache.get('c')?.body.name).toBe('c');
  });
});
