import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/errors.ts';
import { parseTopics } from '../../cli/stream.ts';
import { changeTopicOf } from '../../extractors/pubsub/topics.ts';
import { docKind, eventColumnsOf, eventPgType, eventValues, publishedAt } from '../../transforms/platformEvent.ts';

describe('topics', () => {
  it('names change event channels as Salesforce does (custom objects drop the c)', () => {
    expect(changeTopicOf('Account')).toBe('/data/AccountChangeEvent');
    expect(changeTopicOf('Invoice__c')).toBe('/data/Invoice__ChangeEvent');
    expect(() => changeTopicOf('Bad Name')).toThrow(ConfigError);
  });

  it('takes platform event topics only', () => {
    expect(parseTopics(undefined)).toEqual([]);
    expect(parseTopics(' /event/A__e, /event/Order_Shipped__e ')).toEqual(['/event/A__e', '/event/Order_Shipped__e']);
    expect(() => parseTopics('/data/AccountChangeEvent')).toThrow(/'\/data\/AccountChangeEvent' is not/);
    expect(() => parseTopics('/event/Missing')).toThrow(ConfigError);
    expect(() => parseTopics(',')).toThrow(/give platform event topics/);
  });
});

describe('platform event columns', () => {
  // The doc forms of real schemas: `<role>:<kind>`, and `:<field id>` after the kind for custom fields.
  const fields = [
    { name: 'CreatedDate', avroType: 'long', doc: 'CreatedDate:DateTime' },
    { name: 'CreatedById', avroType: 'string', doc: 'CreatedBy:EntityId' },
    { name: 'Amount__c', avroType: 'double', doc: 'Data:Double:00NDp000009Rr9S' },
    { name: 'Count__c', avroType: 'int' },
    { name: 'Big__c', avroType: 'long', doc: 'Data:Long:00NDp000009Rr9T' },
    { name: 'When__c', avroType: 'long', doc: 'Data:DateTime:00NDp000009Rr9D' },
    { name: 'Day__c', avroType: 'long', doc: 'Data:DateOnly:00NDp000009Rr9I' },
    { name: 'At__c', avroType: 'long', doc: 'Data:TimeOnly:00NDp000009RrA1' },
    { name: 'Ok__c', avroType: 'boolean', doc: 'Data:Boolean:00NDp000009Rr9E' },
  ];

  it('types each field from the kind its doc names, else from its Avro type; CreatedDate is no column', () => {
    expect(eventColumnsOf(fields).map((c) => [c.column, c.pgType])).toEqual([
      ['createdbyid', 'text'],
      ['amount__c', 'numeric'],
      ['count__c', 'integer'],
      ['big__c', 'bigint'],
      ['when__c', 'timestamptz'],
      ['day__c', 'date'],
      ['at__c', 'time'],
      ['ok__c', 'boolean'],
    ]);
    expect(eventPgType({ avroType: 'record' })).toBe('jsonb');
    // A standard field's doc has no field id; the role may be other than Data.
    expect(eventPgType({ avroType: 'long', doc: 'Data:DateOnly' })).toBe('date');
    expect(eventPgType({ avroType: 'long', doc: 'LastModifiedDate:DateTime' })).toBe('timestamptz');
    // Only the kind counts: a field id or a name that merely ends like a kind is no date.
    expect(eventPgType({ avroType: 'long', doc: 'Data:Long:00NDateTime' })).toBe('bigint');
    expect(eventPgType({ avroType: 'long', doc: 'Data:DateTimeish' })).toBe('bigint');
    expect(eventPgType({ avroType: 'long', doc: 'DateTime' })).toBe('bigint');
    expect(docKind('Data:DateTime:00NDp000009Rr9D')).toBe('DateTime');
    expect(docKind('CreatedBy:EntityId')).toBe('EntityId');
    expect(docKind(undefined)).toBeUndefined();
    expect(docKind('a:b:c:d')).toBeUndefined();
  });

  it('turns a decoded event into its values and publish time: dates, datetimes and times are epoch-ms longs', () => {
    const record = {
      CreatedDate: 1718000000000,
      CreatedById: '005000000000001AAA',
      Amount__c: 12.5,
      Count__c: 3,
      Big__c: 9007199254740991,
      When__c: 1718000000123,
      // 2024-06-10 at midnight UTC, and 13:45:30.250 as milliseconds since midnight.
      Day__c: Date.UTC(2024, 5, 10),
      At__c: ((13 * 60 + 45) * 60 + 30) * 1000 + 250,
      Ok__c: false,
    };
    expect(eventValues(record, eventColumnsOf(fields))).toEqual([
      '005000000000001AAA',
      '12.5',
      '3',
      '9007199254740991',
      '2024-06-10T06:13:20.123Z',
      '2024-06-10',
      '13:45:30.250',
      'false',
    ]);
    // A date before the epoch is a negative long.
    const [day] = eventColumnsOf([fields[6]!]);
    expect(eventValues({ Day__c: Date.UTC(1969, 11, 31) }, [day!])).toEqual(['1969-12-31']);
    expect(publishedAt(record)?.toISOString()).toBe('2024-06-10T06:13:20.000Z');
    expect(publishedAt({})).toBeNull();
  });
});
