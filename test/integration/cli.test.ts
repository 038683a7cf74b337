// The CLI as users run it: spawned bin/sfsync.js against the emulator and a real PostgreSQL.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/index.ts';
import { lastLine, runCli, startCli } from '../support/cli.ts';
import { useTestDatabase } from '../support/db.ts';
import { emulatorEnv } from '../support/emulatorEnv.ts';

const db = useTestDatabase();
let emulator: Emulator;
const dir = mkdtempSync(path.join(tmpdir(), 'sfsync-cli-'));

describe('sfsync CLI', () => {
  beforeAll(async () => {
    emulator = await createEmulator({ port: 0, accounts: 200, seed: 3 });
  });
  afterAll(async () => {
    await emulator?.close();
  });

  it('prints help for every command', async () => {
    const top = await runCli(['--help'], {});
    expect(top.code).toBe(0);
    for (const cmd of ['sync', 'status', 'migrate', 'emulator', 'demo']) expect(top.stdout).toContain(cmd);
    const sync = await runCli(['sync', '--help'], {});
    expect(sync.stdout).toContain('--full-refresh');
    expect(sync.stdout).toContain('--objects');
  });

  it('syncs, then reports status as JSON and as a table', async () => {
    const run = await runCli(['sync', '--objects', 'Account,Contact'], emulatorEnv(emulator, db.url));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/Account\s+initial\s+\d[\d,]* read, \d[\d,]* inserted/);
    const status = await runCli(['status', '--json'], { DATABASE_URL: db.url });
    expect(status.code, status.stderr).toBe(0);
    const parsed = JSON.parse(status.stdout);
    const account = parsed.objects.find((o: { object: string }) => o.object === 'Account');
    expect(account.lastRun).toMatchObject({ mode: 'initial', status: 'succeeded' });
    expect(account.rows).toBeGreaterThan(0);
    expect(account.watermark.cursorField).toBe('SystemModstamp');
    // No schedule in the config: every configured object is due at the nightly default.
    expect(account.nextRun).toMatch(/^\d{4}-\d\d-\d\dT\d\d:00:00\.000Z$/);
    const table = await runCli(['status', '--wide'], { DATABASE_URL: db.url });
    expect(table.stdout).toMatch(/^Account\s+\d[\d,]*\s+\d{4}-\d\d-\d\dT/m);
    expect(table.stdout).toMatch(/^object .* lag +next run +last run/m);
    // Without --wide: the columns read most, times relative to now, within 100 characters when not a terminal.
    const narrow = await runCli(['status'], { DATABASE_URL: db.url });
    expect(narrow.stdout).toMatch(/^object +rows +lag +last run +finished +next run +error$/m);
    expect(narrow.stdout).toMatch(
      /^Account\s+\d[\d,]*\s+(\d+[dhms] ?)+\s+succeeded\s+\d+ (s|min) ago\s+in \d+ (min|h)$/m,
    );
    for (const line of narrow.stdout.split('\n')) expect(line.length).toBeLessThanOrEqual(100);
  });

  it('shows the next scheduled run from the config file schedule, and - for an object no group syncs', async () => {
    const schema = { SFSYNC_SCHEMA: 'scheduled' };
    const run = await runCli(['sync', '--objects', 'Account,Contact'], emulatorEnv(emulator, db.url, schema));
    expect(run.code, run.stderr).toBe(0);
    const config = path.join(dir, 'scheduled.json');
    writeFileSync(
      config,
      JSON.stringify({ schedule: [{ cron: '30 4 * * *', objects: ['Account'], timezone: 'Asia/Kolkata' }] }),
    );
    const status = await runCli(['status', '--json'], { DATABASE_URL: db.url, SFSYNC_CONFIG: config, ...schema });
    expect(status.code, status.stderr).toBe(0);
    const byName = new Map(
      JSON.parse(status.stdout).objects.map((o: { object: string; nextRun: string | null }) => [o.object, o.nextRun]),
    );
    // 04:30 in Kolkata (UTC+05:30) is 23:00 UTC.
    expect(byName.get('Account')).toMatch(/T23:00:00\.000Z$/);
    expect(byName.get('Contact')).toBeNull();
    const table = await runCli(['status', '--wide'], { DATABASE_URL: db.url, SFSYNC_CONFIG: config, ...schema });
    expect(table.stdout).toMatch(/^Account\s.*\s\d{4}-\d\d-\d\dT23:00:00Z\s+initial/m);
    expect(table.stdout).toMatch(/^Contact\s.*\s-\s+initial/m);
  });

  it.each([
    ['an unknown object', ['sync', '--objects', 'NoSuchThing__c'], {}, /NoSuchThing__c/, 2],
    ['a missing setting', ['sync'], { SF_CLIENT_ID: '' }, /SF_CLIENT_ID/, 2],
    ['an unknown user', ['sync', '--objects', 'Account'], { SF_USERNAME: 'nobody@example.com' }, /invalid_grant/, 3],
    [
      'an unreachable database',
      ['sync', '--objects', 'Account'],
      { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/x' },
      /PostgreSQL at 127\.0\.0\.1:1\/x/,
      1,
    ],
  ])('fails with one clear line and a non-zero exit for %s', async (_what, args, extra, pattern, code) => {
    const run = await runCli(args, emulatorEnv(emulator, db.url, extra as Record<string, string>));
    expect(run.code).toBe(code);
    expect(lastLine(run.stderr)).toMatch(/^sfsync: /);
    expect(lastLine(run.stderr)).toMatch(pattern);
  });

  it('fails with one clear line when the key is not the registered one, and never prints it', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const keyPath = path.join(dir, 'wrong.pem');
    writeFileSync(keyPath, pem);
    const run = await runCli(
      ['sync', '--objects', 'Account'],
      emulatorEnv(emulator, db.url, { SF_PRIVATE_KEY_PATH: keyPath, LOG_LEVEL: 'debug' }),
    );
    expect(run.code).toBe(3);
    expect(lastLine(run.stderr)).toMatch(/invalid_grant/);
    const body = pem.split('\n')[1]!;
    expect(run.stderr + run.stdout).not.toContain(body);
  });

  it('survives kill -9 during an initial load: the rerun has complete data and no duplicates', async () => {
    const fresh = emulatorEnv(emulator, db.url, { SFSYNC_SCHEMA: 'killed' });
    // Slow result pages down so the process is surely mid-load when it dies.
    emulator.admin.addFault({ route: /\/results/, times: 3, kind: 'delay', ms: 1500 });
    const { child, done } = startCli(['sync', '--objects', 'Contact'], fresh);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      for (let i = 0; i < 200; i++) {
        const { rows } = await client
          .query("SELECT count(*)::int AS n FROM sfsync.runs WHERE target_schema = 'killed' AND status = 'running'")
          .catch(() => ({ rows: [{ n: 0 }] }));
        if (rows[0].n > 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await new Promise((r) => setTimeout(r, 300));
      child.kill('SIGKILL');
      const killed = await done;
      expect(killed.signal).toBe('SIGKILL');
      const { rows: wm } = await client.query(
        "SELECT count(*)::int AS n FROM sfsync.watermarks WHERE target_schema = 'killed'",
      );
      expect(wm[0].n).toBe(0);
      emulator.admin.clearFaults();
      const rerun = await runCli(['sync', '--objects', 'Contact'], fresh);
      expect(rerun.code, rerun.stderr).toBe(0);
      const snap = emulator.store.snapshot('Contact');
      let expected = 0;
      for (let i = 0; i < snap.size; i++) if (snap.at(i)) expected++;
      const { rows } = await client.query(
        'SELECT count(*)::int AS n, count(DISTINCT id)::int AS d FROM killed.contact',
      );
      expect(rows[0]).toEqual({ n: expected, d: expected });
    } finally {
      await client.end();
    }
  });

  it('refreshes formula fields only with sync --formulas-only, and verify passes afterwards', async () => {
    const base = emulatorEnv(emulator, db.url, { SFSYNC_SCHEMA: 'formulas' });
    expect((await runCli(['sync', '--objects', 'Invoice__c'], base)).code).toBe(0);
    emulator.store.setFormula('Invoice__c', 'Summary__c', (rec) => `Summary of ${rec.Name}`);
    const run = await runCli(['sync', '--formulas-only', '--objects', 'Invoice__c'], base);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/Invoice__c/);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query(
        "SELECT count(*)::int AS n FROM formulas.invoice__c WHERE summary__c NOT LIKE 'Summary of %'",
      );
      expect(rows[0].n).toBe(0);
    } finally {
      await client.end();
    }
    const verify = await runCli(['verify', '--objects', 'Invoice__c', '--sample', '10'], base);
    expect(verify.code, verify.stderr + verify.stdout).toBe(0);
  });
});

