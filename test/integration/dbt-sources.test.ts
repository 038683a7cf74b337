// `sfsync dbt-sources` from the spawned CLI, after syncs against the emulator into a real PostgreSQL: the YAML lists
// what the catalog holds, its freshness query runs, a second run changes nothing, and schema drift shows up.
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/index.ts';
import { runCli } from '../support/cli.ts';
import { useTestDatabase } from '../support/db.ts';
import { emulatorEnv } from '../support/emulatorEnv.ts';

const db = useTestDatabase();
let emulator: Emulator;
let syncStarted: Date;
const dir = mkdtempSync(path.join(tmpdir(), 'sfsync-dbt-'));
const out = path.join(dir, 'models', 'sources', 'salesforce.yml');

const dbOnly = (settings: Record<string, string> = {}) => ({ DATABASE_URL: db.url, ...settings });

interface Column {
  name: string;
  data_type: string;
  description?: string;
}
interface Table {
  name: string;
  description?: string;
  config: { loaded_at_query?: string; freshness?: null };
  columns: Column[];
}
interface Source {
  name: string;
  schema: string;
  loader: string;
  config: { freshness: Record<string, { count: number; period: string }> };
  tables: Table[];
}

const sourceOf = (text: string) => {
  const doc = parse(text, { version: '1.1' }) as { version: number; sources: Source[] };
  expect(doc.version).toBe(2);
  expect(doc.sources).toHaveLength(1);
  return doc.sources[0]!;
};

async function withPg<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(db.url);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** What the catalog says, asked independently of sfsync's loader: relation -> [column, comment][] in table order. */
async function catalogColumns(): Promise<Map<string, [string, string | null][]>> {
  const { rows } = await withPg((c) =>
    c.query<{ table_name: string; column_name: string; comment: string | null }>(
      `SELECT table_name, column_name,
              col_description(format('%I.%I', table_schema, table_name)::regclass, ordinal_position) AS comment
       FROM information_schema.columns WHERE table_schema = 'salesforce' ORDER BY table_name, ordinal_position`,
    ),
  );
  const byTable = new Map<string, [string, string | null][]>();
  for (const r of rows) byTable.set(r.table_name, [...(byTable.get(r.table_name) ?? []), [r.column_name, r.comment]]);
  return byTable;
}

async function sync(): Promise<void> {
  const result = await runCli(['sync', '--objects', 'Account,Contact'], emulatorEnv(emulator, db.url));
  if (result.code !== 0) throw new Error(result.stderr);
}

