// Large loads in cursor windows, against the emulator and a real
// PostgreSQL: each window is committed with its own watermark, a killed load resumes after the last committed window,
// the budget guard stops an object between windows, and a direct COPY that meets a duplicate falls back to the merge.
import { Readable, Writable } from 'node:stream';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/index.ts';
import type { ObjectSpec } from '../../schemas/records.ts';
import type { Config } from '../../lib/config.ts';
import { silentLogger } from '../../lib/log.ts';
import { ensureTable } from '../../loaders/ddl.ts';
import { startRun } from '../../loaders/state.ts';
import { commitLoad, noTotals } from '../../pipelines/sync/commitLoad.ts';
import type { RunContext } from '../../pipelines/runtime/runContext.ts';
import { createProgress } from '../../pipelines/runtime/progress.ts';
import { lastLine, runCli, startCli } from '../support/cli.ts';
import { compareTable } from '../support/compare.ts';
import { useTestDatabase } from '../support/db.ts';
import { emulatorEnv } from '../support/emulatorEnv.ts';
import { orgRecords } from '../support/org.ts';
import { describeSpec, syncConfig, syncInProcess } from '../support/sync.ts';

const db = useTestDatabase();
let emulator: Emulator;
let client: pg.Client;
let accountSpec: ObjectSpec;
const DAILY = 15_000;
/** 200 Accounts in windows of at most 40: at least five windows. */
const WINDOWED = { SFSYNC_WINDOW_ROWS: '40' };

const config = (schema: string): Config =>
  syncConfig(emulatorEnv(emulator, db.url, { ...WINDOWED, SFSYNC_SCHEMA: schema, SFSYNC_CONCURRENCY: '1' }), [
    'Account',
  ]);

async function expectComplete(schema: string): Promise<void> {
  const records = orgRecords(emulator.store, 'Account');
  const result = await compareTable(client, schema, accountSpec, records);
  expect(result.missing).toEqual([]);
  expect(result.extra).toEqual([]);
  expect(result.mismatches.slice(0, 5)).toEqual([]);
  expect(result.compared).toBe(records.length);
}

async function one<T>(sql: string, params: unknown[] = []): Promise<T | undefined> {
  const { rows } = await client.query(sql, params);
  return rows[0] as T | undefined;
}

const watermarkOf = (schema: string) =>
  one<{ w: Date }>("SELECT watermark AS w FROM sfsync.watermarks WHERE target_schema = $1 AND object = 'Account'", [
    schema,
  ]).then((r) => r?.w ?? null);
