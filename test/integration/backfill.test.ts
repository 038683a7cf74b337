// `sfsync backfill` as users run it: a spawned CLI against the emulator over HTTP and a real PostgreSQL. Killed with
// SIGKILL midway and resumed; run alongside an incremental `sync`; refused with bad arguments.
import { Writable } from 'node:stream';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/index.ts';
import type { SfRecord } from '../../emulator/types.ts';
import type { ObjectSpec } from '../../schemas/records.ts';
import { silentLogger } from '../../lib/log.ts';
import { parseBackfillArgs } from '../../cli/backfill.ts';
import { createProgress } from '../../pipelines/runtime/progress.ts';
import { type CliResult, lastLine, runCli, startCli } from '../support/cli.ts';
import { compareTable } from '../support/compare.ts';
import { useTestDatabase } from '../support/db.ts';
import { emulatorEnv } from '../support/emulatorEnv.ts';
import { orgRecords } from '../support/org.ts';
import { describeSpec, syncConfig } from '../support/sync.ts';
import { backfillAll } from '../../pipelines/backfill/backfillAll.ts';
import { backfillFailure } from '../../pipelines/backfill/backfillAll.ts';
import { withRunContext } from '../../pipelines/runtime/runContext.ts';

const db = useTestDatabase();
let emulator: Emulator;
let client: pg.Client;
let account: ObjectSpec;

