// sfsync through the CLI against the emulator's faults that used to hang a load or fail it for good: downloads that
// stall mid-body (docs/salesforce.md#timeouts), sessions revoked again while a call re-logs in
// (#oauth-session-expiry), `SELECT COUNT()` answering QUERY_TIMEOUT (#select-count) and a wide object's delta past
// the 16,384-byte URI limit (#uri-length). Each run ends, and either every record is loaded once or nothing is, with
// one clear last line and the watermark untouched.
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/index.ts';
import { lastLine, runCli } from '../support/cli.ts';
import { useTestDatabase } from '../support/db.ts';
import { emulatorEnv } from '../support/emulatorEnv.ts';
import { orgRecords } from '../support/org.ts';

const db = useTestDatabase();
let client: pg.Client;

const LATER_PAGE = /\/jobs\/query\/[^/]+\/results\?locator=/;
/** Timeouts short enough for a test: a stall is noticed within a second. */
const FAST_TIMEOUTS = { SFSYNC_HTTP_TIMEOUT_SECONDS: '1', SFSYNC_IDLE_TIMEOUT_SECONDS: '1' };

async function one<T = number>(sql: string, params: unknown[] = []): Promise<T> {
  const { rows } = await client.query(sql, params);
  return rows[0].n as T;
}

const watermarks = (schema: string) =>
  one('SELECT count(*)::int AS n FROM sfsync.watermarks WHERE target_schema = $1', [schema]);

async function expectAllOnce(em: Emulator, schema: string, object: string): Promise<void> {
  const expected = orgRecords(em.store, object).length;
  const { rows } = await client.query(
    `SELECT count(*)::int AS n, count(DISTINCT id)::int AS d FROM ${schema}.${object.toLowerCase()}`,
  );
  expect(rows[0]).toEqual({ n: expected, d: expected });
}

function touch(em: Emulator, object: string, n: number, field: string, value: (i: number) => string): string[] {
  const live = orgRecords(em.store, object, { includeDeleted: false }).slice(0, n);
  for (const [i, rec] of live.entries()) em.store.update(rec.Id, { [field]: value(i) });
  return live.map((r) => r.Id);
}

beforeAll(async () => {
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
});
afterAll(async () => {
  await client?.end();
});