describe('sfsync dbt-sources', () => {
  beforeAll(async () => {
    emulator = await createEmulator({ port: 0, accounts: 15, seed: 5 });
    syncStarted = new Date(Date.now() - 1000);
    await sync();
    // Tables other features keep beside the object tables, found from the catalog alone: a history table of
    // account, and a table sfsync records no runs of.
    await withPg((c) =>
      c.query(`
        CREATE TABLE salesforce.account__history (LIKE salesforce.account, valid_from timestamptz);
        CREATE TABLE salesforce.opportunity_accounts (id text, account_name text);
        COMMENT ON TABLE salesforce.opportunity_accounts IS 'Opportunities with their Account';
      `),
    );
  }, 60_000);
  afterAll(async () => {
    await emulator?.close();
  });

  it('writes every table and view with its columns and descriptions, and a freshness query that runs', async () => {
    const first = await runCli(['dbt-sources', '--out', out], dbOnly());
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe(`Wrote ${out} (source salesforce: 4 tables and 2 views of schema salesforce)\n`);
    const text = readFileSync(out, 'utf8');
    const source = sourceOf(text);
    expect(source).toMatchObject({
      name: 'salesforce',
      schema: 'salesforce',
      loader: 'sfsync',
      config: {
        freshness: { warn_after: { count: 26, period: 'hour' }, error_after: { count: 50, period: 'hour' } },
      },
    });
    const catalog = await catalogColumns();
    expect(source.tables.map((t) => t.name)).toEqual([
      'account',
      'account__history',
      'account_live',
      'contact',
      'contact_live',
      'opportunity_accounts',
    ]);
    expect([...catalog.keys()].sort()).toEqual(source.tables.map((t) => t.name));
    for (const table of source.tables) {
      // Every column in table order; a view or history table describes its columns as its table does.
      expect(table.columns.map((c) => c.name)).toEqual(catalog.get(table.name)!.map(([name]) => name));
      const own = new Map(catalog.get(table.name)!);
      const base = new Map(catalog.get(table.name.replace(/(__history|_live)$/, '')));
      for (const c of table.columns) expect(c.description ?? null).toBe(own.get(c.name) ?? base.get(c.name) ?? null);
    }
    const byName = new Map(source.tables.map((t) => [t.name, t]));
    expect(byName.get('account')!.description).toBe('Account (Salesforce Account)');
    expect(byName.get('account_live')!.description).toBe(
      'salesforce.account without the records deleted in Salesforce',
    );
    expect(byName.get('account_live')!.columns.find((c) => c.name === 'name')).toEqual({
      name: 'name',
      data_type: 'character varying(255)',
      description: 'Account Name (Salesforce Name, type string)',
    });
    expect(byName.get('contact')!.columns.find((c) => c.name === 'systemmodstamp')).toMatchObject({
      data_type: 'timestamp with time zone',
    });
    expect(byName.get('account__history')!.columns.at(-1)).toEqual({
      name: 'valid_from',
      data_type: 'timestamp with time zone',
    });
    // No runs: no freshness, rather than a check dbt cannot make on PostgreSQL.
    expect(byName.get('opportunity_accounts')).toMatchObject({
      description: 'Opportunities with their Account',
      config: { freshness: null },
    });

    // The query, run the way dbt runs a loaded_at_query: the start of the last successful sync of the object.
    for (const name of ['account', 'account__history', 'account_live', 'contact', 'contact_live']) {
      const query = byName.get(name)!.config.loaded_at_query!;
      expect(query, name).toContain(name.startsWith('account') ? "object = 'Account'" : "object = 'Contact'");
      const { rows } = await withPg((c) =>
        c.query<{ max_loaded_at: Date }>(
          `with source_query as (${query}) select (select * from source_query) as max_loaded_at`,
        ),
      );
      expect(rows[0]!.max_loaded_at.getTime()).toBeGreaterThanOrEqual(syncStarted.getTime());
      expect(rows[0]!.max_loaded_at.getTime()).toBeLessThanOrEqual(Date.now());
    }
  });

  it('a second run gives the same bytes and leaves the file alone; stdout gets the same text', async () => {
    const before = readFileSync(out, 'utf8');
    const mtime = statSync(out).mtimeMs;
    const again = await runCli(['dbt-sources', '--out', out], dbOnly());
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toBe(
      `${out} unchanged (source salesforce: 4 tables and 2 views of schema salesforce): not written\n`,
    );
    expect(readFileSync(out, 'utf8')).toBe(before);
    expect(statSync(out).mtimeMs).toBe(mtime);
    const printed = await runCli(['dbt-sources'], dbOnly());
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout).toBe(before);

    const named = await runCli(
      ['dbt-sources', '--name', 'crm', '--warn-after', '90m', '--error-after', '1d'],
      dbOnly(),
    );
    expect(named.code, named.stderr).toBe(0);
    expect(sourceOf(named.stdout)).toMatchObject({
      name: 'crm',
      schema: 'salesforce',
      config: { freshness: { warn_after: { count: 90, period: 'minute' }, error_after: { count: 1, period: 'day' } } },
    });

    const byField = await runCli(['dbt-sources', '--loaded-at-field', 'SystemModstamp'], dbOnly());
    expect(byField.code, byField.stderr).toBe(0);
    const tables = sourceOf(byField.stdout).tables as { name: string; config: Record<string, unknown> }[];
    const account = tables.find((t) => t.name === 'account');
    expect(account?.config).toEqual({ loaded_at_field: 'systemmodstamp' });
    const unknown = await runCli(['dbt-sources', '--loaded-at-field', 'no_such_column'], dbOnly());
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no table of schema salesforce has a column no_such_column');
  });

  it('after schema drift and a sync, the new column is in the table and its view', async () => {
    emulator.admin.addField('Account', {
      name: 'Tier__c',
      label: 'Tier',
      type: 'string',
      length: 20,
      nillable: true,
      custom: true,
    });
    await sync();
    const run = await runCli(['dbt-sources', '--out', out], dbOnly());
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^Updated /);
    const tables = new Map(sourceOf(readFileSync(out, 'utf8')).tables.map((t) => [t.name, t]));
    for (const name of ['account', 'account_live']) {
      expect(
        tables.get(name)!.columns.find((c) => c.name === 'tier__c'),
        name,
      ).toEqual({
        name: 'tier__c',
        data_type: 'character varying(20)',
        description: 'Tier (Salesforce Tier__c, type string)',
      });
    }
    expect(tables.get('contact')!.columns.some((c) => c.name === 'tier__c')).toBe(false);
  });

  it('never replaces a file it did not write, or one edited since, without --force', async () => {
    const mine = path.join(dir, 'mine.yml');
    writeFileSync(mine, 'version: 2\nsources: []\n');
    const refused = await runCli(['dbt-sources', '--out', mine], dbOnly());
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(
      `sfsync: ${mine} was not written by sfsync dbt-sources, or was edited since: pass --force to replace it\n`,
    );
    expect(readFileSync(mine, 'utf8')).toBe('version: 2\nsources: []\n');
    const forced = await runCli(['dbt-sources', '--out', mine, '--force'], dbOnly());
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toMatch(/^Updated /);
    expect(readFileSync(mine, 'utf8')).toBe(readFileSync(out, 'utf8'));

    writeFileSync(out, readFileSync(out, 'utf8').replace('count: 26', 'count: 12'));
    const edited = await runCli(['dbt-sources', '--out', out], dbOnly());
    expect(edited.code).toBe(2);
    expect(edited.stderr).toMatch(/was edited since: pass --force/);
    expect(readFileSync(out, 'utf8')).toContain('count: 12');
  });

  it('is listed in --help, with its flags', async () => {
    const top = await runCli(['--help'], {});
    expect(top.stdout).toMatch(/^ {2}dbt-sources \[options\] +write a dbt sources file/m);
    const help = await runCli(['dbt-sources', '--help'], {});
    expect(help.code).toBe(0);
    for (const flag of ['--out <file>', '--force', '--name <source>', '--warn-after <age>', '--error-after <age>'])
      expect(help.stdout).toContain(flag);
    expect(help.stdout).toContain('(default: "26h")');
  });

  it('says what is wrong in one line: no tables yet, an unwritable path, bad flags', async () => {
    const empty = await runCli(['dbt-sources'], dbOnly({ SFSYNC_SCHEMA: 'nothing_here' }));
    expect(empty.code).toBe(2);
    expect(empty.stdout).toBe('');
    expect(empty.stderr).toBe(
      'sfsync: schema nothing_here has no tables yet: run sfsync sync first ' +
        '(SFSYNC_SCHEMA names the schema it loads)\n',
    );
    const file = path.join(dir, 'a-file');
    writeFileSync(file, 'x');
    const unwritable = await runCli(['dbt-sources', '--out', path.join(file, 'sources.yml')], dbOnly());
    expect(unwritable.code).toBe(2);
    expect(unwritable.stderr).toMatch(/^sfsync: cannot (read|write) --out .*a-file\/sources\.yml: ENOTDIR[^\n]*\n$/);
    const bad = await runCli(['dbt-sources', '--warn-after', '2d', '--error-after', '1d'], dbOnly());
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      'sfsync: --error-after must be at least --warn-after: a table would fail before it warned\n',
    );
  });
});
