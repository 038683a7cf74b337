// bulkCsvStream's parallel downloads (docs/salesforce.md#bulk-api-20-parallel-results, API 58.0+) against the emulator
// over real HTTP: the same bytes as the sequential locator walk (docs/salesforce.md#bulk-api-20-query-results), in page
// order, with per-page header checks, same-URL retries after a cut body, the fallback below 58.0 or on 404, page
// counters, and abort.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/index.ts';
import { DataError } from '../../lib/errors.ts';
import { silentLogger } from '../../lib/log.ts';
import { fetchToken } from '../../extractors/client/auth.ts';
import { DEFAULT_BULK_PARALLEL, bulkCsvStream } from '../../extractors/bulk/csvStream.ts';
import { createQueryJob, waitForJob } from '../../extractors/bulk/queryJob.ts';
import { createSalesforceHttp } from '../../extractors/client/salesforceHttp.ts';
import { createTokenProvider } from '../../extractors/client/tokenProvider.ts';

const FIELDS = ['Id', 'Name', 'Description', 'IsDeleted', 'SystemModstamp'];
const SOQL = `SELECT ${FIELDS.join(', ')} FROM Account`;
const log = silentLogger();
let em: Emulator;

beforeAll(async () => {
  em = await createEmulator({ accounts: 600, seed: 12, apiVersions: ['57.0', '62.0'] });
});
afterAll(async () => {
  await em?.close();
});

function client(apiVersion = '62.0') {
  const auth = { flow: 'jwt' as const, clientId: em.clientId, username: em.username, privateKeyPem: em.privateKeyPem };
  const tokens = createTokenProvider({
    loginUrl: em.loginUrl,
    auth,
    log,
    mint: () => fetchToken({ loginUrl: em.loginUrl, auth, log }),
  });
  return createSalesforceHttp({ tokens, apiVersion, log, retry: { attempts: 4, sleep: async () => {} } });
}

async function job(http: ReturnType<typeof client>): Promise<string> {
  const created = await createQueryJob(http, { soql: SOQL, operation: 'queryAll' });
  await waitForJob(http, created.id);
  return created.id;
}

async function drain(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c);
  return Buffer.concat(parts);
}

const requests = (pattern: RegExp) => em.admin.requestLog().filter((e) => pattern.test(e.path));

