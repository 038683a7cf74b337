import { describe, expect, it } from 'vitest';
import { DataError } from '../../lib/errors.ts';
import { recordToRow } from '../../transforms/restPage.ts';
import { parseJsonNumbersAsText } from '../../extractors/rest/exactJson.ts';
import { parseQueryPage } from '../../extractors/rest/query.ts';
import type { FieldSpec } from '../../schemas/records.ts';

const f = (name: string, sfType = 'string'): FieldSpec => ({
  name,
  column: name.toLowerCase(),
  label: name,
  sfType,
  pgType: 'text',
  calculated: false,
  calculatedFormula: null,
  picklistValues: [],
});
const fields = [
  f('Id', 'id'),
  f('Amount__c', 'currency'),
  f('Big__c', 'double'),
  f('IsDeleted', 'boolean'),
  f('SystemModstamp', 'datetime'),
  f('Note__c'),
  f('Count__c', 'int'),
];

const page = `{"totalSize":1,"done":true,"records":[{"attributes":{"type":"Deal__c","url":"/x"},
  "Id":"a00000000000001AAA","Amount__c":12345678901234567.89,"Big__c":1.2345678E7,"IsDeleted":false,
  "SystemModstamp":"2024-01-02T03:04:05.000+0000","Note__c":null,"Count__c":42}]}`;

describe('recordToRow', () => {
  it('keeps every digit of numbers, booleans as true/false, datetimes as sent, null as null, in spec order', () => {
    const record = parseQueryPage(page, '/q').records[0]!;
    expect(recordToRow(record, fields)).toEqual([
      'a00000000000001AAA',
      '12345678901234567.89',
      '1.2345678E7',
      'false',
      '2024-01-02T03:04:05.000+0000',
      null,
      '42',
    ]);
  });

  it('keeps every digit of a 20-digit number and of long decimals, from the REST page text to the Row', () => {
    const values = {
      Big__c: '12345678901234567890',
      Amount__c: '-98765432109876543.21',
      Count__c: '9007199254740993',
      Ratio__c: '0.12345678901234567890123456789',
    };
    // Each value is beyond what a double holds: parsed with JSON.parse, it would come back with other digits.
    for (const literal of Object.values(values)) expect(String(JSON.parse(literal)), literal).not.toBe(literal);
    const text =
      '{"totalSize":1,"done":true,"records":[{"attributes":{"type":"Deal__c"},"Id":"a00000000000002AAA",' +
      Object.entries(values)
        .map(([name, literal]) => `"${name}":${literal}`)
        .join(',') +
      '}]}';
    const record = parseQueryPage(text, '/q').records[0]!;
    const spec = [
      f('Id', 'id'),
      f('Big__c', 'double'),
      f('Amount__c', 'currency'),
      f('Count__c', 'int'),
      f('Ratio__c', 'double'),
    ];
    expect(recordToRow(record, spec)).toEqual(['a00000000000002AAA', ...Object.values(values)]);
  });

  it('keeps text exactly, including quotes, newlines and non-ASCII', () => {
    const record = parseJsonNumbersAsText('{"Id":"x","Note__c":"Line1\\nLine2 \\"q\\" é 😀"}') as Record<
      string,
      unknown
    >;
    expect(recordToRow(record, [f('Id'), f('Note__c')])).toEqual(['x', 'Line1\nLine2 "q" é 😀']);
  });

  it('refuses a record missing a selected field', () => {
    expect(() => recordToRow({ attributes: { type: 'Account' }, Id: 'x' }, [f('Id'), f('Name')])).toThrow(
      /Account record from Salesforce lacks the field Name/,
    );
  });

  it('refuses a nested object where a scalar is expected', () => {
    expect(() => recordToRow({ Id: 'x', BillingAddress: { city: 'SF' } }, [f('Id'), f('BillingAddress')])).toThrow(
      DataError,
    );
  });
});

describe('parseQueryPage', () => {
  it('reads totalSize, done and nextRecordsUrl', () => {
    const p = parseQueryPage(
      '{"totalSize":3222,"done":false,"nextRecordsUrl":"/services/data/v62.0/query/01g-2000","records":[]}',
      '/q',
    );
    expect(p).toMatchObject({ totalSize: 3222, done: false, nextRecordsUrl: '/services/data/v62.0/query/01g-2000' });
  });

  it.each([
    ['not JSON', '{"totalSize":1,"done":tru'],
    ['records missing', '{"totalSize":1,"done":true}'],
    ['done not boolean', '{"totalSize":1,"done":"yes","records":[]}'],
    ['totalSize missing', '{"done":true,"records":[]}'],
    ['done=false without nextRecordsUrl', '{"totalSize":1,"done":false,"records":[]}'],
  ])('refuses a malformed page: %s', (_why, text) => {
    expect(() => parseQueryPage(text, '/q')).toThrow(DataError);
  });
});
