// The fault suite, in-process: the emulator's fault injection played under `syncAll` against a real PostgreSQL.
// Every case asserts the outcome (complete and equal to the org, or failed with the right error) and that nothing
// was lost, duplicated or half-applied (watermark untouched on failure).
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator, type FaultSpec } from '../../emulator/index.ts';
import type { ObjectSpec } from '../../schemas/records.ts';
import type { RunSummary } from '../../pipelines/sync/syncObject.ts';
import { compareTable } from '../support/compare.ts';
import { useTestDatabase } from '../support/db.ts';
import { orgRecords } from '../support/org.ts';
import { emulatorEnv } from '../support/emulatorEnv.ts';
import { byObject, describeSpec, syncConfig, syncInProcess } from '../support/sync.ts';

const db = useTestDatabase();
let emulator: Emulator;
let client: pg.Client;
const specs = new Map<string, ObjectSpec>();

const config = (schema: string, objects: string[]) =>
  syncConfig(emulatorEnv(emulator, db.url, { SFSYNC_SCHEMA: schema, SFSYNC_CONCURRENCY: '4' }), objects);

function expectSucceeded(s: RunSummary | undefined): void {
  expect(s?.status, String(s?.error)).toBe('succeeded');
}

async function specOf(object: string): Promise<ObjectSpec> {
  let spec = specs.get(object);
  if (!spec) {
    spec = await describeSpec(config('unused', [object]), object);
    specs.set(object, spec);
  }
  return spec;
}

/** The table equals the org: every record once (the id is the primary key), every value equal. */
async function expectComplete(schema: string, object: string): Promise<void> {
  const records = orgRecords(emulator.store, object);
  const result = await compareTable(client, schema, await specOf(object), records);
  expect(result.missing).toEqual([]);
  expect(result.extra).toEqual([]);
  expect(result.mismatches.slice(0, 5)).toEqual([]);
  expect(result.compared).toBe(records.length);
}

async function watermark(schema: string, object: string): Promise<string | null> {
  const { rows } = await client.query(
    'SELECT watermark::text AS w FROM sfsync.watermarks WHERE target_schema = $1 AND object = $2',
    [schema, object],
  );
  return rows[0]?.w ?? null;
}

async function rowCount(schema: string, table: string): Promise<number> {
  const { rows } = await client.query(`SELECT count(*)::int AS n FROM "${schema}"."${table}"`);
  return rows[0].n;
}

const requests = (method: string, pattern: RegExp) =>
  emulator.admin.requestLog().filter((e) => e.method === method && pattern.test(e.path));
const tokenCalls = () => requests('POST', /^\/services\/oauth2\/token/).length;
const FIRST_PAGE = /\/jobs\/query\/[^/]+\/results$/;
const LATER_PAGE = /\/jobs\/query\/[^/]+\/results\?locator=/;

function fault(spec: FaultSpec): void {
  emulator.admin.addFault(spec);
}

function touch(object: string, n: number, field: string, value: (i: number) => string): void {
  const live = orgRecords(emulator.store, object, { includeDeleted: false }).slice(0, n);
  for (const [i, rec] of live.entries()) emulator.store.update(rec.Id, { [field]: value(i) });
}