/** Polls until the first window of a load is committed (the bound keeps a broken load from hanging the suite). */
async function untilWatermark(schema: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    // 42P01/3F000: the CLI has not migrated or created the schema yet.
    if ((await watermarkOf(schema).catch(() => null)) !== null) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no window of ${schema} was committed`);
}

const jobCreates = () =>
  emulator.admin.requestLog().filter((e) => e.method === 'POST' && /\/jobs\/query$/.test(e.path)).length;

describe('large loads in cursor windows', () => {
  beforeAll(async () => {
    emulator = await createEmulator({ port: 0, accounts: 200, seed: 23, dailyApiLimit: DAILY });
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
    accountSpec = await describeSpec(config('unused'), 'Account');
  });
  afterEach(() => {
    emulator.admin.clearFaults();
    emulator.admin.setApiUsage(0, DAILY);
    emulator.admin.setBulkLatency({ latencyMs: 0 });
  });
  afterAll(async () => {
    await client?.end();
    await emulator?.close();
  });

  it('loads an object over SFSYNC_WINDOW_ROWS as several Bulk jobs, one per window, every record once', async () => {
    const creates = jobCreates();
    const [s] = await syncInProcess(config('wall'));
    expect(s?.status, String(s?.error)).toBe('succeeded');
    await expectComplete('wall');
    const run = await one<{ jobs: number; fetched: number; status: string; bytes: number }>(
      'SELECT cardinality(bulk_job_ids) AS jobs, rows_fetched::int AS fetched, status, bytes::int ' +
        "FROM sfsync.runs WHERE target_schema = 'wall'",
    );
    const windows = jobCreates() - creates;
    expect(windows).toBeGreaterThanOrEqual(5);
    expect(run).toMatchObject({
      jobs: windows,
      fetched: orgRecords(emulator.store, 'Account').length,
      status: 'succeeded',
    });
    // Every window's CSV bytes, headers excluded: at least one byte per field of every record.
    expect(run!.bytes).toBeGreaterThan(run!.fetched * accountSpec.fields.length);
    // docs/salesforce.md#incremental-cursor-windows: the last, open window ends at the highest cursor loaded (never
    // later than server time minus the overlap).
    const newest = Math.max(...orgRecords(emulator.store, 'Account').map((r) => Date.parse(String(r.SystemModstamp))));
    expect((await watermarkOf('wall'))?.getTime()).toBe(newest);
  });

  it('resumes a killed initial load after its last committed window instead of starting over', async () => {
    const wkill = emulatorEnv(emulator, db.url, { ...WINDOWED, SFSYNC_SCHEMA: 'wkill' });
    const total = orgRecords(emulator.store, 'Account').length;
    // Each job takes a while, so the kill lands between two windows' commits.
    emulator.admin.setBulkLatency({ latencyMs: 400 });
    const { child, done } = startCli(['sync', '--objects', 'Account'], wkill);
    await untilWatermark('wkill');
    child.kill('SIGKILL');
    const killed = await done;
    expect(killed.signal).toBe('SIGKILL');
    const committed = await one<{ n: number }>('SELECT count(*)::int AS n FROM wkill.account');
    const mark = await watermarkOf('wkill');
    expect(mark).not.toBeNull();
    expect(committed!.n).toBeGreaterThan(0);
    expect(committed!.n).toBeLessThan(total);
    // Every committed row is below the watermark: a window commits its rows and its bound together.
    const above = await one<{ n: number }>('SELECT count(*)::int AS n FROM wkill.account WHERE systemmodstamp >= $1', [
      mark,
    ]);
    expect(above!.n).toBe(0);

    emulator.admin.setBulkLatency({ latencyMs: 0 });
    const resumed = await runCli(['sync', '--objects', 'Account'], wkill);
    expect(resumed.code, resumed.stderr).toBe(0);
    await expectComplete('wkill');
    const last = await one<{ mode: string; fetched: number }>(
      'SELECT mode, rows_fetched::int AS fetched FROM sfsync.runs ' +
        "WHERE target_schema = 'wkill' AND status = 'succeeded' ORDER BY id DESC LIMIT 1",
    );
    // The resumed run reads from the watermark (minus the overlap), not the whole object again.
    expect(last!.mode).toBe('incremental');
    expect(last!.fetched).toBeLessThanOrEqual(total - committed!.n + 10);
    expect(last!.fetched).toBeGreaterThanOrEqual(total - committed!.n);
  });

  it('stops an object between windows when the org crosses its API budget, keeping done windows, exit 4', async () => {
    const wbudget = emulatorEnv(emulator, db.url, { ...WINDOWED, SFSYNC_SCHEMA: 'wbudget' });
    emulator.admin.setBulkLatency({ latencyMs: 300 });
    const { done } = startCli(['sync', '--objects', 'Account'], wbudget);
    await untilWatermark('wbudget');
    // Someone else spends the org's allowance while the load runs: 13,000 of 15,000 is over the 80% default.
    emulator.admin.setApiUsage(13_000, DAILY);
    const run = await done;
    expect(run.code, run.stderr).toBe(4);
    expect(lastLine(run.stderr)).toMatch(
      new RegExp(
        /^sfsync: partial run: Account: API budget: DailyApiRequests: 130\d\d of the org's 15000 in use/.source +
          /.*; Account stopped after \d+ of \d+ windows/.source,
      ),
    );
    const rows = await one<{ n: number }>('SELECT count(*)::int AS n FROM wbudget.account');
    expect(rows!.n).toBeGreaterThan(0);
    expect(rows!.n).toBeLessThan(orgRecords(emulator.store, 'Account').length);
    const mark = await watermarkOf('wbudget');
    const above = await one<{ n: number }>(
      'SELECT count(*)::int AS n FROM wbudget.account WHERE systemmodstamp >= $1',
      [mark],
    );
    expect(above!.n).toBe(0);
    const runRow = await one<{ status: string; error: string; fetched: number }>(
      'SELECT status, error, rows_fetched::int AS fetched FROM sfsync.runs ' +
        "WHERE target_schema = 'wbudget' ORDER BY id DESC LIMIT 1",
    );
    expect(runRow).toMatchObject({ status: 'failed', fetched: rows!.n });
    expect(runRow!.error).toMatch(/API budget/);

    emulator.admin.setApiUsage(0, DAILY);
    const [next] = await syncInProcess(config('wbudget'));
    expect(next?.status, String(next?.error)).toBe('succeeded');
    await expectComplete('wbudget');
  });

  it("creates every object's Bulk job in flight before loading any: a slot is given up while a job runs", async () => {
    emulator.admin.setBulkLatency({ latencyMs: 300 });
    const from = emulator.admin.requestLog().length;
    const objects = ['Account', 'Contact', 'Opportunity', 'Lead'];
    const cfg = syncConfig(
      emulatorEnv(emulator, db.url, {
        SFSYNC_SCHEMA: 'wslots',
        SFSYNC_CONCURRENCY: '1',
        SFSYNC_WINDOW_ROWS: '1000000',
      }),
      objects,
    );
    const summaries = await syncInProcess(cfg);
    expect(summaries.map((s) => [s.object, s.status])).toEqual(objects.map((o) => [o, 'succeeded']));
    const log = emulator.admin.requestLog().slice(from);
    const creates = log.flatMap((e, i) => (e.method === 'POST' && /\/jobs\/query$/.test(e.path) ? [i] : []));
    const firstResults = log.findIndex((e) => e.method === 'GET' && /\/jobs\/query\/[^/]+\/results/.test(e.path));
    // One work slot, two objects in flight per slot: both jobs exist before either result is read.
    expect(creates).toHaveLength(objects.length);
    expect(creates.slice(0, 2).every((i) => i < firstResults)).toBe(true);
  });

  it('shows each object phase, Bulk job state, records and pages while it loads', async () => {
    emulator.admin.setBulkLatency({ latencyMs: 300, defaultMaxRecords: 30 });
    // Slow result pages, so the display catches the load phase however busy the machine is.
    emulator.admin.addFault({ route: /\/results/, kind: 'delay', ms: 150, times: 4 });
    let text = '';
    const stream = Object.assign(
      new Writable({
        write: (c, _e, cb) => {
          text += c.toString();
          cb();
        },
      }),
      { isTTY: true },
    );
    const progress = createProgress({ log: silentLogger(), stream, intervalMs: 20 });
    const s = await syncInProcess(config('wprogress'), { progress });
    progress.stop();
    expect(s[0]?.status, String(s[0]?.error)).toBe('succeeded');
    expect(text).toMatch(/Account\s+bulk\s+0 records .*job (UploadComplete|InProgress)/);
    expect(text).toMatch(/Account\s+load\s+[\d,]+ records .*page \d+\/(\d+|\?)/);
    // The last frame erases the block (cursor up to its first line, clear to the end): the object finished.
    expect(text.endsWith('\x1b[0J')).toBe(true);
  });

  it('skips an object another process is loading with one clear line, or waits with --wait-for-lock', async () => {
    const wlock = emulatorEnv(emulator, db.url, { ...WINDOWED, SFSYNC_SCHEMA: 'wlock' });
    emulator.admin.setBulkLatency({ latencyMs: 1_500 });
    const first = startCli(['sync', '--objects', 'Account'], wlock);
    // The first process holds the object's lock from its run row until its commit.
    for (let i = 0; i < 400; i++) {
      const running = await one<{ n: number }>(
        "SELECT count(*)::int AS n FROM sfsync.runs WHERE target_schema = 'wlock' AND status = 'running'",
      ).catch(() => undefined);
      if (running?.n) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const skipped = await runCli(['sync', '--objects', 'Account'], wlock);
    expect(skipped.code).toBe(1);
    expect(lastLine(skipped.stderr)).toMatch(
      /^sfsync: Account: another sfsync process is loading Account into schema wlock; skipped$/,
    );
    const waited = await runCli(['sync', '--objects', 'Account', '--wait-for-lock'], wlock);
    expect(waited.code, waited.stderr).toBe(0);
    expect((await first.done).code).toBe(0);
    const runs = (
      await client.query(
        "SELECT mode, status, started_at, finished_at FROM sfsync.runs WHERE target_schema = 'wlock' ORDER BY id",
      )
    ).rows;
    // The waiting process planned its run only after the first committed: an incremental one, not a second initial
    // load.
    expect(runs.map((r) => [r.mode, r.status])).toEqual([
      ['initial', 'succeeded'],
      ['incremental', 'succeeded'],
    ]);
    expect(runs[1].started_at.getTime()).toBeGreaterThanOrEqual(runs[0].finished_at.getTime());
    await expectComplete('wlock');
  });

  it('redoes a window via stage and merge when its direct COPY meets a record an earlier window loaded', async () => {
    await client.query('CREATE SCHEMA IF NOT EXISTS wdup');
    await ensureTable(client, 'wdup', accountSpec);
    const records = orgRecords(emulator.store, 'Account').slice(0, 3);
    const csv = (recs: typeof records) =>
      recs
        .map((r) => accountSpec.fields.map((f) => `"${String(r[f.name] ?? '').replaceAll('"', '""')}"`).join(','))
        .join('\n') + '\n';
    const ctx = {
      config: { schema: 'wdup' },
      sf: { calls: 0 },
      signal: new AbortController().signal,
      log: silentLogger(),
    } as unknown as RunContext;
    const runId = await startRun(client, { schema: 'wdup', object: 'Account', mode: 'initial' });
    let opened = 0;
    const commit = (recs: typeof records, window: { to?: string }) =>
      commitLoad(ctx, client, {
        spec: accountSpec,
        mode: 'initial',
        runId,
        window,
        planFrom: undefined,
        bulkJobIds: [],
        serverNow: new Date(),
        overlapMinutes: 0,
        deletes: null,
        before: noTotals(),
        open: () => {
          opened++;
          const stream = Readable.from([csv(recs)]);
          return { kind: 'csv', stream, expectedRows: () => recs.length };
        },
      });
    await commit(records.slice(0, 2), { to: '2000-01-01T00:00:00.000Z' });
    expect(opened).toBe(1);
    // Record 1 again (changed while the load ran) plus record 2: the direct COPY hits the key, the stage takes it.
    const r = await commit(records.slice(1), {});
    expect(opened).toBe(3);
    expect(r).toMatchObject({ fetched: 2, inserted: 1, updated: 0 });
    const n = await one<{ n: number; d: number }>(
      'SELECT count(*)::int AS n, count(DISTINCT id)::int AS d FROM wdup.account',
    );
    expect(n).toEqual({ n: 3, d: 3 });
  });
});