// A delta of several REST pages goes through the page worker (transforms/csvPageWorker.ts). In CI, where npm ci
// has built dist/, bin/sfsync.js runs the bundle, so this is the bundled worker file a user's run loads.
describe('sfsync CLI, a delta of several REST pages', () => {
  let org: Emulator;
  beforeAll(async () => {
    org = await createEmulator({ port: 0, accounts: 300, seed: 5 });
  });
  afterAll(async () => {
    await org?.close();
  });

  // Records stamped at the watermark's very millisecond are read again (the delta filter is `>=`,
  // docs/salesforce.md#incremental-cursor-windows).
  const readOf = (stdout: string) =>
    Number(/Account\s+incremental\s+(\d[\d,]*) read/.exec(stdout)?.[1]?.replaceAll(',', ''));

  it('inserts 4,500 new Accounts in three pages, parsed in the worker, and a rerun changes nothing', async () => {
    const base = emulatorEnv(org, db.url, { SFSYNC_SCHEMA: 'cli_pages', SFSYNC_OVERLAP_MINUTES: '0' });
    expect((await runCli(['sync', '--objects', 'Account'], base)).code).toBe(0);
    for (let i = 0; i < 4_500; i++)
      org.store.insert('Account', { Name: `paged "${i}"\nline two, ${'é'.repeat(i % 3)}` });
    // The watermark never passes the server's Date (whole seconds, docs/salesforce.md#rest-request-conventions): a
    // second later it can reach the new records.
    await new Promise((r) => setTimeout(r, 1_100));
    const run = await runCli(['sync', '--objects', 'Account'], { ...base, LOG_LEVEL: 'debug' });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/ 4,500 inserted, 0 updated via rest/);
    expect(readOf(run.stdout)).toBeGreaterThanOrEqual(4_500);
    expect(readOf(run.stdout)).toBeLessThan(4_510);
    // 2,000 + 2,000 + 500: the first page parsed here, the two after it in the worker.
    expect(run.stderr.split('\n').filter((l) => l.includes('"page merged"'))).toHaveLength(3);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query(
        `SELECT count(*)::int AS n, count(DISTINCT name)::int AS d FROM cli_pages.account WHERE name LIKE 'paged "%'`,
      );
      expect(rows[0]).toEqual({ n: 4_500, d: 4_500 });
      const { rows: one } = await client.query(`SELECT name FROM cli_pages.account WHERE name LIKE 'paged "4499"%'`);
      expect(one[0].name).toBe(`paged "4499"\nline two, ${'é'.repeat(4499 % 3)}`);
    } finally {
      await client.end();
    }
    const rerun = await runCli(['sync', '--objects', 'Account'], base);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stdout).toMatch(/ 0 inserted, 0 updated via rest/);
    expect(readOf(rerun.stdout)).toBeLessThan(4_500);
  });
});