describe('sfsync sync (CLI) against the fault emulator', () => {
  let em: Emulator;
  const requests = (method: string, pattern: RegExp) =>
    em.admin.requestLog().filter((e) => e.method === method && pattern.test(e.path));
  const tokenCalls = () => requests('POST', /^\/services\/oauth2\/token/).length;
  const env = (schema: string, extra: Record<string, string> = {}) =>
    emulatorEnv(em, db.url, { SFSYNC_SCHEMA: schema, ...extra });

  beforeAll(async () => {
    em = await createEmulator({ port: 0, accounts: 80, seed: 17 });
    // Several result pages per object, so a fault can land on a later page.
    em.admin.setBulkLatency({ defaultMaxRecords: 40 });
  });
  afterEach(() => {
    em.admin.clearFaults();
    em.admin.clearRequestLog();
  });
  afterAll(async () => {
    await em?.close();
  });

  it('times out and re-requests a stalled Bulk page (same locator), a slow answer, a stalled REST page', async () => {
    em.admin.addFault({ route: LATER_PAGE, kind: 'stall', afterBytes: 500 });
    em.admin.addFault({ route: /GET .*\/jobs\/query\/[^/?]+$/, kind: 'delay', ms: 2_500 });
    const first = await runCli(['sync', '--objects', 'Account'], env('tstall', FAST_TIMEOUTS));
    expect(first.code, first.stderr).toBe(0);
    expect(em.admin.faults()).toEqual([]);
    // The stalled page was asked for again at the same locator, not the object restarted.
    const pages = requests('GET', LATER_PAGE).map((e) => e.path);
    expect(pages.length).toBe(new Set(pages).size + 1);
    expect(requests('POST', /\/jobs\/query$/)).toHaveLength(1);
    await expectAllOnce(em, 'tstall', 'Account');

    const ids = touch(em, 'Account', 3, 'Name', (i) => `After a stall ${i}`);
    em.admin.addFault({ route: /GET .*\/queryAll\?q=SELECT%20Id/, kind: 'stall', afterBytes: 60 });
    const delta = await runCli(['sync', '--objects', 'Account'], env('tstall', FAST_TIMEOUTS));
    expect(delta.code, delta.stderr).toBe(0);
    expect(em.admin.faults()).toEqual([]);
    const { rows } = await client.query('SELECT name FROM tstall.account WHERE id = ANY($1) ORDER BY name', [ids]);
    expect(rows.map((r) => r.name)).toEqual(['After a stall 0', 'After a stall 1', 'After a stall 2']);
    await expectAllOnce(em, 'tstall', 'Account');
  });

  it('gives up on a page that keeps stalling after bounded tries: one clear line, nothing loaded', async () => {
    em.admin.addFault({ route: LATER_PAGE, kind: 'stall', afterBytes: 500, times: 50 });
    const run = await runCli(['sync', '--objects', 'Contact'], env('tstall2', FAST_TIMEOUTS));
    expect(run.code, run.stderr).toBe(1);
    expect(lastLine(run.stderr)).toMatch(/^sfsync: /);
    expect(lastLine(run.stderr)).toMatch(
      /ETIMEDOUT \(the response body sent nothing for 1 s; SFSYNC_IDLE_TIMEOUT_SECONDS\)/,
    );
    // DEFAULT_HTTP_RETRY.attempts tries of the stalled page.
    expect(requests('GET', LATER_PAGE)).toHaveLength(5);
    expect(await watermarks('tstall2')).toBe(0);
    expect(await one('SELECT count(*)::int AS n FROM tstall2.contact')).toBe(0);
  });

  it('logs in again for a session revoked while the re-login is replayed, and loads everything', async () => {
    // The run's first token is revoked after a few calls, the one that replaces it at once; the third one works.
    em.admin.revokeSessions({ current: false, next: 1, afterCalls: 4 });
    em.admin.revokeSessions({ current: false, next: 1, afterCalls: 0 });
    const run = await runCli(['sync', '--objects', 'Opportunity'], env('trevoke'));
    expect(run.code, run.stderr).toBe(0);
    expect(tokenCalls()).toBe(3);
    expect(em.admin.requestLog().filter((e) => e.status === 401)).toHaveLength(2);
    await expectAllOnce(em, 'trevoke', 'Opportunity');
  });

  it('stops logging in when every new session is revoked at once: bounded logins, one clear line', async () => {
    // Login, then the 3 re-logins a call may make: all revoked on first use.
    em.admin.revokeSessions({ current: false, next: 4, afterCalls: 0 });
    const run = await runCli(['sync', '--objects', 'Lead'], env('trevoke2'));
    expect(run.code, run.stderr).toBe(1);
    // Which bound speaks depends on how the calls in flight shared the re-logins: the call's own, or the run's.
    expect(lastLine(run.stderr)).toMatch(
      /^sfsync: (Lead: )?.*401 INVALID_SESSION_ID.*(still refused after 3 new sessions|no further login this minute)$/,
    );
    expect(tokenCalls()).toBe(4);
    expect(await watermarks('trevoke2')).toBe(0);
  });

  it('loads an object whose SELECT COUNT() times out in windows cut by time, and says so', async () => {
    em.admin.addFault({ kind: 'queryTimeout', soql: /^\s*SELECT\s+COUNT\(\s*\)/i, times: 1_000 });
    const run = await runCli(['sync', '--objects', 'Invoice__c'], env('tcount', { LOG_LEVEL: 'warn' }));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(
      /SELECT COUNT\(\) timed out: size unknown, so the load is cut into cursor windows of 30/,
    );
    expect(requests('GET', /\/queryAll\?q=SELECT%20COUNT\(\)/).every((e) => e.status === 400)).toBe(true);
    // The seeded records span three years: one Bulk job per 30 days.
    expect(requests('POST', /\/jobs\/query$/).length).toBeGreaterThan(30);
    await expectAllOnce(em, 'tcount', 'Invoice__c');
    expect(await watermarks('tcount')).toBe(1);
  });
});

describe('sfsync sync (CLI) of an enterprise Account of 600+ fields', () => {
  let em: Emulator;

  beforeAll(async () => {
    em = await createEmulator({ port: 0, profile: 'enterprise', accounts: 60, seed: 5 });
  });
  afterAll(async () => {
    await em?.close();
  });

  it('reads its delta through Bulk API 2.0 (a REST GET would pass the URI limit) and verifies a sample', async () => {
    const env = emulatorEnv(em, db.url, { SFSYNC_SCHEMA: 'twide' });
    const initial = await runCli(['sync', '--objects', 'Account'], env);
    expect(initial.code, initial.stderr).toBe(0);
    const ids = touch(em, 'Account', 4, 'Name', (i) => `Wide delta ${i}`);
    em.admin.clearRequestLog();

    const delta = await runCli(['sync', '--objects', 'Account'], env);
    expect(delta.code, delta.stderr).toBe(0);
    const log = em.admin.requestLog();
    expect(log.filter((e) => e.status === 414 || e.status === 431)).toEqual([]);
    expect(log.filter((e) => e.method === 'POST' && /\/jobs\/query$/.test(e.path))).toHaveLength(1);
    const { rows } = await client.query('SELECT name FROM twide.account WHERE id = ANY($1) ORDER BY name', [ids]);
    expect(rows.map((r) => r.name)).toEqual(['Wide delta 0', 'Wide delta 1', 'Wide delta 2', 'Wide delta 3']);
    await expectAllOnce(em, 'twide', 'Account');
    const { rows: runs } = await client.query(
      "SELECT mode FROM sfsync.runs WHERE target_schema = 'twide' AND status = 'succeeded' ORDER BY id",
    );
    expect(runs.map((r) => r.mode)).toEqual(['initial', 'incremental']);

    em.admin.clearRequestLog();
    const verify = await runCli(['verify', '--objects', 'Account', '--sample', '20'], env);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(em.admin.requestLog().filter((e) => e.status === 414 || e.status === 431)).toEqual([]);
  });
});
