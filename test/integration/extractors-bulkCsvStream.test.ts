// bulkCsvStream over real HTTP against a scripted results endpoint (socket-level faults on port 0): the byte-level
// cases the emulator need not produce on demand (resets mid-body, pages without a final newline, NUL bytes, gzip cut
// short).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DataError } from '../../lib/errors.ts';
import { silentLogger } from '../../lib/log.ts';
import { bulkCsvStream } from '../../extractors/bulk/csvStream.ts';
import { createSalesforceHttp } from '../../extractors/client/salesforceHttp.ts';
import { createTokenProvider } from '../../extractors/client/tokenProvider.ts';

const HEADER = '"Id","Name","Amount__c"';
const FIELDS = ['Id', 'Name', 'Amount__c'];

interface Page {
  body: string;
  records: number;
}

/**
 * Per request: what the server does. `resetAt` = share of the (possibly gzipped) body sent before the socket is
 * destroyed.
 */
type Fault = { status: number; body?: string; retryAfter?: string } | { resetAt: number } | { shortBody: true };

let server: http.Server;
let base: string;
let pages: Page[] = [];
let faults: Map<string, Fault[]> = new Map();
let requests: { locator: string; auth: string | undefined }[] = [];
let validToken = 'token-1';

function pageIndex(locator: string | null): number {
  return locator === null ? 0 : Number(Buffer.from(locator, 'base64').toString());
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const locator = url.searchParams.get('locator');
    const key = locator ?? 'first';
    requests.push({ locator: key, auth: req.headers.authorization });
    if (req.headers.authorization !== `Bearer ${validToken}`) {
      res
        .writeHead(401, { 'content-type': 'application/json' })
        .end('[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]');
      return;
    }
    const i = pageIndex(locator);
    const page = pages[i]!;
    const fault = faults.get(key)?.shift();
    if (fault && 'status' in fault) {
      res
        .writeHead(fault.status, {
          'content-type': 'application/json',
          ...(fault.retryAfter ? { 'retry-after': fault.retryAfter } : {}),
        })
        .end(fault.body ?? '');
      return;
    }
    const gzip = /gzip/.test(String(req.headers['accept-encoding']));
    const raw = Buffer.from(fault && 'shortBody' in fault ? page.body.slice(0, page.body.length >> 1) : page.body);
    const body = gzip ? zlib.gzipSync(raw) : raw;
    const next = i + 1 < pages.length ? Buffer.from(String(i + 1)).toString('base64') : 'null';
    res.writeHead(200, {
      'content-type': 'text/csv',
      'content-length': String(body.length),
      'sforce-numberofrecords': String(page.records),
      'sforce-locator': next,
      'sforce-limit-info': 'api-usage=7/15000',
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
    });
    if (fault && 'resetAt' in fault)
      res.write(body.subarray(0, Math.floor(body.length * fault.resetAt)), () => res.socket?.destroy());
    else res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

beforeEach(() => {
  faults = new Map();
  requests = [];
  validToken = 'token-1';
  const rows = (from: number, n: number) =>
    Array.from({ length: n }, (_, k) => {
      const i = from + k;
      return `"001${String(i).padStart(15, '0')}","Name ${i}, ""quoted""\nsecond line é","${i}.5"`;
    });
  pages = [
    { body: `${HEADER}\n${rows(0, 300).join('\n')}\n`, records: 300 },
    // docs/salesforce.md#bulk-api-20-csv-format: a page body that does not end with a newline must still concatenate
    // cleanly.
    { body: `${HEADER}\n${rows(300, 300).join('\n')}`, records: 300 },
    { body: `${HEADER}\n${rows(600, 5).join('\n')}\n`, records: 5 },
  ];
});

function client(mintLog: string[] = []) {
  let n = 0;
  const tokens = createTokenProvider({
    loginUrl: base,
    auth: { flow: 'client_credentials', clientId: 'c', clientSecret: 's' },
    log: silentLogger(),
    mint: async () => {
      n++;
      mintLog.push(`token-${n}`);
      return { accessToken: `token-${n}`, instanceUrl: base };
    },
  });
  return createSalesforceHttp({
    tokens,
    apiVersion: '62.0',
    log: silentLogger(),
    retry: { attempts: 4, sleep: async () => {} },
  });
}

async function drain(stream: AsyncIterable<Buffer>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c);
  return Buffer.concat(parts).toString('utf8');
}

function expectedRows(): string[][] {
  return pages.flatMap((p) => parse(p.body, { from_line: 2 }) as string[][]);
}

