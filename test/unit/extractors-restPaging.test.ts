// REST paging (extractors/rest/query.ts followPages) against the contract of docs/salesforce.md#rest-query-paging:
// totalSize is the total across all pages, so pages that hold fewer records by `done`, or more, are a DataError, never
// a load that a watermark then passes. Pages come from a function here: the paging logic alone, on top of the emulator
// tests over HTTP.
import { describe, expect, it } from 'vitest';
import { DataError } from '../../lib/errors.ts';
import { followPages, parseQueryPage, peekNextRecordsUrl } from '../../extractors/rest/query.ts';

interface Page {
  totalSize: number;
  done: boolean;
  nextRecordsUrl?: string;
  records: number;
}

const page = (totalSize: number, records: number, next?: string): Page => ({
  totalSize,
  done: next === undefined,
  nextRecordsUrl: next,
  records,
});

/** Reads every page through followPages; `served` counts the fetches. */
async function readAll(first: Page, rest: Record<string, Page>, prefetch: boolean) {
  const served: string[] = [];
  const fetch = async (path: string) => {
    served.push(path);
    const p = rest[path];
    if (!p) throw new Error(`no page ${path}`);
    return p;
  };
  const got: number[] = [];
  try {
    for await (const n of followPages(fetch, first, { prefetch, map: (p) => p.records, records: (p) => p.records }))
      got.push(n);
    return { got, served, error: undefined };
  } catch (error) {
    return { got, served, error };
  }
}

describe.each([false, true])('followPages (prefetch %s)', (prefetch) => {
  it('reads every page when their records add up to totalSize', async () => {
    const r = await readAll(page(5, 2, '/a'), { '/a': page(5, 2, '/b'), '/b': page(5, 1) }, prefetch);
    expect(r.error).toBeUndefined();
    expect(r.got).toEqual([2, 2, 1]);
  });

  it('fails when done comes before totalSize records (a page skipped)', async () => {
    const r = await readAll(page(5, 2, '/a'), { '/a': page(5, 1) }, prefetch);
    expect(r.error).toBeInstanceOf(DataError);
    expect((r.error as Error).message).toBe(
      "Salesforce query pages hold 3 records in all, but the query's totalSize is 5",
    );
  });

  it('fails, and stops asking, once pages hold more than totalSize (a page served again)', async () => {
    const r = await readAll(page(4, 2, '/a'), { '/a': page(4, 2, '/a') }, prefetch);
    expect(r.error).toBeInstanceOf(DataError);
    expect((r.error as Error).message).toBe(
      "Salesforce query pages hold 6 records up to page /a, but the query's totalSize is 4",
    );
    expect(r.served.length).toBeLessThanOrEqual(3);
  });

  it('checks a first page that is also the last', async () => {
    const ok = await readAll(page(2, 2), {}, prefetch);
    expect(ok.got).toEqual([2]);
    const short = await readAll(page(3, 2), {}, prefetch);
    expect(short.got).toEqual([]);
    expect((short.error as Error).message).toBe(
      "Salesforce query pages hold 2 records in all, but the query's totalSize is 3",
    );
  });
});

describe('parseQueryPage', () => {
  it.each(['null', '[]', '"Id"', '42'])('rejects a record that is %s, not an object', (record) => {
    const text = `{"totalSize":1,"done":true,"records":[${record}]}`;
    expect(() => parseQueryPage(text, '/q')).toThrow(
      new DataError('Salesforce query page /q holds a record that is not a JSON object'),
    );
  });
});

describe('parseQueryPage on a malformed page', () => {
  it('says why without quoting the text around the fault, which may be a value', () => {
    const text = '{"totalSize":1,"done":true,"records":[{"Email":"alice@example.org","N": x}]}';
    for (const markNumbers of [false, true]) {
      let message = '';
      try {
        parseQueryPage(text, '/q', { markNumbers });
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(/^Salesforce query page \/q is not valid JSON \(Unexpected token/);
      expect(message).not.toMatch(/example|alice/);
    }
  });
});

describe('peekNextRecordsUrl', () => {
  it.each([
    [
      'the link before records, as Salesforce writes it',
      '{"totalSize":4001,"done":false,"nextRecordsUrl":"/services/data/v62.0/query/01gX-2000","records":[{}]}',
      '/services/data/v62.0/query/01gX-2000',
    ],
    [
      'spaces around the colons',
      '{ "totalSize" : 3 , "nextRecordsUrl" : "/q/01gY-200" , "records" : [ ] }',
      '/q/01gY-200',
    ],
    [
      'the last page, whose child subquery has its own link',
      '{"totalSize":1,"done":true,"records":[{"Contacts":{"nextRecordsUrl":"/child-200"}}]}',
      undefined,
    ],
    ['the link after records', '{"totalSize":2,"done":false,"records":[],"nextRecordsUrl":"/late"}', undefined],
    [
      'no records key in the first bytes',
      `{"totalSize":2,"pad":"${'x'.repeat(3000)}","nextRecordsUrl":"/far","records":[]}`,
      undefined,
    ],
  ])('%s', (_what, text, expected) => {
    expect(peekNextRecordsUrl(Buffer.from(text))).toBe(expected);
  });

  it('reads a page that is a slice of a larger buffer', () => {
    const memory = Buffer.from(`xxxx{"done":false,"nextRecordsUrl":"/s-2000","records":[]}yyyy`);
    expect(peekNextRecordsUrl(memory.subarray(4, memory.length - 4))).toBe('/s-2000');
  });
});