describe('bulkCsvStream, parallel pages (resultPages)', () => {
  it('emits exactly the sequential bytes, in page order, and counts pages, pagesTotal and records', async () => {
    const http = client();
    const id = await job(http);
    const sequential = bulkCsvStream(http, id, { expectedHeader: FIELDS, maxRecords: 37, gzip: false, parallel: 1 });
    const expected = await drain(sequential);
    em.admin.clearRequestLog();
    const parallel = bulkCsvStream(http, id, { expectedHeader: FIELDS, maxRecords: 37, gzip: false, parallel: 3 });
    expect(parallel.pagesTotal).toBeUndefined();
    const got = await drain(parallel);
    expect(got.equals(expected)).toBe(true);
    expect(got.toString('utf8')).not.toContain('"Id","Name"');
    expect({ pages: parallel.pages, pagesTotal: parallel.pagesTotal, records: parallel.records }).toEqual({
      pages: sequential.pages,
      pagesTotal: sequential.pages,
      records: sequential.records,
    });
    expect(parallel.records).toBe(em.store.snapshot('Account').size);
    expect(requests(/\/resultPages/).length).toBe(Math.ceil(sequential.pages / 5));
    expect(requests(/\/results\?/).length).toBe(sequential.pages);
  });

  it('re-requests a cut page at the same URL without repeating or losing a byte', async () => {
    const http = client();
    const id = await job(http);
    const expected = await drain(
      bulkCsvStream(http, id, { expectedHeader: FIELDS, maxRecords: 50, gzip: false, parallel: 1 }),
    );
    em.admin.clearRequestLog();
    const third = Buffer.from('100').toString('base64');
    em.admin.addFault({ route: `locator=${third}&`, kind: 'truncate', afterBytes: 3000, times: 2 });
    em.admin.addFault({ route: /results\?maxRecords/, kind: 'truncate', afterBytes: 20 });
    const got = await drain(
      bulkCsvStream(http, id, { expectedHeader: FIELDS, maxRecords: 50, gzip: false, parallel: 4 }),
    );
    expect(got.equals(expected)).toBe(true);
    expect(requests(new RegExp(`locator=${third}&`)).length).toBe(3);
    expect(requests(/results\?maxRecords/).length).toBe(2);
  });

  it('checks every page header and fails in page order with the sequential message', async () => {
    const http = client();
    const id = await job(http);
    const wrong = ['Id', 'Name', 'Description', 'IsDeleted', 'LastModifiedDate'];
    const err = await drain(bulkCsvStream(http, id, { expectedHeader: wrong, maxRecords: 40, parallel: 3 })).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).toBe(
      `Bulk job ${id} page 1: CSV header does not match the requested fields: ` +
        `expected ${wrong.join(',')}; got ${FIELDS.join(',')}`,
    );
  });

  it('falls back to the locator walk below API 58.0 and when resultPages answers 404', async () => {
    const old = client('57.0');
    const id57 = await job(old);
    em.admin.clearRequestLog();
    const s57 = bulkCsvStream(old, id57, { expectedHeader: FIELDS, maxRecords: 100, parallel: 3 });
    await drain(s57);
    expect(requests(/\/resultPages/)).toEqual([]);
    expect(s57.pages).toBe(Math.ceil(em.store.snapshot('Account').size / 100));

    const http = client();
    const id = await job(http);
    em.admin.clearRequestLog();
    em.admin.addFault({
      route: '/resultPages',
      kind: 'status',
      status: 404,
      errorCode: 'NOT_FOUND',
      message: 'The requested resource does not exist',
    });
    const s = bulkCsvStream(http, id, { expectedHeader: FIELDS, maxRecords: 100, parallel: 3 });
    await drain(s);
    expect(requests(/\/resultPages/).length).toBe(1);
    expect(requests(/\/results/).filter((e) => /locator=/.test(e.path)).length).toBe(s.pages - 1);
    expect(s.records).toBe(em.store.snapshot('Account').size);
  });

  it('walks locators by default (DEFAULT_BULK_PARALLEL) and falls back to them on an unreadable listing', async () => {
    const http = client();
    const id = await job(http);
    em.admin.clearRequestLog();
    const byDefault = bulkCsvStream(http, id, { expectedHeader: FIELDS, maxRecords: 100 });
    const expected = await drain(byDefault);
    expect(DEFAULT_BULK_PARALLEL).toBe(1);
    expect(requests(/\/resultPages/)).toEqual([]);
    expect(byDefault.pagesTotal).toBe(byDefault.pages);
    em.admin.clearRequestLog();
    em.admin.addFault({ route: '/resultPages', kind: 'status', status: 200, html: '<html>maintenance</html>' });
    const fallback = bulkCsvStream(http, id, { expectedHeader: FIELDS, maxRecords: 100, parallel: 3 });
    expect((await drain(fallback)).equals(expected)).toBe(true);
    expect(requests(/\/results\?/).filter((e) => /locator=/.test(e.path)).length).toBe(fallback.pages - 1);
  });

  it('stops every download when aborted', async () => {
    const http = client();
    const id = await job(http);
    const ac = new AbortController();
    const stream = bulkCsvStream(http, id, {
      expectedHeader: FIELDS,
      maxRecords: 20,
      parallel: 3,
      pageBufferBytes: 1024,
      signal: ac.signal,
    });
    const it = stream[Symbol.asyncIterator]();
    await it.next();
    ac.abort(new Error('stop now'));
    await expect(it.next()).rejects.toThrow('stop now');
    expect(stream.destroyed).toBe(true);
    expect(stream.pages).toBeLessThan(Math.ceil(em.store.snapshot('Account').size / 20));
  });
});
