// The REST page reader (pipelines/sync/restPages.ts): pages fetched over real HTTP from the emulator, the first
// parsed on this thread, the others in a worker thread. The worker's CSV must be byte for byte what the same page
// encodes to on this thread, errors in a page must come back as DataError naming it, and a closed reader must
// refuse work.
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/index.ts';
import { fetchToken } from '../../extractors/client/auth.ts';
import { describeObject } from '../../extractors/describe.ts';
import { parseQueryPage, queryPath } from '../../extractors/rest/query.ts';
import {
  createSalesforceHttp,
  type RequestOptions,
  type SalesforceHttp,
} from '../../extractors/client/salesforceHttp.ts';
import { buildSelect } from '../../extractors/soql.ts';
import { createTokenProvider } from '../../extractors/client/tokenProvider.ts';
import type { ObjectSpec } from '../../schemas/records.ts';
import { DataError } from '../../lib/errors.ts';
import { silentLogger } from '../../lib/log.ts';
import { csvTextOf } from '../../transforms/restPage.ts';
import { openRestCsvReader } from '../../pipelines/sync/restLoad.ts';
import { orgRecords } from '../support/org.ts';

const log = silentLogger();
let em: Emulator;
let http: SalesforceHttp;
let spec: ObjectSpec;

beforeAll(async () => {
  em = await createEmulator({ accounts: 4_500, seed: 31 });
  const auth = { flow: 'jwt' as const, clientId: em.clientId, username: em.username, privateKeyPem: em.privateKeyPem };
  const tokens = createTokenProvider({
    loginUrl: em.loginUrl,
    auth,
    log,
    mint: () => fetchToken({ loginUrl: em.loginUrl, auth, log }),
  });
  http = createSalesforceHttp({ tokens, apiVersion: '62.0', log, retry: { attempts: 2, sleep: async () => {} } });
  spec = (await describeObject(http, 'Account', null)).spec;
});
afterAll(async () => {
  await em?.close();
});

/** A stand-in for the HTTP client that serves fixed bodies: only for the error paths, which a correct server never
 * takes. */
function serving(bodies: Record<string, string>, bytes?: (path: string) => Buffer): SalesforceHttp {
  const body = (path: string) => bodies[path] ?? 'no such page';
  return {
    log,
    getText: async (path: string) => body(path),
    getBytes: async (path: string) => bytes?.(path) ?? Buffer.from(body(path)),
  } as unknown as SalesforceHttp;
}

/** A first page with no records that links to `next`, which the worker then reads (a query of `totalSize` records). */
const linking = (next: string, totalSize = 0) =>
  JSON.stringify({ totalSize, done: false, nextRecordsUrl: next, records: [] });

async function drain(pages: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of pages);
}

