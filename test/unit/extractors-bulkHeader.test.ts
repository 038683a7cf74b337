import { describe, expect, it } from 'vitest';
import { DataError } from '../../lib/errors.ts';
import { HeaderSplitter, checkHeader, parseHeaderLine } from '../../extractors/bulk/csvStream.ts';

describe('Bulk CSV header line', () => {
  it('parses quoted and unquoted names, a trailing CR and a BOM', () => {
    expect(parseHeaderLine('"Id","Name","Account.Name"')).toEqual(['Id', 'Name', 'Account.Name']);
    expect(parseHeaderLine('Id,Name\r')).toEqual(['Id', 'Name']);
    expect(parseHeaderLine('\uFEFF"Id"')).toEqual(['Id']);
  });

  it('accepts the expected header, case-insensitively', () => {
    expect(() => checkHeader('"Id","Name"', ['Id', 'Name'], 'p1')).not.toThrow();
    expect(() => checkHeader('"ID","name"', ['Id', 'Name'], 'p1')).not.toThrow();
  });

  it('names both headers on a mismatch', () => {
    expect(() => checkHeader('"Id","Nme"', ['Id', 'Name'], 'Bulk job 750 page 2')).toThrow(DataError);
    expect(() => checkHeader('"Id","Nme"', ['Id', 'Name'], 'Bulk job 750 page 2')).toThrow(
      'Bulk job 750 page 2: CSV header does not match the requested fields: expected Id,Name; got Id,Nme',
    );
    expect(() => checkHeader('"Id"', ['Id', 'Name'], 'p')).toThrow(DataError);
    expect(() => checkHeader('"Name","Id"', ['Id', 'Name'], 'p')).toThrow(DataError);
  });
});

describe('HeaderSplitter', () => {
  it('finds the header across chunks and returns the body bytes after it', () => {
    const s = new HeaderSplitter();
    expect(s.feed(Buffer.from('"Id","Na'))).toBeUndefined();
    const out = s.feed(Buffer.from('me"\n"001","A"\n"002"'));
    expect(out?.header).toBe('"Id","Name"');
    expect(out?.rest.toString()).toBe('"001","A"\n"002"');
    expect(s.done).toBe(true);
  });

  it('handles a header-only page without a final newline', () => {
    const s = new HeaderSplitter();
    expect(s.feed(Buffer.from('"Id","Name"'))).toBeUndefined();
    expect(s.finish()).toBe('"Id","Name"');
  });

  it('reports nothing for an empty body', () => {
    expect(new HeaderSplitter().finish()).toBeUndefined();
  });

  it('splits multi-byte text only at the newline', () => {
    const s = new HeaderSplitter();
    const bytes = Buffer.from('"Id"\n"é"\n');
    expect(s.feed(bytes.subarray(0, 7))?.rest).toEqual(bytes.subarray(5, 7));
  });
});
