// Deletions the way real orgs make them, through the CLI: a hard delete before a full refresh must still be seen, and
// archived activities (queryAll only) are records that exist, not deletions.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/index.ts';
import { runCli, startCli } from '../support/cli.ts';
import { useTestDatabase } from '../support/db.ts';
import { emulatorEnv } from '../support/emulatorEnv.ts';

const db = useTestDatabase();

async function rows(schema: string, sql: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return (await client.query(sql.replaceAll('$schema', `"${schema}"`))).rows;
  } finally {
    await client.end();
  }
}

describe('a full read is a snapshot', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await createEmulator({ port: 0, accounts: 40, seed: 21 });
  });
  afterAll(async () => emulator?.close());

  it('marks deleted the rows a full refresh no longer finds, though getDeleted was never asked', async () => {
    const env = emulatorEnv(emulator, db.url, { SFSYNC_SCHEMA: 'full_refresh' });
    const first = await runCli(['sync', '--objects', 'Account'], env);
    expect(first.code, first.stderr).toBe(0);
    const live = emulator.store.snapshot('Account');
    const gone: string[] = [];
    for (let i = 0; i < live.size && gone.length < 3; i++) {
      const rec = live.at(i);
      if (rec && rec.IsDeleted === false) gone.push(rec.Id);
    }
    // Hard deletes whose getDeleted entries are gone too: only a comparison with a full read can find them.
    for (const id of gone) emulator.store.hardDelete(id);
    emulator.admin.purgeDeletedLog('Account');
    const refresh = await runCli(['sync', '--objects', 'Account', '--full-refresh'], env);
    expect(refresh.code, refresh.stderr).toBe(0);
    const marked = await rows('full_refresh', 'SELECT id FROM $schema.account WHERE isdeleted ORDER BY id');
    expect(marked.map((r) => r.id)).toEqual(expect.arrayContaining(gone));
    const liveIds = await rows('full_refresh', 'SELECT count(*)::int AS n FROM $schema.account_live');
    const expected = emulator.store.snapshot('Account');
    let n = 0;
    for (let i = 0; i < expected.size; i++) if (expected.at(i)?.IsDeleted === false) n++;
    expect(liveIds[0]!.n).toBe(n);
    const verify = await runCli(['verify', '--objects', 'Account'], env);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });
});

describe('archived activities', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await createEmulator({ port: 0, accounts: 30, seed: 22, profile: 'enterprise' });
  });
  afterAll(async () => emulator?.close());

  it('keeps archived Tasks and Events live in reconcile and verify (queryAll has them, query does not)', async () => {
    const env = emulatorEnv(emulator, db.url, { SFSYNC_SCHEMA: 'archived' });
    const sync = await runCli(['sync', '--objects', 'Task,Event'], env);
    expect(sync.code, sync.stderr).toBe(0);
    const archived = await rows(
      'archived',
      `SELECT 'task' AS t, count(*)::int AS n FROM $schema.task WHERE isarchived AND NOT isdeleted
       UNION ALL SELECT 'event', count(*)::int FROM $schema.event WHERE isarchived AND NOT isdeleted`,
    );
    for (const r of archived) expect(r.n, `archived ${r.t} rows loaded`).toBeGreaterThan(0);
    const reconcile = await runCli(['reconcile', '--objects', 'Task,Event'], env);
    expect(reconcile.code, reconcile.stderr).toBe(0);
    expect(reconcile.stdout).toMatch(/Task\s.*\b0 newly marked deleted/);
    expect(reconcile.stdout).toMatch(/Event\s.*\b0 newly marked deleted/);
    const after = await rows(
      'archived',
      `SELECT count(*)::int AS n FROM $schema.task WHERE isarchived AND isdeleted
       UNION ALL SELECT count(*)::int FROM $schema.event WHERE isarchived AND isdeleted`,
    );
    expect(after.map((r) => r.n)).toEqual([0, 0]);
    const verify = await runCli(['verify', '--objects', 'Task,Event', '--sample', '20'], env);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });
});

describe('a stale read with an equal cursor', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await createEmulator({ port: 0, accounts: 30, seed: 23 });
  });
  afterAll(async () => emulator?.close());

  it('does not roll back formula values refreshed after a backfill job read its snapshot', async () => {
    const env = emulatorEnv(emulator, db.url, { SFSYNC_SCHEMA: 'stale_read' });
    const first = await runCli(['sync', '--objects', 'Invoice__c'], env);
    expect(first.code, first.stderr).toBe(0);
    // The backfill's job is created (its snapshot taken) now, but its first poll answers only after a while.
    emulator.admin.addFault({ route: /GET .*\/jobs\/query\/[^/?]+$/, kind: 'delay', ms: 4000 });
    const seen = emulator.admin.requestLog().length;
    const backfill = startCli(
      ['backfill', '--objects', 'Invoice__c', '--since', '2000-01-01', '--window', '600mo'],
      env,
    );
    await waitFor(() => newJobCreated(emulator, seen));
    // Meanwhile the formula's results change (no SystemModstamp change) and sfsync refreshes them.
    emulator.store.setFormula('Invoice__c', 'Summary__c', (rec) => `Refreshed ${rec.Name}`);
    // The backfill holds the object lock only for its own DDL and commits, not while Salesforce runs its job.
    let refresh = await runCli(['sync', '--formulas-only', '--objects', 'Invoice__c'], env);
    for (let i = 0; i < 20 && /another sfsync process/.test(refresh.stderr); i++)
      refresh = await runCli(['sync', '--formulas-only', '--objects', 'Invoice__c'], env);
    expect(refresh.code, refresh.stderr).toBe(0);
    const done = await backfill.done;
    expect(done.code, done.stdout + done.stderr).toBe(0);
    const stale = await rows(
      'stale_read',
      'SELECT count(*)::int AS n FROM $schema.invoice__c ' +
        "WHERE summary__c IS NOT NULL AND summary__c NOT LIKE 'Refreshed %'",
    );
    expect(stale[0]!.n).toBe(0);
  });
});

/** A Bulk query job created since the request log held `seen` entries (its snapshot is then taken). */
function newJobCreated(emulator: Emulator, seen: number): boolean {
  return emulator.admin
    .requestLog()
    .slice(seen)
    .some((l) => l.method === 'POST' && /\/jobs\/query$/.test(l.path));
}

async function waitFor(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 25));
  if (!ok()) throw new Error('timed out waiting for the emulator');
}