describe('REST pages encoded in a worker thread', () => {
  it('gives the bytes this thread would encode, page by page, over a whole query', async () => {
    // Values that CSV must quote, escape or drop: quotes, commas, line breaks, NUL
    // (docs/salesforce.md#bulk-api-20-csv-format), non-ASCII.
    const odd = orgRecords(em.store, 'Account', { includeDeleted: false }).slice(0, 3);
    em.store.update(odd[0]!.Id, { Description: 'say "hi", then\nleave' });
    em.store.update(odd[1]!.Id, { Description: 'nul\u0000inside', Name: 'Zürich ☃' });
    em.store.update(odd[2]!.Id, { Description: '' });
    const soql = buildSelect(spec, { window: {}, orderByCursor: true });
    const reader = openRestCsvReader(http, spec.fields);
    try {
      const first = await reader.first(soql);
      expect(first.totalSize).toBe(orgRecords(em.store, 'Account').length);
      let records = 0;
      let pages = 0;
      for await (const page of reader.pages(first)) {
        pages++;
        records += page.records;
        expect(page.csv.toString('utf8').split('\n').length - 1).toBeGreaterThanOrEqual(page.records);
      }
      expect(pages).toBe(Math.ceil(first.totalSize / 2000));
      expect(records).toBe(first.totalSize);

      // The same pages read and encoded on this thread.
      const again = await reader.first(soql);
      let text = await http.getText(queryPath(soql, true));
      for await (const page of reader.pages(again)) {
        const parsed = parseQueryPage(text, 'page');
        expect(page.csv.equals(Buffer.from(csvTextOf(parsed, spec.fields), 'utf8'))).toBe(true);
        if (parsed.done) break;
        text = await http.getText(parsed.nextRecordsUrl!);
      }
    } finally {
      await reader.close();
    }
  });

  it('hashes the hashed fields (config columns.hash) in the worker with the key it was given', async () => {
    const key = 'rest-load-test-hash-key';
    const hmac = (v: string) => createHmac('sha256', key).update(v, 'utf8').digest('hex');
    const fields = spec.fields
      .filter((f) => ['Id', 'IsDeleted', 'SystemModstamp', 'Phone'].includes(f.name))
      .map((f) => (f.name === 'Phone' ? { ...f, pgType: 'text' as const, hashed: true as const } : f));
    const hashedSpec = { ...spec, fields };
    const phones = new Map(orgRecords(em.store, 'Account').map((r) => [r.Id, r.Phone]));
    const reader = openRestCsvReader(http, fields, key);
    try {
      const first = await reader.first(buildSelect(hashedSpec, { window: {}, orderByCursor: true }));
      let pages = 0;
      let checked = 0;
      for await (const page of reader.pages(first)) {
        pages++;
        for (const line of page.csv.toString('utf8').trim().split('\n')) {
          const [id, , , phone] = line.split(',').map((v) => v.replace(/^"|"$/g, ''));
          const raw = phones.get(id!);
          expect(phone).toBe(typeof raw === 'string' ? hmac(raw) : '');
          if (pages > 1 && typeof raw === 'string') checked++;
        }
      }
      // Pages after the first are the worker's.
      expect(pages).toBeGreaterThan(1);
      expect(checked).toBeGreaterThan(1000);
    } finally {
      await reader.close();
    }
  });

  it('reports a non-JSON page, or one lacking a selected field, as a DataError, here and in the worker', async () => {
    const notJson = '{"totalSize": 1, "done": true, "records": [';
    const lacking = JSON.stringify({
      totalSize: 1,
      done: true,
      records: [{ attributes: { type: 'Account' }, Id: '001000000000001AAA' }],
    });
    const reader = openRestCsvReader(
      serving({
        [queryPath('bad json', true)]: notJson,
        [queryPath('missing field', true)]: lacking,
        [queryPath('then bad json', true)]: linking('/next/bad'),
        [queryPath('then missing field', true)]: linking('/next/lacking'),
        '/next/bad': notJson,
        '/next/lacking': lacking,
      }),
      spec.fields,
    );
    try {
      const bad = reader.first('bad json');
      await expect(bad).rejects.toBeInstanceOf(DataError);
      await expect(bad).rejects.toThrow(/query page .*queryAll.* is not valid JSON/);
      await expect(reader.first('missing field')).rejects.toThrow(
        /Account record from Salesforce lacks the field IsDeleted/,
      );
      const inWorker = drain(reader.pages(await reader.first('then bad json')));
      await expect(inWorker).rejects.toBeInstanceOf(DataError);
      await expect(inWorker).rejects.toThrow(/query page \/next\/bad is not valid JSON/);
      await expect(drain(reader.pages(await reader.first('then missing field')))).rejects.toThrow(
        /lacks the field IsDeleted/,
      );
    } finally {
      await reader.close();
    }
  });

  it('leaves Buffers sharing memory with a page untouched (a page that is a slice is copied, not moved)', async () => {
    const body = JSON.stringify({ totalSize: 0, done: true, records: [] });
    // One ArrayBuffer, two views: transferring the page's would detach its neighbour too.
    const memory = Buffer.alloc(64 * 1024);
    const page = memory.subarray(0, memory.write(body));
    const neighbour = memory.subarray(32 * 1024, 32 * 1024 + memory.write('neighbour', 32 * 1024));
    const reader = openRestCsvReader(
      serving({ [queryPath('small', true)]: linking('/next/slice') }, () => page),
      spec.fields,
    );
    try {
      const pages = [];
      for await (const p of reader.pages(await reader.first('small'))) pages.push(p);
      expect(pages.map((p) => p.records)).toEqual([0, 0]);
      expect(neighbour.toString()).toBe('neighbour');
      expect(page.toString()).toBe(body);
    } finally {
      await reader.close();
    }
  });

  it("reports pages with fewer records than the query's totalSize as a DataError, here and in the worker", async () => {
    const reader = openRestCsvReader(
      serving({
        [queryPath('short', true)]: JSON.stringify({ totalSize: 2, done: true, records: [] }),
        [queryPath('then short', true)]: linking('/next/empty', 2),
        '/next/empty': JSON.stringify({ totalSize: 2, done: true, records: [] }),
      }),
      spec.fields,
    );
    try {
      await expect(drain(reader.pages(await reader.first('short')))).rejects.toThrow(
        new DataError("Salesforce query pages hold 0 records in all, but the query's totalSize is 2"),
      );
      await expect(drain(reader.pages(await reader.first('then short')))).rejects.toThrow(
        new DataError("Salesforce query pages hold 0 records in all, but the query's totalSize is 2"),
      );
    } finally {
      await reader.close();
    }
  });

  it("asks for the next page once a page's bytes are in; drops a guess the parsed link does not confirm", async () => {
    const asked: string[] = [];
    const page = (n: number) => JSON.stringify({ totalSize: 0, done: false, nextRecordsUrl: `/p${n}`, records: [] });
    // JSON.parse keeps the last of two equal keys: the first bytes point at /wrong, the page itself at /right.
    const misleading = '{"nextRecordsUrl":"/wrong","totalSize":0,"done":false,"records":[],"nextRecordsUrl":"/right"}';
    const bodies: Record<string, string> = {
      [queryPath('guessing', true)]: page(1),
      '/p1': page(2),
      '/p2': misleading,
      '/right': JSON.stringify({ totalSize: 0, done: true, records: [] }),
      '/wrong': 'never parsed',
    };
    const stub = serving(bodies);
    const getBytes = stub.getBytes;
    stub.getBytes = async (path: string, opts?: RequestOptions) => {
      asked.push(path);
      return getBytes(path, opts);
    };
    const reader = openRestCsvReader(stub, spec.fields);
    try {
      const first = await reader.first('guessing');
      const pages = reader.pages(first);
      expect((await pages.next()).done).toBe(false);
      // Taking the first page fetches /p1 (the pager's one page ahead); its bytes name /p2, asked for at once.
      await expect.poll(() => asked).toEqual(['/p1', '/p2']);
      for await (const _ of pages);
      expect(asked).toEqual(['/p1', '/p2', '/wrong', '/right']);
    } finally {
      await reader.close();
    }
  });

  it('refuses work once closed', async () => {
    const reader = openRestCsvReader(http, spec.fields);
    await reader.close();
    await expect(reader.first(buildSelect(spec, { window: {}, orderByCursor: true }))).rejects.toThrow(
      /reader is closed/,
    );
  });
});
