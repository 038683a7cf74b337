import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/errors.ts';
import { parseTopics } from '../../cli/stream.ts';
import { changeTopicOf } from '../../extractors/pubsub/topics.ts';
import { eventColumnsOf, eventPgType, eventValues, publishedAt } from '../../transforms/platformEvent.ts';

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
  const fields = [
    { name: 'CreatedDate', avroType: 'long', doc: 'CreatedDate:DateTime' },
    { name: 'CreatedById', avroType: 'string', doc: 'CreatedBy:EntityId' },
    { name: 'Amount__c', avroType: 'double' },
    { name: 'Count__c', avroType: 'int' },
    { name: 'Big__c', avroType: 'long' },
    { name: 'When__c', avroType: 'long', doc: 'Data:DateTime' },
    { name: 'Day__c', avroType: 'int', doc: 'Data:Date' },
    { name: 'Ok__c', avroType: 'boolean' },
  ];

  it('types each field from its Avro type and doc; CreatedDate is the publish time, not a column', () => {
    expect(eventColumnsOf(fields).map((c) => [c.column, c.pgType])).toEqual([
      ['createdbyid', 'text'],
      ['amount__c', 'numeric'],
      ['count__c', 'integer'],
      ['big__c', 'bigint'],
      ['when__c', 'timestamptz'],
      ['day__c', 'date'],
      ['ok__c', 'boolean'],
    ]);
    expect(eventPgType({ avroType: 'record' })).toBe('jsonb');
  });

  it('turns a decoded event into its values and publish time', () => {
    const record = {
      CreatedDate: 1718000000000,
      CreatedById: '005000000000001AAA',
      Amount__c: 12.5,
      Count__c: 3,
      Big__c: 9007199254740991,
      When__c: 1718000000123,
      Day__c: 19884,
      Ok__c: false,
    };
    expect(eventValues(record, eventColumnsOf(fields))).toEqual([
      '005000000000001AAA',
      '12.5',
      '3',
      '9007199254740991',
      '2024-06-10T06:13:20.123Z',
      '2024-06-10',
      'false',
    ]);
    expect(publishedAt(record)?.toISOString()).toBe('2024-06-10T06:13:20.000Z');
    expect(publishedAt({})).toBeNull();
  });
});