const ISO = (expr: string) => `to_char(${expr} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

interface WindowRow {
  from: string;
  status: string;
  runId: number | null;
  jobId: string | null;
}

async function windows(schema: string): Promise<WindowRow[]> {
  try {
    const { rows } = await client.query<WindowRow>(
      `SELECT ${ISO('w.window_from')} AS "from", w.status, w.run_id::int AS "runId", w.bulk_job_id AS "jobId"
       FROM sfsync.backfill_windows w JOIN sfsync.backfills b ON b.id = w.backfill_id
       WHERE b.target_schema = $1 ORDER BY w.window_from`,
      [schema],
    );
    return rows;
  } catch (err) {
    // 42P01: the CLI has not migrated the database yet.
    if ((err as { code?: string }).code === '42P01') return [];
    throw err;
  }
}

/** Polls until `done` holds; the bound only keeps a broken CLI from hanging the suite. */
async function waitFor<T>(read: () => Promise<T>, done: (v: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const v = await read();
    if (done(v)) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`gave up waiting for ${what}: ${JSON.stringify(await read())}`);
}

async function watermark(schema: string): Promise<string | null> {
  const { rows } = await client.query(
    `SELECT ${ISO('watermark')} AS w FROM sfsync.watermarks WHERE target_schema = $1`,
    [schema],
  );
  return rows[0]?.w ?? null;
}

async function expectTableEquals(schema: string, records: SfRecord[]): Promise<void> {
  const result = await compareTable(client, schema, account, records);
  expect(result.missing).toEqual([]);
  expect(result.extra).toEqual([]);
  expect(result.mismatches.slice(0, 5)).toEqual([]);
  expect(result.compared).toBe(records.length);
}

const inRange = (since: Date, until: Date) => (r: SfRecord) => {
  const t = Date.parse(String(r.SystemModstamp));
  return t >= since.getTime() && t < until.getTime();
};

/** Month starts relative to the org's clock: the seed spreads SystemModstamp over the 3 years before today. */
function monthStart(monthsAgo: number): Date {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - monthsAgo, 1));
}

describe('sfsync backfill', () => {
  beforeAll(async () => {
    emulator = await createEmulator({ port: 0, accounts: 400, seed: 17 });
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
    account = await describeSpec(syncConfig(emulatorEnv(emulator, db.url), ['Account']), 'Account');
  });
  afterEach(() => {
    emulator.admin.clearFaults();
    emulator.admin.setBulkLatency({ latencyMs: 0 });
  });
  afterAll(async () => {
    await client?.end();
    await emulator?.close();
  });

  it('loads exactly the range, a Bulk job per window; resumes after SIGKILL without redoing done windows', async () => {
    const bf1 = emulatorEnv(emulator, db.url, { SFSYNC_SCHEMA: 'bf1' });
    const since = monthStart(10);
    const until = monthStart(4);
    const args = [
      'backfill',
      '--objects',
      'Account',
      '--since',
      since.toISOString().slice(0, 10),
      '--until',
      until.toISOString(),
      '--window',
      '1mo',
      '--concurrency',
      '1',
    ];
    const expected = orgRecords(emulator.store, 'Account').filter(inRange(since, until));
    expect(expected.length).toBeGreaterThan(40);

    // Slow jobs, one at a time, so the kill lands with some windows done and some not.
    emulator.admin.setBulkLatency({ latencyMs: 400 });
    const first = startCli(args, bf1);
    let killed: CliResult;
    try {
      await waitFor(
        () => windows('bf1'),
        (ws) => ws.filter((w) => w.status === 'done').length >= 2,
        'two windows done',
      );
    } finally {
      first.child.kill('SIGKILL');
      killed = await first.done;
    }
    expect(killed.signal).toBe('SIGKILL');
    const before = await windows('bf1');
    expect(before).toHaveLength(6);
    const doneBefore = before.filter((w) => w.status === 'done');
    expect(doneBefore.length).toBeLessThan(6);
    // What was committed is exactly the done windows' records: nothing of the interrupted window.
    const { rows: partial } = await client.query('SELECT count(*)::int AS n FROM bf1.account');
    const bounds = before.map((w, i) => ({
      ...w,
      to: i + 1 < before.length ? Date.parse(before[i + 1]!.from) : until.getTime(),
    }));
    const inDone = expected.filter((r) => {
      const t = Date.parse(String(r.SystemModstamp));
      return bounds.some((b) => b.status === 'done' && t >= Date.parse(b.from) && t < b.to);
    });
    expect(partial[0].n).toBe(inDone.length);

    emulator.admin.setBulkLatency({ latencyMs: 0 });
    emulator.admin.clearRequestLog();
    const resumed = await runCli(args, bf1);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout.split('\n')[0]).toMatch(/^object\s+range\s+result$/);
    expect(resumed.stdout).toMatch(
      new RegExp(
        `^Account\\s+SystemModstamp \\[${since.toISOString()}, ${until.toISOString()}\\)\\s+` +
          `6/6 windows done \\(${doneBefore.length} by an earlier run\\), ` +
          '\\d[\\d,]* read, \\d[\\d,]* inserted, 0 updated',
        'm',
      ),
    );

    await expectTableEquals('bf1', expected);
    // Done windows kept their job and run: only the others got a Bulk job in the second command.
    const after = await windows('bf1');
    expect(after.every((w) => w.status === 'done')).toBe(true);
    for (const w of doneBefore) expect(after.find((a) => a.from === w.from)).toEqual(w);
    const creates = emulator.admin.requestLog().filter((e) => e.method === 'POST' && /\/jobs\/query$/.test(e.path));
    expect(creates).toHaveLength(6 - doneBefore.length);
    // One succeeded backfill run per window, carrying its window and job; the killed attempt is marked failed.
    const { rows: runs } = await client.query(
      `SELECT id::int AS id, status, ${ISO('window_from')} AS "from", bulk_job_ids AS jobs,
              rows_fetched::int AS fetched, error
       FROM sfsync.runs WHERE target_schema = 'bf1' AND mode = 'backfill' ORDER BY id`,
    );
    const succeeded = runs.filter((r) => r.status === 'succeeded');
    expect(succeeded.map((r) => r.from).sort()).toEqual(after.map((w) => w.from));
    for (const w of after)
      expect(succeeded.find((r) => r.from === w.from)).toMatchObject({ id: w.runId, jobs: [w.jobId] });
    expect(succeeded.reduce((n, r) => n + r.fetched, 0)).toBe(expected.length);
    expect(runs.filter((r) => r.status === 'running')).toEqual([]);
    for (const r of runs.filter((x) => x.status === 'failed')) expect(r.error).toMatch(/^interrupted/);
    // A backfill never writes the incremental watermark.
    expect(await watermark('bf1')).toBeNull();

    // Finished: the same command again starts a new backfill (6 new jobs) rather than continuing this one.
    const { rows: bf } = await client.query(
      "SELECT status, finished_at IS NOT NULL AS finished FROM sfsync.backfills WHERE target_schema = 'bf1'",
    );
    expect(bf).toEqual([{ status: 'succeeded', finished: true }]);
  }, 30_000);

  it('runs beside an incremental sync: the table ends equal to the org, the watermark never goes back', async () => {
    const bf2 = emulatorEnv(emulator, db.url, { SFSYNC_SCHEMA: 'bf2' });
    const initial = await runCli(['sync', '--objects', 'Account'], bf2);
    expect(initial.code, initial.stderr).toBe(0);
    const w0 = (await watermark('bf2'))!;
    expect(w0).not.toBeNull();

    // The whole history in 6-month windows, all jobs in flight at once and slow: the sync below commits while they run.
    emulator.admin.setBulkLatency({ latencyMs: 3000 });
    const backfill = startCli(
      [
        'backfill',
        '--objects',
        'Account',
        '--since',
        monthStart(40).toISOString(),
        '--window',
        '6mo',
        '--concurrency',
        '10',
      ],
      bf2,
    );
    try {
      // Every job created: each has its snapshot of the org (emulator: taken at creation), older than the edits below.
      const ws = await waitFor(
        () => windows('bf2'),
        (ws) => ws.length > 0 && ws.every((w) => w.jobId !== null),
        'every window job created',
      );
      expect(ws.length).toBeGreaterThanOrEqual(6);

      const snapshotSize = orgRecords(emulator.store, 'Account').length;
      const live = orgRecords(emulator.store, 'Account').filter((r) => r.IsDeleted === false);
      for (const rec of live.slice(0, 6)) emulator.store.update(rec.Id, { Name: `Renamed during backfill ${rec.Id}` });
      for (const rec of live.slice(6, 8)) emulator.store.softDelete(rec.Id);
      emulator.store.insert('Account', { Name: 'Created during backfill' });

      // Nightly sync meanwhile; fails fast only if it meets a window's commit, as `schedule` would retry later.
      let sync: CliResult | undefined;
      for (let i = 0; i < 20; i++) {
        sync = await runCli(['sync', '--objects', 'Account'], bf2);
        if (sync.code === 0 || !/another sfsync process is loading Account/.test(sync.stderr)) break;
      }
      expect(sync?.code, sync?.stderr).toBe(0);
      expect(sync?.stdout).toMatch(/Account\s+incremental\s+\d[\d,]* read/);
      const w1 = (await watermark('bf2'))!;
      expect(Date.parse(w1)).toBeGreaterThanOrEqual(Date.parse(w0));

      const done = await backfill.done;
      expect(done.code, done.stderr).toBe(0);
      expect(done.stdout).toMatch(/^Account\s+SystemModstamp .*\s(\d+)\/\1 windows done, \d[\d,]* read/m);
      // The backfill left the watermark where the sync put it.
      expect(await watermark('bf2')).toBe(w1);
      // Its jobs read the org before the edits (the edited records were still in range), and changed no row.
      const { rows: loaded } = await client.query(
        'SELECT sum(rows_fetched)::int AS fetched, sum(rows_updated)::int AS updated FROM sfsync.runs ' +
          "WHERE target_schema = 'bf2' AND mode = 'backfill'",
      );
      expect(loaded[0]).toEqual({ fetched: snapshotSize, updated: 0 });
    } finally {
      backfill.child.kill('SIGKILL');
    }
    // The edits the sync loaded were not undone by the backfill's older snapshots.
    await expectTableEquals('bf2', orgRecords(emulator.store, 'Account'));
    const { rows } = await client.query(
      "SELECT count(*)::int AS n FROM bf2.account WHERE name LIKE 'Renamed during backfill %'",
    );
    expect(rows[0].n).toBe(6);
  }, 30_000);

  it('by CreatedDate: a failed window exits non-zero naming it; a rerun without --until finishes it', async () => {
    const bf4 = emulatorEnv(emulator, db.url, { SFSYNC_SCHEMA: 'bf4' });
    const since = monthStart(12);
    const args = [
      'backfill',
      '--objects',
      'Account',
      '--since',
      since.toISOString().slice(0, 10),
      '--window',
      '2mo',
      '--by',
      'created',
      '--concurrency',
      '1',
    ];
    emulator.admin.addFault({ route: /POST .*\/jobs\/query$/, kind: 'bulkJobFailed', message: 'InternalServerError' });
    const failed = await runCli(args, bf4);
    expect(failed.code, failed.stderr).toBe(1);
    expect(lastLine(failed.stderr)).toMatch(
      new RegExp(
        /^sfsync: Account window \[\S+, \S+\): Bulk query job \w+ ended Failed: InternalServerError; /.source +
          /(\d+)\/(\d+) windows done, run the same command again to resume$/.source,
      ),
    );
    expect(failed.stdout).toMatch(
      /^Account\s+CreatedDate \[.*\)\s+\d+\/\d+ windows done, \d[\d,]* read, .* FAILED: window \[/m,
    );
    const { rows: bf } = await client.query(
      `SELECT id::int AS id, status, ${ISO('until')} AS until FROM sfsync.backfills WHERE target_schema = 'bf4'`,
    );
    expect(bf).toHaveLength(1);
    expect(bf[0].status).toBe('failed');
    expect((await windows('bf4')).filter((w) => w.status === 'failed')).toHaveLength(1);

    const rerun = await runCli(args, bf4);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stdout).toMatch(/ (\d+)\/\1 windows done \(\d+ by an earlier run\)/);
    // The same backfill, over the until it chose the first time (not this run's now).
    const { rows: after } = await client.query(
      `SELECT id::int AS id, status, ${ISO('until')} AS until FROM sfsync.backfills WHERE target_schema = 'bf4'`,
    );
    expect(after).toEqual([{ ...bf[0], status: 'succeeded' }]);
    const until = new Date(bf[0].until);
    const expected = orgRecords(emulator.store, 'Account').filter((r) => {
      const t = Date.parse(String(r.CreatedDate));
      return t >= since.getTime() && t < until.getTime();
    });
    expect(expected.length).toBeGreaterThan(10);
    await expectTableEquals('bf4', expected);
    expect(await watermark('bf4')).toBeNull();
  }, 30_000);

  it.each([
    [
      'a since that is not a date',
      ['--since', 'yesterday'],
      /^sfsync: --since: 'yesterday' is not an ISO 8601 date or date-time/,
    ],
    [
      'an impossible date',
      ['--since', '2024-01-01', '--until', '2024-02-30'],
      /^sfsync: --until: '2024-02-30' is not an ISO 8601 date/,
    ],
    [
      'since after until',
      ['--since', '2024-03-01', '--until', '2024-01-01'],
      /^sfsync: --since \(2024-03-01T00:00:00.000Z\) must be before --until \(2024-01-01T00:00:00.000Z\)$/,
    ],
    [
      'a bad window',
      ['--since', '2024-01-01', '--window', '1y'],
      /^sfsync: --window: '1y' is not a window size; use a count and a unit/,
    ],
    [
      'a bad --by',
      ['--since', '2024-01-01', '--by', 'modified'],
      /^sfsync: --by: 'modified' is not one of cursor, created$/,
    ],
    ['no --since', [], /^sfsync: --since is required/],
    [
      'too many windows',
      ['--since', '2000-01-01', '--until', '2024-01-01', '--window', '1d'],
      /more than 1000 windows/,
    ],
  ])('refuses %s with one line and exit code 2, before any call', async (_what, extra, pattern) => {
    emulator.admin.clearRequestLog();
    const run = await runCli(
      ['backfill', '--objects', 'Account', ...extra],
      emulatorEnv(emulator, db.url, { SFSYNC_SCHEMA: 'bf3' }),
    );
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(lastLine(run.stderr)).toMatch(pattern);
    expect(emulator.admin.requestLog()).toEqual([]);
  });

  it('refuses a since later than the server clock when --until is omitted, with exit code 2', async () => {
    const run = await runCli(
      ['backfill', '--objects', 'Account', '--since', '2999-01-01'],
      emulatorEnv(emulator, db.url, { SFSYNC_SCHEMA: 'bf3' }),
    );
    expect(run.code, run.stderr).toBe(2);
    expect(lastLine(run.stderr)).toMatch(
      /^sfsync: --since \(2999-01-01T00:00:00.000Z\) must be before --until \(.*\)$/,
    );
  });
  it('shows one progress line per window in flight: Bulk job state, then records loaded', async () => {
    emulator.admin.setBulkLatency({ latencyMs: 300 });
    emulator.admin.addFault({ route: /\/results/, kind: 'delay', ms: 150, times: 3 });
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
    const config = syncConfig(emulatorEnv(emulator, db.url, { SFSYNC_SCHEMA: 'bprogress', SFSYNC_CONCURRENCY: '2' }), [
      'Account',
    ]);
    const since = monthStart(3);
    const args = parseBackfillArgs({
      objects: 'Account',
      since: since.toISOString(),
      until: monthStart(1).toISOString(),
      window: '1mo',
    });
    const summaries = await withRunContext(config, silentLogger(), (ctx) => backfillAll({ ...ctx, progress }, args));
    progress.stop();
    expect(backfillFailure(summaries)).toBeUndefined();
    const key = `Account ${since.toISOString().slice(0, 16)}`;
    expect(text).toContain(key);
    expect(text).toMatch(/Account \S+\s+bulk\s+0 records .*job (UploadComplete|InProgress)/);
    expect(text).toMatch(/Account \S+\s+load\s+[\d,]+ records/);
  });
});
