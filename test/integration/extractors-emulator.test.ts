// The extractors against the local Salesforce emulator over real HTTP: JWT login, describe, REST paging, Bulk
// job -> headerless CSV stream, re-auth on 401, Sforce-Limit-Info.
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/index.ts';
import type { SfRecord } from '../../emulator/types.ts';
import { silentLogger } from '../../lib/log.ts';
import { SalesforceApiError } from '../../lib/errors.ts';
import { fetchToken } from '../../extractors/client/auth.ts';
import { bulkCsvStream } from '../../extractors/bulk/csvStream.ts';
import { createQueryJob, deleteJob, waitForJob } from '../../extractors/bulk/queryJob.ts';
import { createDescribeCache, describeObject } from '../../extractors/describe.ts';
import { getLimits } from '../../extractors/limits.ts';
import { countRecords, queryPages } from '../../extractors/rest/query.ts';
import { recordToRow } from '../../transforms/restPage.ts';
import { type LimitInfo, createSalesforceHttp } from '../../extractors/client/salesforceHttp.ts';
import { buildSelect } from '../../extractors/soql.ts';
import { createTokenProvider } from '../../extractors/client/tokenProvider.ts';

let emulator: Emulator;
const log = silentLogger();

beforeAll(async () => {
  emulator = await createEmulator({ accounts: 450 });
});
afterAll(async () => {
  await emulator?.close();
});

function jwtAuth() {
  return {
    flow: 'jwt' as const,
    clientId: emulator.clientId,
    username: emulator.username,
    privateKeyPem: emulator.privateKeyPem,
  };
}

function sf(opts: { firstToken?: string; limits?: LimitInfo[] } = {}) {
  let minted = 0;
  const tokens = createTokenProvider({
    loginUrl: emulator.loginUrl,
    auth: jwtAuth(),
    log,
    // A first token the org does not know stands in for an expired session (docs/salesforce.md#oauth-session-expiry).
    mint: async () => {
      minted++;
      const s = await fetchToken({ loginUrl: emulator.loginUrl, auth: jwtAuth(), log });
      return minted === 1 && opts.firstToken ? { ...s, accessToken: opts.firstToken } : s;
    },
  });
  const http = createSalesforceHttp({
    tokens,
    apiVersion: '62.0',
    log,
    onLimitInfo: (i) => opts.limits?.push(i),
    retry: { sleep: async () => {} },
  });
  return { http, tokens };
}

function liveAndDeleted(object: string): SfRecord[] {
  const snap = emulator.store.snapshot(object);
  const out: SfRecord[] = [];
  for (let i = 0; i < snap.size; i++) {
    const r = snap.at(i);
    if (r) out.push(r);
  }
  return out;
}

