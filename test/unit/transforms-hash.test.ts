// Hashed columns (config columns.hash): the keyed hash, the REST page encoding and the Bulk CSV re-encoding agree.
import { createHmac } from 'node:crypto';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { ConfigError, DataError } from '../../lib/errors.ts';
import { hashCsvColumns } from '../../transforms/hashCsv.ts';
import { hashValue } from '../../transforms/hashValue.ts';
import { encodePage, recordToRow } from '../../transforms/restPage.ts';
import { fieldSpec } from '../support/fieldSpec.ts';

const KEY = 'a-test-key-of-some-length';
const hmac = (v: string) => createHmac('sha256', KEY).update(v, 'utf8').digest('hex');

const fields = [
  fieldSpec('Id', 'id'),
  fieldSpec('Email', 'email', { pgType: 'text', hashed: true }),
  fieldSpec('Phone', 'phone', { pgType: 'text', hashed: true }),
  fieldSpec('Birthdate', 'date', { pgType: 'text', hashed: true }),
  fieldSpec('Note__c', 'textarea'),
  fieldSpec('Flag__c', 'boolean'),
];

describe('hashValue', () => {
  it('is HMAC-SHA256 in lowercase hex (the RFC 2104 example) over the text as loaded', () => {
    expect(hashValue('key', 'The quick brown fox jumps over the lazy dog')).toBe(
      'f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8',
    );
    // NUL bytes never reach PostgreSQL (loaders/copyCsv.ts), so they are not hashed either.
    expect(hashValue(KEY, 'a\0b@x.org')).toBe(hmac('ab@x.org'));
    expect(hashValue(KEY, 'ü@x.org')).toBe(hmac('ü@x.org'));
  });
});

describe('a record with hashed fields', () => {
  const record = {
    attributes: { type: 'Contact' },
    Id: '003000000000001AAA',
    Email: 'ada@example.org',
    Phone: null,
    Birthdate: '1815-12-10',
    Note__c: 'two\nlines, "quoted"',
    Flag__c: true,
  };

  it('REST: hashes non-null values, keeps NULL, leaves the other fields as read', () => {
    expect(recordToRow(record, fields, undefined, KEY)).toEqual([
      '003000000000001AAA',
      hmac('ada@example.org'),
      null,
      hmac('1815-12-10'),
      'two\nlines, "quoted"',
      'true',
    ]);
    expect(() => recordToRow(record, fields)).toThrow(ConfigError);
  });

  it('Bulk: the CSV re-encoded with hashes is byte for byte the REST encoding of the same record', async () => {
    const page = JSON.stringify({ totalSize: 1, done: true, records: [record] });
    const rest = encodePage(page, '/query', fields, KEY).csv.toString('utf8');
    // As Bulk API 2.0 writes it: every value quoted, null as a bare empty field, split at an awkward place.
    const bulk = '"003000000000001AAA","ada@example.org",,"1815-12-10","two\nlines, ""quoted""","true"\n';
    const source = Readable.from([Buffer.from(bulk.slice(0, 30)), Buffer.from(bulk.slice(30))]);
    const out = await text(hashCsvColumns(source, fields, KEY));
    expect(out).toBe(rest);
    expect(out).not.toContain('ada@example.org');
    expect(out).toContain(hmac('ada@example.org'));
  });

  it('Bulk: an object without hashed fields keeps its stream untouched', () => {
    const source = Readable.from([Buffer.from('"a"\n')]);
    expect(hashCsvColumns(source, [fieldSpec('Id', 'id')], null)).toBe(source);
  });

  it('Bulk: a broken CSV is a DataError naming no value; a failing source fails with its own error', async () => {
    const broken = Readable.from([Buffer.from('"003000000000001AAA","secret@example.org\n')]);
    const err = await text(hashCsvColumns(broken, fields.slice(0, 2), KEY)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).toMatch(/^The Bulk CSV could not be read to hash its columns \(CSV_/);
    expect((err as Error).message).not.toContain('secret');
    const failing = new Readable({
      read() {
        this.destroy(new DataError('Bulk job 750 page 2: response lacks a valid Sforce-NumberOfRecords header'));
      },
    });
    await expect(text(hashCsvColumns(failing, fields, KEY))).rejects.toThrow(/Sforce-NumberOfRecords/);
  });
});