describe('sync under injected faults', () => {
  beforeAll(async () => {
    emulator = await createEmulator({ port: 0, accounts: 120, seed: 11 });
    // Several result pages per object, so faults can land in the middle of a download
    // (docs/salesforce.md#bulk-api-20-query-results).
    emulator.admin.setBulkLatency({ defaultMaxRecords: 50 });
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  });
  afterEach(() => {
    emulator.admin.clearFaults();
    emulator.admin.clearRequestLog();
  });
  afterAll(async () => {
    await client?.end();
    await emulator?.close();
  });

  it('completes in full through 503 + Retry-After on describe, 500 on a job poll, 503 on a result page', async () => {
    fault({ route: /GET .*\/sobjects\/Account\/describe/, kind: 'status', status: 503, retryAfter: 1 });
    fault({
      route: /GET .*\/jobs\/query\/[^/?]+$/,
      kind: 'status',
      status: 500,
      errorCode: 'UNKNOWN_EXCEPTION',
      message: 'boom',
    });
    fault({ route: LATER_PAGE, kind: 'status', status: 503, retryAfter: 1 });
    const s = (await syncInProcess(config('s503', ['Account'])))[0];
    expectSucceeded(s);
    expect(s?.via).toBe('bulk');
    expect(emulator.admin.faults()).toEqual([]);
    const failed = emulator.admin.requestLog().filter((e) => e.status >= 500);
    expect(failed.map((e) => e.status).sort()).toEqual([500, 503, 503]);
    // Each failed call was followed by a successful one at the same address (the page at the same locator).
    for (const f of failed)
      expect(emulator.admin.requestLog().some((e) => e.path === f.path && e.status === 200)).toBe(true);
    expect(requests('POST', /\/jobs\/query$/)).toHaveLength(1);
    await expectComplete('s503', 'Account');
  });

  it('re-requests a Bulk page at its locator after a reset and a truncated body, never restarting', async () => {
    fault({ route: LATER_PAGE, kind: 'reset' });
    fault({ route: FIRST_PAGE, kind: 'truncate', afterBytes: 3000 });
    fault({ route: LATER_PAGE, kind: 'truncate', afterBytes: 1500 });
    const s = (await syncInProcess(config('strunc', ['Contact'])))[0];
    expectSucceeded(s);
    expect(emulator.admin.faults()).toEqual([]);
    expect(requests('POST', /\/jobs\/query$/)).toHaveLength(1);
    const pages = requests('GET', /\/results/).map((e) => e.path);
    expect(pages.length).toBe(new Set(pages).size + 3);
    expect(s?.rowsFetched).toBe(orgRecords(emulator.store, 'Contact').length);
    await expectComplete('strunc', 'Contact');
  });

  it('re-mints the token once after 401 INVALID_SESSION_ID mid Bulk result download and replays the page', async () => {
    fault({ route: LATER_PAGE, kind: 'invalidSession' });
    const s = (await syncInProcess(config('s401', ['Opportunity'])))[0];
    expectSucceeded(s);
    expect(emulator.admin.faults()).toEqual([]);
    // The login, then exactly one re-mint.
    expect(tokenCalls()).toBe(2);
    expect(requests('GET', LATER_PAGE).filter((e) => e.status === 401)).toHaveLength(1);
    await expectComplete('s401', 'Opportunity');
  });

  it('shares ONE re-mint among four concurrent objects when every session expires mid-run', async () => {
    const objects = ['Account', 'Contact', 'Opportunity', 'Invoice__c'];
    const all = byObject(
      await syncInProcess(config('sherd', objects), { before: () => emulator.admin.expireAllSessions() }),
    );
    for (const o of objects) expectSucceeded(all.get(o));
    const unauthorized = emulator.admin.requestLog().filter((e) => e.status === 401);
    expect(unauthorized.length).toBeGreaterThanOrEqual(2);
    expect(tokenCalls()).toBe(2);
    for (const o of objects) await expectComplete('sherd', o);
  });

  it('waits out a slow response and retries a 503 on a REST query page of an incremental run', async () => {
    expectSucceeded((await syncInProcess(config('sinc', ['Account'])))[0]);
    touch('Account', 5, 'Name', (i) => `Delta ${i} after a slow page`);
    // One query, sized by its own first page: the 503 is retried, and the retry is the slow one.
    fault({ route: /GET .*\/queryAll\?q=SELECT/, kind: 'status', status: 503, retryAfter: 1 });
    fault({ route: /GET .*\/queryAll\?q=SELECT/, kind: 'delay', ms: 300 });
    const s = (await syncInProcess(config('sinc', ['Account'])))[0];
    expectSucceeded(s);
    expect(s).toMatchObject({ mode: 'incremental', via: 'rest', rowsUpdated: 5 });
    expect(emulator.admin.faults()).toEqual([]);
    await expectComplete('sinc', 'Account');
  });

  it('retries a REST reply whose JSON breaks off mid-way (found by the soak: "stream has been aborted")', async () => {
    expectSucceeded((await syncInProcess(config('scut', ['Contact'])))[0]);
    touch('Contact', 3, 'LastName', (i) => `Cut ${i}`);
    fault({ route: /GET .*\/queryAll\?q=SELECT%20Id/, kind: 'truncate', afterBytes: 5 });
    fault({ route: /GET .*\/queryAll\?q=SELECT%20Id/, kind: 'truncate', afterBytes: 100 });
    const s = (await syncInProcess(config('scut', ['Contact'])))[0];
    expectSucceeded(s);
    expect(s).toMatchObject({ mode: 'incremental', via: 'rest', rowsUpdated: 3 });
    expect(emulator.admin.faults()).toEqual([]);
    await expectComplete('scut', 'Contact');
  });

  it.each([
    ['REQUEST_LIMIT_EXCEEDED', { kind: 'requestLimit' }, /REQUEST_LIMIT_EXCEEDED/],
    [
      'QUERY_TIMEOUT (not split into smaller windows: reported for the object)',
      { kind: 'queryTimeout' },
      /QUERY_TIMEOUT/,
    ],
  ] as const)(
    'fails an incremental run on %s, leaving rows and watermark untouched; the next run catches up',
    async (_name, kind, pattern) => {
      const schema = `sfatal_${kind.kind.toLowerCase()}`;
      expectSucceeded((await syncInProcess(config(schema, ['Lead'])))[0]);
      const before = await watermark(schema, 'Lead');
      const { rows: snapshot } = await client.query(
        `SELECT md5(string_agg(t::text, '' ORDER BY id)) AS h FROM "${schema}".lead t`,
      );
      touch('Lead', 4, 'Company', (i) => `Changed ${schema} ${i}`);
      fault({ route: /GET .*\/queryAll\?q=SELECT/, ...kind });
      const s = (await syncInProcess(config(schema, ['Lead'])))[0];
      expect(s?.status).toBe('failed');
      expect(String(s?.error)).toMatch(pattern);
      expect(await watermark(schema, 'Lead')).toBe(before);
      const { rows: after } = await client.query(
        `SELECT md5(string_agg(t::text, '' ORDER BY id)) AS h FROM "${schema}".lead t`,
      );
      expect(after).toEqual(snapshot);
      const { rows: runs } = await client.query(
        'SELECT status, error FROM sfsync.runs WHERE target_schema = $1 ORDER BY id DESC LIMIT 1',
        [schema],
      );
      expect(runs[0].status).toBe('failed');
      expect(runs[0].error).toMatch(pattern);

      expectSucceeded((await syncInProcess(config(schema, ['Lead'])))[0]);
      await expectComplete(schema, 'Lead');
    },
  );

  it('retries a Bulk job that ends Failed as two smaller cursor windows and loads everything once', async () => {
    fault({ route: /POST .*\/jobs\/query$/, kind: 'bulkJobFailed', message: 'InternalServerError : retry later' });
    const creates = requests('POST', /\/jobs\/query$/).length;
    const s = (await syncInProcess(config('sjob', ['Account'])))[0];
    expectSucceeded(s);
    await expectComplete('sjob', 'Account');
    // The failed job, then one job per half (docs/salesforce.md#bulk-api-20-job-states: a failed job is retried with
    // less work, not as is).
    expect(requests('POST', /\/jobs\/query$/).length - creates).toBe(3);
    const { rows } = await client.query(
      "SELECT cardinality(bulk_job_ids) AS jobs FROM sfsync.runs WHERE target_schema = 'sjob'",
    );
    expect(rows).toEqual([{ jobs: 2 }]);
  });

  it('reports a Bulk job still failing after three splits, commits nothing, and the next run loads it', async () => {
    fault({
      route: /POST .*\/jobs\/query$/,
      kind: 'bulkJobFailed',
      message: 'InternalServerError : retry later',
      times: 4,
    });
    const s = (await syncInProcess(config('sjob2', ['Account'])))[0];
    expect(s?.status).toBe('failed');
    expect(String(s?.error)).toMatch(
      /ended Failed: InternalServerError : retry later \(window \[start, \S+\), after 3 split\(s\)\)/,
    );
    expect(emulator.admin.faults()).toEqual([]);
    expect(await watermark('sjob2', 'Account')).toBeNull();
    expect(await rowCount('sjob2', 'account')).toBe(0);

    expectSucceeded((await syncInProcess(config('sjob2', ['Account'])))[0]);
    await expectComplete('sjob2', 'Account');
  });

  it('gives up on a page that keeps dropping after bounded tries, loading nothing, keeping no watermark', async () => {
    fault({ route: LATER_PAGE, kind: 'reset', times: 50 });
    const s = (await syncInProcess(config('sdrop', ['Invoice__c'])))[0];
    expect(s?.status).toBe('failed');
    expect(String(s?.error)).toMatch(/ECONNRESET|socket hang up|premature/i);
    // DEFAULT_HTTP_RETRY.attempts, not attempts x attempts (the page loop used to retry what SalesforceHttp had
    // retried).
    expect(requests('GET', LATER_PAGE)).toHaveLength(5);
    expect(await watermark('sdrop', 'Invoice__c')).toBeNull();
    expect(await rowCount('sdrop', 'invoice__c')).toBe(0);
    const { rows } = await client.query("SELECT status FROM sfsync.runs WHERE target_schema = 'sdrop'");
    expect(rows).toEqual([{ status: 'failed' }]);
  });
});
