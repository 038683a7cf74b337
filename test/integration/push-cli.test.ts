// `sfsync push` through the CLI against the emulator and PostgreSQL: an upsert of 250,000 rows from a generated table
// with 1 % bad rows, a rerun of only the failed rows after fixing them, then a sync that brings the values back.
// (1,000,000 rows, with throughput and memory: scripts/bench/push.ts.)
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/index.ts';
import { runCli } from '../support/cli.ts';
import { useTestDatabase } from '../support/db.ts';
import { emulatorEnv } from '../support/emulatorEnv.ts';

const ROWS = 250_000;
const db = useTestDatabase();
let emulator: Emulator;
let client: pg.Client;

const env = (schema = 'mirror') => emulatorEnv(emulator, db.url, { SFSYNC_SCHEMA: schema });
const pushed = () => emulator.store.snapshot('Account');

function orgByKey(): Map<string, Record<string, unknown>> {
  const snap = pushed();
  const byKey = new Map<string, Record<string, unknown>>();
  for (let i = 0; i < snap.size; i++) {
    const rec = snap.at(i);
    if (rec && typeof rec.Push_Key__c === 'string' && rec.IsDeleted !== true) byKey.set(rec.Push_Key__c, rec);
  }
  return byKey;
}

describe('sfsync push (CLI, emulator, PostgreSQL)', () => {
  beforeAll(async () => {
    emulator = await createEmulator({ port: 0, accounts: 20, seed: 11 });
    emulator.admin.addField('Account', {
      name: 'Push_Key__c',
      label: 'Push Key',
      type: 'string',
      length: 40,
      nillable: true,
      custom: true,
      externalId: true,
    });
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
    // Every 100th row's AccountNumber is longer than the field's 40 characters: Salesforce refuses that row alone.
    await client.query(`
      CREATE SCHEMA src;
      CREATE TABLE src.accounts AS
        SELECT 'K-' || i AS push_key__c, 'Account ' || i AS name,
               CASE WHEN i % 100 = 0 THEN repeat('n', 50) ELSE 'AN' || i END AS accountnumber,
               (i % 5000)::int AS numberofemployees,
               CASE WHEN i % 7 = 0 THEN NULL ELSE 'said "hi", then
left' END AS description
        FROM generate_series(1, ${ROWS}) AS i;
      CREATE TABLE src.bad_columns AS SELECT 'K-1' AS push_key__c, 1 AS no_such_field;
      CREATE TABLE src.wrong_type AS SELECT 'K-1' AS push_key__c, now() AS numberofemployees;
    `);
  });
  afterAll(async () => {
    await client?.end();
    await emulator?.close();
  });

  const upsert = ['push', '--object', 'Account', '--operation', 'upsert', '--external-id', 'Push_Key__c'];

  it('refuses unknown, read-only and mistyped columns before sending anything (exit 2)', async () => {
    const before = emulator.admin.counters().bulkIngestJobs;
    const unknown = await runCli([...upsert, '--from', 'src.bad_columns'], env());
    expect(unknown.code, unknown.stderr).toBe(2);
    expect(unknown.stderr).toContain('"no_such_field"');
    const typed = await runCli([...upsert, '--from', 'src.wrong_type'], env());
    expect(typed.code, typed.stderr).toBe(2);
    expect(typed.stderr).toContain('"numberofemployees"');
    const readOnly = await runCli([...upsert, '--sql', "SELECT 'K-1' AS push_key__c, now() AS createddate"], env());
    expect(readOnly.code, readOnly.stderr).toBe(2);
    expect(readOnly.stderr).toContain('read-only');
    const noExt = await runCli([...upsert.slice(0, 5), '--external-id', 'Name', '--from', 'src.accounts'], env());
    expect(noExt.code, noExt.stderr).toBe(2);
    expect(noExt.stderr).toContain('not an External ID field');
    expect(emulator.admin.counters().bulkIngestJobs).toBe(before);
  });

  it('--dry-run shows the mapping, the counts and a CSV sample, and sends nothing', async () => {
    const before = emulator.admin.counters().bulkIngestJobs;
    const dry = await runCli([...upsert, '--from', 'src.accounts', '--dry-run', '--job-size-mb', '4'], env());
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`${ROWS.toLocaleString('en-US')} rows in`);
    expect(dry.stdout).toMatch(/push_key__c\s+text\s+Push_Key__c\s+string/);
    expect(dry.stdout).toContain('Push_Key__c,Name,AccountNumber,NumberOfEmployees,Description\nK-1,Account 1,AN1,1,');
    expect(emulator.admin.counters().bulkIngestJobs).toBe(before);
  });

  it('upserts, records the bad rows with their errors, reruns them once fixed, and syncs the values back', async () => {
    const started = Date.now();
    const first = await runCli([...upsert, '--from', 'src.accounts', '--job-size-mb', '4'], env());
    expect(first.code, first.stderr).toBe(1);
    expect(first.stdout).toMatch(new RegExp(`STRING_TOO_LONG\\s+${(ROWS / 100).toLocaleString('en-US')}\\b`));
    const runId = Number(/push run (\d+)/.exec(first.stdout)?.[1]);
    expect(first.stderr).toContain(`--only-failed ${runId}`);
    const jobs = Number(/rows in (\d+) jobs/.exec(first.stdout)?.[1]);
    expect(jobs).toBeGreaterThan(1);

    const results = await client.query(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE error_code IS NOT NULL)::int AS failed,
              count(*) FILTER (WHERE created)::int AS created,
              count(DISTINCT row_key) FILTER (WHERE error_code = 'STRING_TOO_LONG')::int AS bad_keys
       FROM sfsync.push_results WHERE run_id = $1`,
      [runId],
    );
    expect(results.rows[0]).toEqual({ n: ROWS, failed: ROWS / 100, created: ROWS - ROWS / 100, bad_keys: ROWS / 100 });
    const message = await client.query(
      `SELECT message FROM sfsync.push_results WHERE run_id = $1 AND row_key = 'K-100'`,
      [runId],
    );
    expect(message.rows[0]?.message).toContain('data value too large');
    let org = orgByKey();
    expect(org.size).toBe(ROWS - ROWS / 100);
    expect(org.has('K-100')).toBe(false);
    expect(org.get('K-7')).toMatchObject({ Name: 'Account 7', AccountNumber: 'AN7', Description: null });

    await client.query(
      "UPDATE src.accounts SET accountnumber = 'FIXED' || push_key__c WHERE length(accountnumber) > 40",
    );
    const retry = await runCli([...upsert, '--from', 'src.accounts', '--only-failed', String(runId)], env());
    expect(retry.code, retry.stderr).toBe(0);
    expect(retry.stdout).toContain(`${(ROWS / 100).toLocaleString('en-US')} rows in 1 job`);
    org = orgByKey();
    expect(org.size).toBe(ROWS);
    expect(org.get('K-100')).toMatchObject({ AccountNumber: 'FIXEDK-100' });

    const sync = await runCli(['sync', '--objects', 'Account'], env('mirror'));
    expect(sync.code, sync.stderr).toBe(0);
    const diff = await client.query(`
      SELECT count(*)::int AS n FROM src.accounts s LEFT JOIN mirror.account a ON a.push_key__c = s.push_key__c
      WHERE a.id IS NULL OR (a.name, a.accountnumber, a.numberofemployees::numeric, a.description)
        IS DISTINCT FROM (s.name, s.accountnumber, s.numberofemployees::numeric, s.description)`);
    expect(diff.rows[0].n).toBe(0);
    expect(Date.now() - started).toBeLessThan(60_000);
  });
});
