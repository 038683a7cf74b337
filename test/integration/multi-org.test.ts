// Several orgs in one config file, through the CLI: two emulators (two orgs with their own data and org ids), secrets
// by reference (environment variables, files), each org in its own schema with its own budget; the refusals; and a
// single-org install from before orgs upgraded in place, its sync continuing from the stored watermark.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import knexFactory from 'knex';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/index.ts';
import * as orgsMigration from '../../migrations/0008_orgs.ts';
import { freePort } from '../../loaders/embedded.ts';
import { lastLine, runCli, startCli } from '../support/cli.ts';
import { useTestDatabase } from '../support/db.ts';
import { emulatorEnv } from '../support/emulatorEnv.ts';
import { orgRecords } from '../support/org.ts';
import { type Exposition, parsePrometheusText } from '../support/promText.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'sfsync-multi-org-'));

function writeConfig(name: string, config: unknown): string {
  const file = path.join(dir, name);
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

/** Id and Name of every record of the object, deleted ones too (what sync keeps). */
function orgRows(emulator: Emulator, object: string): { id: string; name: string }[] {
  return orgRecords(emulator.store, object)
    .map((r) => ({ id: r.Id as string, name: r.Name as string }))
    .sort((a, b) => a.id.localeCompare(b.id));
}

async function tableRows(client: pg.Client, schema: string, table: string): Promise<{ id: string; name: string }[]> {
  const { rows } = await client.query(`SELECT id, name FROM "${schema}"."${table}"`);
  return (rows as { id: string; name: string }[]).sort((a, b) => a.id.localeCompare(b.id));
}

/** A text table's lines, its header first, without the dashes under the header; the first `n` words of each. */
const tableLines = (stdout: string, n: number) =>
  stdout
    .trim()
    .split('\n')
    .filter((l) => !/^-+ /.test(l))
    .map((l) => l.split(/\s+/).slice(0, n).join(' '));

/** Scrapes /metrics until `done` holds; the bound only keeps a broken scheduler from hanging the suite. */
async function scrapeUntil(port: number, done: (m: Exposition) => boolean): Promise<Exposition> {
  let last = '';
  for (let i = 0; i < 300; i++) {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => undefined);
    if (res?.status === 200) {
      last = await res.text();
      const parsed = parsePrometheusText(last);
      if (done(parsed)) return parsed;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`gave up waiting; last scrape:\n${last}`);
}

/** One line on stderr, no stack trace. */
function oneErrorLine(stderr: string): string {
  expect(stderr).not.toMatch(/^\s+at /m);
  return lastLine(stderr);
}

describe('several orgs in one config file', () => {
  const db = useTestDatabase();
  let east: Emulator;
  let west: Emulator;
  let client: pg.Client;
  let env: Record<string, string>;
  const live = (emulator: Emulator) => orgRecords(emulator.store, 'Account').filter((r) => r.IsDeleted === false);

  beforeAll(async () => {
    [east, west] = await Promise.all([
      createEmulator({ port: 0, accounts: 24, seed: 31, orgNumber: 101 }),
      createEmulator({ port: 0, accounts: 12, seed: 32, orgNumber: 202 }),
    ]);
    // East's key as a file beside the config (a relative path), west's in an environment variable.
    mkdirSync(path.join(dir, 'keys'));
    copyFileSync(east.privateKeyPath, path.join(dir, 'keys', 'east.pem'));
    const file = writeConfig('orgs.json', {
      orgs: [
        {
          name: 'east',
          loginUrl: east.loginUrl,
          clientId: { env: 'EAST_CLIENT_ID' },
          username: east.username,
          privateKey: { file: 'keys/east.pem' },
          objects: ['Account', 'Contact'],
        },
        {
          name: 'west',
          loginUrl: west.loginUrl,
          clientId: west.clientId,
          username: west.username,
          privateKey: { env: 'WEST_PRIVATE_KEY' },
          schema: 'crm_west',
          objects: ['Account'],
        },
      ],
    });
    env = {
      DATABASE_URL: db.url,
      SFSYNC_CONFIG: file,
      EAST_CLIENT_ID: east.clientId,
      WEST_PRIVATE_KEY: readFileSync(west.privateKeyPath, 'utf8'),
    };
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await Promise.all([east?.close(), west?.close()]);
  });

  it('sync without --org loads each org into its own schema and records which org each schema holds', async () => {
    const run = await runCli(['sync'], env);
    expect(run.code, run.stderr).toBe(0);
    expect(tableLines(run.stdout, 3)).toEqual([
      'org object mode',
      'east Account initial',
      'east Contact initial',
      'west Account initial',
    ]);

    expect(await tableRows(client, 'salesforce_east', 'account')).toEqual(orgRows(east, 'Account'));
    expect(await tableRows(client, 'salesforce_east', 'contact')).toEqual(orgRows(east, 'Contact'));
    expect(await tableRows(client, 'crm_west', 'account')).toEqual(orgRows(west, 'Account'));
    // The orgs' data differ, so the comparisons above tell them apart.
    expect(orgRows(east, 'Account')).not.toEqual(orgRows(west, 'Account'));
    const { rows: orgs } = await client.query(
      'SELECT schema, name, salesforce_org_id FROM sfsync.orgs ORDER BY schema',
    );
    expect(orgs).toEqual([
      { schema: 'crm_west', name: 'west', salesforce_org_id: west.orgId },
      { schema: 'salesforce_east', name: 'east', salesforce_org_id: east.orgId },
    ]);
    expect(east.orgId).not.toBe(west.orgId);
  });

  it('--org runs that org only', async () => {
    const eastAccount = live(east)[0]!;
    const westAccount = live(west)[0]!;
    east.store.update(eastAccount.Id, { Name: 'East renamed' });
    west.store.update(westAccount.Id, { Name: 'West renamed' });
    const run = await runCli(['sync', '--org', 'west'], env);
    expect(run.code, run.stderr).toBe(0);
    expect(tableLines(run.stdout, 3)).toEqual(['object mode result', 'Account incremental 1']);

    expect(await tableRows(client, 'crm_west', 'account')).toEqual(orgRows(west, 'Account'));
    const { rows } = await client.query('SELECT name FROM salesforce_east.account WHERE id = $1', [eastAccount.Id]);
    expect(rows).toEqual([{ name: eastAccount.Name }]);
    expect(eastAccount.Name).not.toBe('East renamed');
  });

  it("one org's budget stop leaves the other synced and exits 4 naming the org", async () => {
    // docs/salesforce.md#limits: east's org already uses 90% of its daily API allowance (the guard stops at 80%).
    east.admin.setApiUsage(13_500, 15_000);
    try {
      const westAccount = live(west)[1]!;
      west.store.update(westAccount.Id, { Name: 'West renamed again' });
      const run = await runCli(['sync'], env);
      expect(run.code, run.stderr).toBe(4);
      expect(oneErrorLine(run.stderr)).toMatch(
        new RegExp(
          "^sfsync: org east: partial run: API budget: DailyApiRequests: 135\\d\\d of the org's 15000 in use, " +
            '.*; not started: Account, Contact$',
        ),
      );
      expect(run.stdout).toMatch(/^east\s+Account\s+NOT STARTED: API budget/m);
      expect(run.stdout).toMatch(/^west\s+Account\s+incremental\s+\d+ read/m);
      expect(await tableRows(client, 'crm_west', 'account')).toEqual(orgRows(west, 'Account'));
      // East's change of the previous test is still not loaded: nothing of east ran.
      expect(await tableRows(client, 'salesforce_east', 'account')).not.toEqual(orgRows(east, 'Account'));
    } finally {
      east.admin.setApiUsage(0, 15_000);
    }
    const again = await runCli(['sync', '--org', 'east'], env);
    expect(again.code, again.stderr).toBe(0);
    expect(await tableRows(client, 'salesforce_east', 'account')).toEqual(orgRows(east, 'Account'));
  });

  it('status and runs show each org; --org filters', async () => {
    const status = await runCli(['status', '--wide'], env);
    expect(status.code, status.stderr).toBe(0);
    expect(tableLines(status.stdout, 3)).toEqual([
      'org object rows',
      `east Account ${orgRows(east, 'Account').length}`,
      `east Contact ${orgRows(east, 'Contact').length}`,
      `west Account ${orgRows(west, 'Account').length}`,
    ]);

    const one = await runCli(['status', '--org', 'west', '--json'], env);
    expect(one.code, one.stderr).toBe(0);
    const json = JSON.parse(one.stdout);
    expect(json).toMatchObject({ org: 'west', schema: 'crm_west' });
    expect(json.objects.map((o: { object: string }) => o.object)).toEqual(['Account']);

    const runs = await runCli(['runs', '--limit', '50', '--json'], env);
    expect(runs.code, runs.stderr).toBe(0);
    const byOrg = new Map<string, string[]>();
    for (const r of JSON.parse(runs.stdout).runs as { org: string; object: string; schema: string }[])
      byOrg.set(`${r.org} ${r.schema}`, [...(byOrg.get(`${r.org} ${r.schema}`) ?? []), r.object]);
    // east: two initial loads, then Account and Contact again; west: an initial load and two incremental runs.
    expect(byOrg.get('east salesforce_east')?.sort()).toEqual(['Account', 'Account', 'Contact', 'Contact']);
    expect(byOrg.get('west crm_west')).toEqual(['Account', 'Account', 'Account']);
    const table = await runCli(['runs', '--org', 'east'], env);
    expect(table.stdout).toMatch(/^id\s+object\s+mode/);
    expect(table.stdout).not.toMatch(/west|crm_west/);
  });

  it("schedule runs each org's own groups, and /metrics labels every series with the org", async () => {
    const orgs = JSON.parse(readFileSync(env.SFSYNC_CONFIG!, 'utf8')).orgs as Record<string, unknown>[];
    const scheduled = writeConfig('scheduled.json', {
      orgs: [
        { ...orgs[0], schedule: [{ cron: '*/2 * * * * *', objects: ['Contact'] }] },
        { ...orgs[1], schedule: '*/3 * * * * *' },
      ],
    });
    const port = await freePort();
    const args = ['schedule', '--metrics-port', String(port), '--metrics-host', '127.0.0.1'];
    const { child, done } = startCli([...args, '--max-lag-minutes', '10000000'], { ...env, SFSYNC_CONFIG: scheduled });
    try {
      const ran = (m: Exposition, org: string, object: string) =>
        (m.value('sfsync_runs_total', { org, object, status: 'succeeded' }) ?? 0) >= 1;
      const m = await scrapeUntil(port, (e) => ran(e, 'east', 'Contact') && ran(e, 'west', 'Account'));
      // East's group names Contact only; west's schedule syncs its configured objects.
      expect(m.value('sfsync_runs_total', { org: 'east', object: 'Account' })).toBeUndefined();
      expect(m.value('sfsync_lag_seconds', { org: 'west', object: 'Account' })).toBeGreaterThan(0);
      expect(m.value('sfsync_api_calls_total', { org: 'east' })).toBeGreaterThan(0);
      expect(m.value('sfsync_api_calls_total', { org: 'west' })).toBeGreaterThan(0);
      child.kill('SIGTERM');
      const result = await done;
      expect(result.code, result.stderr).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('refuses to sync a schema that holds another Salesforce org: one line, exit 2, nothing written', async () => {
    const copy = writeConfig('copy.json', {
      orgs: [
        {
          name: 'copy',
          loginUrl: west.loginUrl,
          clientId: west.clientId,
          username: west.username,
          privateKey: { env: 'WEST_PRIVATE_KEY' },
          schema: 'salesforce_east',
          objects: ['Account'],
        },
      ],
    });
    const before = await tableRows(client, 'salesforce_east', 'account');
    const run = await runCli(['sync'], { ...env, SFSYNC_CONFIG: copy });
    expect(run.code).toBe(2);
    expect(oneErrorLine(run.stderr)).toBe(
      `sfsync: org copy: schema salesforce_east holds Salesforce org ${east.orgId} (as org east), but the login is ` +
        `to org ${west.orgId}: give org copy a schema of its own (a refreshed sandbox is a new org: see README, ` +
        'Several orgs)',
    );
    expect(await tableRows(client, 'salesforce_east', 'account')).toEqual(before);
  });

  it("push records its org: --only-failed does not resend another org's run", async () => {
    const sql = "SELECT id, name || ' pushed' AS name FROM salesforce_east.account WHERE NOT isdeleted LIMIT 2";
    const push = await runCli(
      ['push', '--org', 'east', '--object', 'Account', '--operation', 'update', '--sql', sql],
      env,
    );
    expect(push.code, push.stderr).toBe(0);
    const { rows } = await client.query('SELECT id::int, target_schema FROM sfsync.push_runs ORDER BY id DESC LIMIT 1');
    expect(rows[0].target_schema).toBe('salesforce_east');
    expect(live(east).filter((r) => String(r.Name).endsWith(' pushed'))).toHaveLength(2);
    const args = ['push', '--object', 'Account', '--operation', 'update', '--sql', sql];
    const other = await runCli([...args, '--org', 'west', '--only-failed', String(rows[0].id)], env);
    expect(other.code).toBe(2);
    expect(oneErrorLine(other.stderr)).toBe(`sfsync: --only-failed ${rows[0].id}: no such push run of org west`);
  });

  it('refuses an inline secret, two orgs in one schema and an unknown --org', async () => {
    const org = { name: 'east', loginUrl: east.loginUrl, clientId: east.clientId, username: east.username };
    const inline = writeConfig('inline.json', { orgs: [{ ...org, privateKey: '-----BEGIN PRIVATE KEY-----...' }] });
    const a = await runCli(['sync'], { ...env, SFSYNC_CONFIG: inline });
    expect(a.code).toBe(2);
    expect(oneErrorLine(a.stderr)).toContain("orgs.0.privateKey: inline secrets are refused: write {env: 'VARIABLE'}");
    expect(a.stderr).not.toContain('BEGIN PRIVATE KEY');

    const twins = writeConfig('twins.json', {
      orgs: [
        { ...org, privateKey: { file: 'keys/east.pem' } },
        { ...org, name: 'east2', privateKey: { file: 'keys/east.pem' }, schema: 'salesforce_east' },
      ],
    });
    const b = await runCli(['status'], { ...env, SFSYNC_CONFIG: twins });
    expect(b.code).toBe(2);
    expect(oneErrorLine(b.stderr)).toBe(
      'sfsync: orgs: east and east2 both use schema salesforce_east: each org needs a schema of its own ' +
        '(its tables and sfsync state live there)',
    );

    const c = await runCli(['sync', '--org', 'easst'], env);
    expect(c.code).toBe(2);
    expect(oneErrorLine(c.stderr)).toBe(
      "sfsync: --org: 'easst' (did you mean east?) is not an org of the config file (orgs: east, west)",
    );
  });
});

describe('a single-org install from before orgs', () => {
  const db = useTestDatabase();
  let emulator: Emulator;
  let client: pg.Client;

  beforeAll(async () => {
    emulator = await createEmulator({ port: 0, accounts: 20, seed: 33 });
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await emulator?.close();
  });

  it('upgrades with `sfsync migrate` and keeps syncing from its watermark', async () => {
    const env = emulatorEnv(emulator, db.url, { SFSYNC_SCHEMA: 'legacy' });
    const first = await runCli(['sync', '--objects', 'Account'], env);
    expect(first.code, first.stderr).toBe(0);
    // Back to the layout before 0008 (its own down, then unrecorded): the state as the old sfsync left it.
    const knex = knexFactory({ client: 'pg', connection: db.url });
    try {
      await orgsMigration.down(knex);
    } finally {
      await knex.destroy();
    }
    await client.query('DELETE FROM sfsync.knex_migrations WHERE name = $1', [orgsMigration.name]);
    const { rows: gone } = await client.query("SELECT to_regclass('sfsync.orgs') AS t");
    expect(gone).toEqual([{ t: null }]);
    const { rows: marks } = await client.query(
      "SELECT watermark FROM sfsync.watermarks WHERE target_schema = 'legacy' AND object = 'Account'",
    );
    const watermark = (marks[0].watermark as Date).getTime();

    const changed = emulator.store.snapshot('Account');
    for (let i = 0; i < 3; i++) emulator.store.update(changed.at(i)!.Id, { Name: `Changed after upgrade ${i}` });

    const migrate = await runCli(['migrate'], env);
    expect(migrate.code, migrate.stderr).toBe(0);
    expect(migrate.stdout).toContain('  schema legacy: org default\n');

    const next = await runCli(['sync', '--objects', 'Account'], env);
    expect(next.code, next.stderr).toBe(0);
    const { rows: runs } = await client.query(
      `SELECT mode, status, rows_fetched::int AS fetched, window_from FROM sfsync.runs
       WHERE target_schema = 'legacy' ORDER BY id`,
    );
    expect(runs.map((r) => [r.mode, r.status])).toEqual([
      ['initial', 'succeeded'],
      ['incremental', 'succeeded'],
    ]);
    // From the stored watermark less the overlap (SFSYNC_OVERLAP_MINUTES, 10): not a reload.
    expect((runs[1].window_from as Date).getTime()).toBe(watermark - 10 * 60_000);
    expect(runs[1].fetched).toBeGreaterThanOrEqual(3);
    expect(runs[1].fetched).toBeLessThan(orgRows(emulator, 'Account').length);
    expect(await tableRows(client, 'legacy', 'account')).toEqual(orgRows(emulator, 'Account'));
    const { rows: orgs } = await client.query('SELECT schema, name, salesforce_org_id FROM sfsync.orgs');
    expect(orgs).toEqual([{ schema: 'legacy', name: 'default', salesforce_org_id: emulator.orgId }]);
  });
});