describe('auth against the emulator', () => {
  it('logs in with the JWT bearer flow and gets an instance URL', async () => {
    const s = await fetchToken({ loginUrl: emulator.loginUrl, auth: jwtAuth(), log });
    expect(s.accessToken.length).toBeGreaterThan(10);
    expect(s.instanceUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('reports the token endpoint refusal with its code', async () => {
    const err = await fetchToken({
      loginUrl: emulator.loginUrl,
      auth: { ...jwtAuth(), username: 'nobody@nowhere.invalid' },
      log,
    }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/^Salesforce login refused: invalid_grant \(/);
  });

  it('re-mints ONE token for concurrent requests that hit 401 INVALID_SESSION_ID, then replays them', async () => {
    const { http, tokens } = sf({ firstToken: '00D000000000000!expired' });
    const results = await Promise.all(
      Array.from({ length: 8 }, () => http.get<{ DailyApiRequests?: unknown }>('limits/')),
    );
    expect(results.every((r) => r.DailyApiRequests !== undefined)).toBe(true);
    expect(tokens.mints).toBe(2);
  });
});

describe('describe and REST query', () => {
  it('describes Account into a spec with a SystemModstamp cursor', async () => {
    const { spec } = await describeObject(sf().http, 'Account');
    expect(spec).toMatchObject({
      name: 'Account',
      table: 'account',
      cursorField: 'SystemModstamp',
      hasIsDeleted: true,
    });
    expect(spec.fields[0]?.name).toBe('Id');
    expect(spec.fields.some((f) => f.sfType === 'address')).toBe(false);
  });

  it('describes again with If-Modified-Since: 304 reuses the cached describe, a new field makes it 200', async () => {
    const cache = createDescribeCache();
    const describes = () =>
      emulator.admin
        .requestLog()
        .filter((e) => e.path.endsWith('/sobjects/Contact/describe'))
        .map((e) => e.status);
    emulator.admin.clearRequestLog();
    const first = await describeObject(sf().http, 'Contact', cache);
    // Another client (as each scheduled run has its own) shares the cache: same instance URL, same object.
    const second = await describeObject(sf().http, 'Contact', cache);
    expect(describes()).toEqual([200, 304]);
    expect(second).toEqual(first);
    second.spec.fields.pop(); // callers get their own copy
    expect((await describeObject(sf().http, 'Contact', cache)).spec).toEqual(first.spec);
    expect(describes()).toEqual([200, 304, 304]);

    emulator.admin.addField('Contact', {
      name: 'Tier__c',
      label: 'Tier',
      type: 'string',
      length: 10,
      nillable: true,
      custom: true,
    });
    const third = await describeObject(sf().http, 'Contact', cache);
    expect(describes()).toEqual([200, 304, 304, 200]);
    expect(third.spec.fields.map((f) => f.name)).toContain('Tier__c');
    expect(first.spec.fields.map((f) => f.name)).not.toContain('Tier__c');
  });

  it('names an unknown object', async () => {
    await expect(describeObject(sf().http, 'Nope__c')).rejects.toThrow("Unknown Salesforce object 'Nope__c'");
  });

  it('pages queryAll through nextRecordsUrl, returns exactly the store, and reports Sforce-Limit-Info', async () => {
    const limits: LimitInfo[] = [];
    const { http } = sf({ limits });
    const { spec } = await describeObject(http, 'Account');
    const soql = buildSelect(spec, { fields: ['Id', 'Name', 'IsDeleted'] });
    const rows: (string | null)[][] = [];
    const fields = ['Id', 'Name', 'IsDeleted'].map((n) => spec.fields.find((f) => f.name === n)!);
    for await (const page of queryPages(http, soql, { all: true, batchSize: 200 }))
      for (const record of page.records) rows.push([...recordToRow(record, fields)]);
    const store = liveAndDeleted('Account');
    expect(rows.length).toBe(store.length);
    expect(new Map(rows.map((r) => [r[0], r[1]]))).toEqual(new Map(store.map((r) => [r.Id, r.Name ?? null])));
    expect(await countRecords(http, 'SELECT COUNT() FROM Account', { all: true })).toBe(store.length);
    expect(limits.length).toBeGreaterThan(2);
    expect(limits.at(-1)?.max).toBeGreaterThan(0);
    expect(http.lastLimitInfo?.used).toBeGreaterThan(0);
  });

  it('fails fast on an unknown field (400 INVALID_FIELD, never retried)', async () => {
    const { http } = sf();
    const err = await countRecords(http, 'SELECT COUNT() FROM Account WHERE Nope__c = 1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SalesforceApiError);
    expect((err as SalesforceApiError).errorCode).toBe('INVALID_FIELD');
    expect(http.calls).toBe(1);
  });
});

describe('Bulk API 2.0', () => {
  it('runs a queryAll job and streams every page without headers, equal to the store', async () => {
    const { http } = sf();
    const { spec } = await describeObject(http, 'Account');
    const job = await createQueryJob(http, { soql: buildSelect(spec), operation: 'queryAll' });
    await waitForJob(http, job.id);
    const stream = bulkCsvStream(http, job.id, { expectedHeader: spec.fields.map((f) => f.name), maxRecords: 100 });
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c);
    const rows = parse(Buffer.concat(chunks)) as string[][];
    const store = liveAndDeleted('Account');
    expect(rows.length).toBe(store.length);
    expect(stream.records).toBe(store.length);
    expect(stream.pages).toBeGreaterThan(1);
    const nameAt = spec.fields.findIndex((f) => f.name === 'Name');
    expect(new Map(rows.map((r) => [r[0], r[nameAt]]))).toEqual(
      new Map(store.map((r) => [r.Id, (r.Name as string | null) ?? ''])),
    );
    await deleteJob(http, job.id);
  });

  it('reads /limits', async () => {
    const limits = await getLimits(sf().http);
    expect(limits.DailyApiRequests?.max).toBeGreaterThan(0);
  });
});
