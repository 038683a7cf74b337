// What people read: `status` (lag), `runs` (history) and `docs` (data dictionary) from the spawned CLI, and the
// `<table>_live` view, against the emulator and a real PostgreSQL.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/index.ts';
import { ensureLiveView } from '../../loaders/views.ts';
import { runCli } from '../support/cli.ts';
import { useTestDatabase } from '../support/db.ts';
import { orgRecords } from '../support/org.ts';
import { emulatorEnv } from '../support/emulatorEnv.ts';

const db = useTestDatabase();
let emulator: Emulator;
const dir = mkdtempSync(path.join(tmpdir(), 'sfsync-docs-'));

const dbOnly = () => ({ DATABASE_URL: db.url });

async function withPg<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(db.url);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

describe('status, runs, docs and live views', () => {
  beforeAll(async () => {
    emulator = await createEmulator({ port: 0, accounts: 60, seed: 11 });
    emulator.store.softDelete(orgRecords(emulator.store, 'Account')[3]!.Id);
    for (let i = 0; i < 2; i++) {
      const sync = await runCli(['sync', '--objects', 'Account,Contact'], emulatorEnv(emulator, db.url));
      if (sync.code !== 0) throw new Error(sync.stderr);
    }
  }, 60_000);
  afterAll(async () => {
    await emulator?.close();
  });

  it('status shows the lag since the watermark, in JSON and in the table', async () => {
    const json = await runCli(['status', '--json'], dbOnly());
    expect(json.code, json.stderr).toBe(0);
    const parsed = JSON.parse(json.stdout) as {
      schema: string;
      objects: { object: string; lagSeconds: number; watermark: { value: string } }[];
    };
    expect(parsed.schema).toBe('salesforce');
    expect(parsed.objects.map((o) => o.object)).toEqual(['Account', 'Contact']);
    for (const o of parsed.objects) {
      // Measured from the watermark to when status ran, which was before now.
      const sinceWatermark = (Date.now() - Date.parse(o.watermark.value)) / 1000;
      expect(o.lagSeconds).toBeLessThanOrEqual(Math.ceil(sinceWatermark));
      expect(o.lagSeconds).toBeGreaterThanOrEqual(Math.floor(sinceWatermark) - 60);
    }
    const table = await runCli(['status', '--wide'], dbOnly());
    expect(table.stdout.split('\n')[0]).toMatch(/^object\s+rows\s+watermark\s+lag\s+next run\s+last run\s+status/);
    // No schedule in the config: the nightly default, at 02:00 local time.
    expect(table.stdout).toMatch(
      new RegExp(
        /^Account\s+60\s+\S+ \(SystemModstamp\)\s+(\d+[dhms] ?)+\s+/.source +
          /\d{4}-\d\d-\d\dT\d\d:\d\d:00Z\s+incremental\s+succeeded/.source,
        'm',
      ),
    );
    const narrow = await runCli(['status'], dbOnly());
    expect(narrow.stdout.split('\n')[0]).toMatch(/^object\s+rows\s+lag\s+last run\s+finished\s+next run\s+error$/);
    expect(narrow.stdout).toMatch(/^Account\s+60\s+(\d+[dhms] ?)+\s+succeeded\s+\d+ (s|min) ago\s+in \d+ (min|h)$/m);
  });

  it('runs lists the history newest first, filters by object (any case) and limits', async () => {
    const json = await runCli(['runs', '--json'], dbOnly());
    expect(json.code, json.stderr).toBe(0);
    const runs = (
      JSON.parse(json.stdout) as {
        runs: { id: number; object: string; mode: string; status: string; rowsInserted: number; apiCalls: number }[];
      }
    ).runs;
    expect(runs).toHaveLength(4);
    expect(runs.map((r) => r.id)).toEqual([...runs.map((r) => r.id)].sort((a, b) => b - a));
    const initial = runs.find((r) => r.object === 'Account' && r.mode === 'initial')! as (typeof runs)[number] & {
      bytes: number;
    };
    expect(initial).toMatchObject({ status: 'succeeded', rowsInserted: 60 });
    expect(initial.apiCalls).toBeGreaterThan(0);
    // The Bulk CSV bytes of the initial load (headers excluded).
    expect(initial.bytes).toBeGreaterThan(60 * 10);

    const one = await runCli(['runs', '--object', 'account', '--limit', '1', '--json'], dbOnly());
    const only = (JSON.parse(one.stdout) as { runs: { object: string; mode: string }[] }).runs;
    expect(only).toEqual([expect.objectContaining({ object: 'Account', mode: 'incremental' })]);

    const table = await runCli(['runs', '--object', 'Contact', '--wide'], dbOnly());
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(
      new RegExp(
        /^id\s+object\s+mode\s+status\s+started\s+duration\s+/.source +
          /fetched\s+inserted\s+updated\s+deleted\s+MB\s+api calls\s+bulk jobs/.source,
      ),
    );
    expect(lines.slice(2).map((l) => l.split(/\s+/).slice(1, 4))).toEqual([
      ['Contact', 'incremental', 'succeeded'],
      ['Contact', 'initial', 'succeeded'],
    ]);
    // Without --wide: the start relative to now, and no line wider than 100 characters when not a terminal.
    const narrow = (await runCli(['runs', '--object', 'Contact'], dbOnly())).stdout.trim().split('\n');
    expect(narrow[0]).toMatch(
      /^id\s+object\s+mode\s+status\s+started\s+duration\s+fetched\s+inserted\s+updated\s+error$/,
    );
    expect(narrow.slice(2).map((l) => l.split(/\s+/).slice(1, 4))).toEqual([
      ['Contact', 'incremental', 'succeeded'],
      ['Contact', 'initial', 'succeeded'],
    ]);
    expect(narrow[2]).toMatch(/\ssucceeded\s+\d+ (s|min) ago\s/);
    for (const line of narrow) expect(line.length).toBeLessThanOrEqual(100);

    const bad = await runCli(['runs', '--limit', '0'], dbOnly());
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--limit/);
  });

  it('a live view hides the records deleted in Salesforce', async () => {
    const counts = await withPg(async (client) => {
      expect(await ensureLiveView(client, 'salesforce', 'account')).toBe('account_live');
      // Idempotent, and a table without isdeleted gets no view.
      expect(await ensureLiveView(client, 'salesforce', 'account')).toBe('account_live');
      await client.query('CREATE TABLE salesforce.plain (id text)');
      expect(await ensureLiveView(client, 'salesforce', 'plain')).toBeNull();
      await client.query('DROP TABLE salesforce.plain');
      // Replaced when the table gains a column; left alone (no lock taken) while an analyst reads it otherwise.
      await client.query('CREATE TABLE salesforce.lv (id text, isdeleted boolean)');
      await ensureLiveView(client, 'salesforce', 'lv');
      await client.query('ALTER TABLE salesforce.lv ADD COLUMN extra__c text');
      await ensureLiveView(client, 'salesforce', 'lv');
      const { rows: viewCols } = await client.query(
        'SELECT column_name FROM information_schema.columns ' +
          "WHERE table_schema = 'salesforce' AND table_name = 'lv_live' ORDER BY ordinal_position",
      );
      expect(viewCols.map((c) => c.column_name)).toEqual(['id', 'isdeleted', 'extra__c']);
      const analyst = new pg.Client({ connectionString: db.url });
      await analyst.connect();
      await analyst.query('BEGIN');
      await analyst.query('SELECT * FROM salesforce.lv_live');
      await client.query("SET lock_timeout = '500ms'");
      try {
        expect(await ensureLiveView(client, 'salesforce', 'lv')).toBe('lv_live');
      } finally {
        await client.query('RESET lock_timeout');
        await analyst.end();
      }
      await client.query('DROP TABLE salesforce.lv CASCADE');
      const { rows } = await client.query<{ all: number; live: number; deleted: number }>(
        `SELECT (SELECT count(*)::int FROM salesforce.account) AS all,
                (SELECT count(*)::int FROM salesforce.account_live) AS live,
                (SELECT count(*)::int FROM salesforce.account_live WHERE isdeleted) AS deleted`,
      );
      return rows[0]!;
    });
    const alive = orgRecords(emulator.store, 'Account', { includeDeleted: false }).length;
    expect(counts.all).toBe(60);
    expect(counts.live).toBe(alive);
    expect(counts.live).toBeLessThan(counts.all);
    expect(counts.deleted).toBe(0);
  });

  it('docs writes a data dictionary from catalog comments (Markdown and JSON) without a Salesforce login', async () => {
    await withPg((client) => ensureLiveView(client, 'salesforce', 'account'));
    const md = await runCli(['docs'], dbOnly());
    expect(md.code, md.stderr).toBe(0);
    expect(md.stdout).toMatch(/^# Data dictionary: schema `salesforce`/);
    expect(md.stdout).toContain('## `salesforce.account`');
    expect(md.stdout).toContain('## `salesforce.contact`');
    expect(md.stdout).toMatch(/^\| `id` \| character varying\(18\) \| Record ID \(Salesforce Id, type id\) \|$/m);
    expect(md.stdout).toMatch(
      /^\| `salesforce\.account_live` \| salesforce\.account without the records deleted in Salesforce \|$/m,
    );
    // Small picklists are listed in the column comment.
    expect(md.stdout).toMatch(/^\| `industry` \| character varying\(40\) \| .*Values: /m);

    const out = path.join(dir, 'dictionary.json');
    const json = await runCli(['docs', '--format', 'json', '--out', out], dbOnly());
    expect(json.code, json.stderr).toBe(0);
    expect(json.stdout).toContain(out);
    const dict = JSON.parse(readFileSync(out, 'utf8')) as {
      schema: string;
      tables: {
        name: string;
        kind: string;
        description: string;
        columns: { name: string; type: string; description: string }[];
      }[];
    };
    expect(dict.tables.map((t) => `${t.name}:${t.kind}`)).toEqual([
      'account:table',
      'account_live:view',
      'contact:table',
      'contact_live:view',
    ]);
    const account = dict.tables[0]!;
    expect(account.description).toBe('Account (Salesforce Account)');
    expect(account.columns[0]).toEqual({
      name: 'id',
      type: 'character varying(18)',
      description: 'Record ID (Salesforce Id, type id)',
    });
    expect(account.columns.find((c) => c.name === 'systemmodstamp')!.type).toBe('timestamp with time zone');
  });
});
