// Fields of type json, complexvalue and anyType on REST (docs/salesforce.md#field-types): a nested value becomes its
// JSON text with every digit of its numbers, a json field goes to jsonb, an anyType scalar stays the text Bulk sends.
import { describe, expect, it } from 'vitest';
import { markedJsonText, numberMarkerFor, parseJsonNumbersMarked } from '../../extractors/rest/exactJson.ts';
import { parseQueryPage } from '../../extractors/rest/query.ts';
import { DataError } from '../../lib/errors.ts';
import { pgTypeOf } from '../../schemas/fieldTypes.ts';
import { csvTextOf, encodePage, needsNumberMarks, recordToRow } from '../../transforms/restPage.ts';
import { fieldSpec } from '../support/fieldSpec.ts';

const f = (name: string, sfType: string) => fieldSpec(name, sfType);
const fields = [f('Id', 'id'), f('Profile__c', 'json'), f('OldValue', 'anyType'), f('Amount__c', 'currency')];

const page = (records: string[]) => `{"totalSize":${records.length},"done":true,"records":[${records.join(',')}]}`;
const rec = (id: string, profile: string, old: string, amount = 'null') =>
  `{"attributes":{"type":"X__c"},"Id":"${id}","Profile__c":${profile},"OldValue":${old},"Amount__c":${amount}}`;

describe('field types that may hold JSON', () => {
  it('stores json and complexvalue as jsonb, anyType as text (Bulk sends its scalars as bare text)', () => {
    expect(pgTypeOf('json')).toBe('jsonb');
    expect(pgTypeOf('complexvalue')).toBe('jsonb');
    expect(pgTypeOf('anyType')).toBe('text');
    expect(needsNumberMarks(fields)).toBe(true);
    expect(needsNumberMarks([f('Id', 'id'), f('Amount__c', 'currency')])).toBe(false);
  });
});

describe('recordToRow with nested JSON (REST)', () => {
  const profile =
    '{"source":"Internal \\"CRM\\" import","score":7,"revenue":9007199254740993,"big":6.02E23,"r":1234567.0,' +
    '"tags":["a","7"],"hq":{"lat":40.7128,"ok":true,"none":null},"note":"Δelta 東京 \\n"}';
  const text = page([
    rec('a1', profile, '"Old 5"', '12345678901234567.89'),
    rec('a2', '[3,"Strategic",null,true]', '5'),
    rec('a3', '"just a string"', '{"k":[1.50,"1.50"]}'),
    rec('a4', 'null', 'true'),
    rec('a5', '42', 'null'),
  ]);
  const parsed = parseQueryPage(text, '/q', { markNumbers: true });
  const rows = parsed.records.map((r) => recordToRow(r, fields, parsed.numberMarker));

  it('writes a nested value as JSON text with its numbers exactly as sent and its strings escaped', () => {
    expect(parsed.totalSize).toBe(5);
    const json = rows[0]![1]!;
    expect(json).toContain('"revenue":9007199254740993');
    expect(json).toContain('"big":6.02E23');
    expect(json).toContain('"r":1234567.0');
    // A string of digits stays a string; a number stays a number.
    expect(json).toContain('"tags":["a","7"]');
    expect(json).toContain('"score":7');
    // Same JSON value as the text Salesforce sent (JSON.parse of both agrees, numbers aside, which it would round).
    expect(JSON.parse(json)).toEqual(JSON.parse(profile));
    expect(rows[1]![1]).toBe('[3,"Strategic",null,true]');
  });

  it('writes a top-level JSON string, number or null as jsonb reads it (Bulk CSV holds the same text)', () => {
    expect(rows[2]![1]).toBe('"just a string"');
    expect(rows[3]![1]).toBeNull();
    expect(rows[4]![1]).toBe('42');
  });

  it('keeps anyType scalars as the bare text Bulk sends, and nested anyType values as JSON text', () => {
    expect(rows.map((r) => r[2])).toEqual(['Old 5', '5', '{"k":[1.50,"1.50"]}', 'true', null]);
  });

  it('leaves the other fields as they were: numbers exact, no marks left anywhere', () => {
    expect(rows[0]![3]).toBe('12345678901234567.89');
    expect(rows.flat().some((v) => v?.includes(parsed.numberMarker!))).toBe(false);
    const csv = encodePage(text, '/q', fields);
    expect(csv.records).toBe(5);
    expect(csv.csv.toString('utf8')).toBe(csvTextOf(parsed, fields));
  });

  it('refuses a JSON value from a page parsed without number marks, rather than turn its numbers into strings', () => {
    const plain = parseQueryPage(text, '/q');
    expect(plain.numberMarker).toBeUndefined();
    expect(() => recordToRow(plain.records[0]!, fields)).toThrow(DataError);
  });

  it('still refuses a nested value in a field that holds scalars', () => {
    const bad = parseQueryPage(page([rec('a9', 'null', 'null', '{"x":1}')]), '/q', { markNumbers: true });
    expect(() => recordToRow(bad.records[0]!, fields, bad.numberMarker)).toThrow(/nested object/);
  });
});

describe('number marks', () => {
  it('picks a marker no string of the text can start with, raw or escaped', () => {
    expect(numberMarkerFor('{"a":1}')).toBe('\ue000');
    expect(numberMarkerFor('{"a":"\ue000"}')).toBe('\ue001');
    expect(numberMarkerFor('{"a":"\\ue000","b":"\\uE001"}')).toBe('\ue002');
    const text = '{"s":"\ue0001","n":1,"e":"\\ue0012"}';
    const marker = numberMarkerFor(text);
    const value = parseJsonNumbersMarked(text, marker);
    expect(markedJsonText(value, marker)).toBe('{"s":"\ue0001","n":1,"e":"\ue0012"}');
  });
});