describe.each([false, true])('bulkCsvStream (gzip %s)', (gzip) => {
  it('concatenates every page without the per-page header rows and counts pages, bytes and records', async () => {
    const stream = bulkCsvStream(client(), '750A', { expectedHeader: FIELDS, gzip });
    const text = await drain(stream);
    const rows = parse(text) as string[][];
    expect(rows).toEqual(expectedRows());
    expect(rows).toHaveLength(605);
    expect(text.includes('"Id","Name"')).toBe(false);
    expect({ pages: stream.pages, records: stream.records }).toEqual({ pages: 3, records: 605 });
    expect(stream.bytes).toBe(pages.reduce((a, p) => a + Buffer.byteLength(p.body) - Buffer.byteLength(HEADER) - 1, 0));
    expect(requests.map((r) => r.locator)).toEqual(['first', 'MQ==', 'Mg==']);
  });

  it('re-requests the same locator after a reset mid-body and emits no duplicate', async () => {
    faults.set('MQ==', [{ resetAt: 0.6 }, { resetAt: 0.1 }]);
    const stream = bulkCsvStream(client(), '750A', { expectedHeader: FIELDS, gzip });
    const rows = parse(await drain(stream)) as string[][];
    expect(rows).toEqual(expectedRows());
    expect(requests.map((r) => r.locator)).toEqual(['first', 'MQ==', 'MQ==', 'MQ==', 'Mg==']);
  });
});

describe('bulkCsvStream faults', () => {
  it('retries a 503 with Retry-After at the same locator', async () => {
    faults.set('Mg==', [
      { status: 503, retryAfter: '1', body: '[{"message":"down","errorCode":"SERVER_UNAVAILABLE"}]' },
    ]);
    const rows = parse(await drain(bulkCsvStream(client(), '750A', { expectedHeader: FIELDS }))) as string[][];
    expect(rows).toEqual(expectedRows());
    expect(requests.map((r) => r.locator)).toEqual(['first', 'MQ==', 'Mg==', 'Mg==']);
  });

  it('fails (never succeeds silently) when a page keeps being cut short', async () => {
    faults.set('MQ==', [{ resetAt: 0.5 }, { resetAt: 0.5 }, { resetAt: 0.5 }, { resetAt: 0.5 }]);
    await expect(drain(bulkCsvStream(client(), '750A', { expectedHeader: FIELDS, gzip: false }))).rejects.toMatchObject(
      { code: 'ECONNRESET' },
    );
  });

  it('a well-framed short body leaves announced records above the rows read, for the caller to refuse', async () => {
    faults.set('first', [{ shortBody: true }]);
    const stream = bulkCsvStream(client(), '750A', { expectedHeader: FIELDS });
    const rows = parse(await drain(stream), { relax_quotes: true, skip_records_with_error: true }) as string[][];
    expect(stream.records).toBe(605);
    expect(rows.length).toBeLessThan(605);
  });

  it('refuses a page whose header differs, naming both headers', async () => {
    pages[1] = { body: `"Id","Nme","Amount__c"\n"x","y","1"\n`, records: 1 };
    const err = await drain(bulkCsvStream(client(), '750A', { expectedHeader: FIELDS })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).toContain(
      'Bulk job 750A page 2: CSV header does not match the requested fields: ' +
        'expected Id,Name,Amount__c; got Id,Nme,Amount__c',
    );
  });

  it('passes every body byte untouched, NUL included (copyCsv strips NUL once, for every load)', async () => {
    pages = [{ body: `${HEADER}\n"a\u0000b","é ""x""","1"\n`, records: 1 }];
    expect(await drain(bulkCsvStream(client(), '750A', { expectedHeader: FIELDS }))).toBe('"a\u0000b","é ""x""","1"\n');
  });

  it('re-mints the token once on 401 INVALID_SESSION_ID and replays the page request', async () => {
    const mints: string[] = [];
    const sf = client(mints);
    const stream = bulkCsvStream(sf, '750A', { expectedHeader: FIELDS });
    const first = stream[Symbol.asyncIterator]();
    await first.next();
    validToken = 'token-2';
    const rest: Buffer[] = [];
    for (let r = await first.next(); !r.done; r = await first.next()) rest.push(r.value as Buffer);
    expect(mints).toEqual(['token-1', 'token-2']);
    expect(stream.records).toBe(605);
    expect(sf.lastLimitInfo).toEqual({ used: 7, max: 15000 });
  });
});
