// Completeness: nothing is lost. Late commits, ties across a page boundary, hard deletes (getDeleted and
// reconciliation), formula changes without a SystemModstamp bump, new fields back-filled, and verify. Emulator over
// HTTP + PostgreSQL.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/index.ts';
import { silentLogger } from '../../lib/log.ts';
import { refreshFormulasAll } from '../../pipelines/completeness/formulas.ts';
import { formatStatusTable } from '../../cli/status.ts';
import type { RunSummary } from '../../pipelines/sync/syncObject.ts';
import { compareTable } from '../support/compare.ts';
import { useTestDatabase } from '../support/db.ts';
import { orgRecords } from '../support/org.ts';
import { emulatorEnv } from '../support/emulatorEnv.ts';
import { describeSpec, syncConfig, syncInProcess } from '../support/sync.ts';
import { collectStatus } from '../../pipelines/runtime/status.ts';
import { reconcileAll } from '../../pipelines/completeness/reconcileAll.ts';
import { verifyAll } from '../../pipelines/completeness/verify.ts';
import { withRunContext } from '../../pipelines/runtime/runContext.ts';

const SCHEMA = 'salesforce';
// Every test gets its own org and warehouse, both already synced once (below), so each runs alone.
const db = useTestDatabase('each');
let emulator: Emulator;
let client: pg.Client;

const config = (objects: string[]) => syncConfig(emulatorEnv(emulator, db.url, { SFSYNC_SCHEMA: SCHEMA }), objects);

/** One sync of `object`, which must succeed. */
async function syncSucceeded(object: string): Promise<RunSummary> {
  const [summary] = await syncInProcess(config([object]));
  expect(summary?.status, String(summary?.error)).toBe('succeeded');
  return summary!;
}

async function expectTableMatchesOrg(object: string): Promise<void> {
  const spec = await describeSpec(config([object]), object);
  const result = await compareTable(client, SCHEMA, spec, orgRecords(emulator.store, object));
  expect(result.missing).toEqual([]);
  expect(result.mismatches.slice(0, 5)).toEqual([]);
}

async function watermarkOf(object: string): Promise<string> {
  const { rows } = await client.query(
    'SELECT to_char(watermark AT TIME ZONE \'UTC\', \'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"\') AS w ' +
      'FROM sfsync.watermarks WHERE object = $1',
    [object],
  );
  return rows[0].w;
}

const liveIds = (object: string) => orgRecords(emulator.store, object, { includeDeleted: false }).map((r) => r.Id);
const minutes = (n: number) => n * 60_000;

describe('completeness: nothing is lost between syncs', () => {
  beforeEach(async () => {
    // The org's record clock runs 2 minutes behind its Date header (commit lag), so getDeleted, which covers whole
    // minutes up to the server's now (docs/salesforce.md#getdeleted), already lists a deletion made a moment ago.
    emulator = await createEmulator({ port: 0, accounts: 60, seed: 11, clockStart: new Date(Date.now() - minutes(2)) });
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
    await syncSucceeded('Account');
    await syncSucceeded('Invoice__c');
  });
  afterEach(async () => {
    await client?.end();
    await emulator?.close();
  });

  it('caps the watermark at server time minus the overlap: a late commit with an older stamp is loaded', async () => {
    const [a, b] = liveIds('Account');
    const fresh = emulator.store.update(a!, { Name: 'Changed just now' });
    await syncSucceeded('Account');
    const watermark = await watermarkOf('Account');
    // Without the cap the watermark would be the fresh record's stamp, and the next window would start 10 min before
    // it: too late for a record committed now with a stamp 13 minutes older.
    expect(Date.parse(watermark)).toBeLessThan(Date.parse(String(fresh.SystemModstamp)) - minutes(5));
    const late = new Date(Date.parse(watermark) - minutes(5)).toISOString();
    expect(Date.parse(late)).toBeLessThan(Date.parse(String(fresh.SystemModstamp)) - minutes(10));
    emulator.store.update(b!, { Name: 'Committed late' }, { modstamp: late });
    await syncSucceeded('Account');
    const { rows } = await client.query('SELECT name FROM salesforce.account WHERE id = $1', [b]);
    expect(rows).toEqual([{ name: 'Committed late' }]);
  });

  it('loads every record sharing one cursor value across a REST page boundary (2,000 per page)', async () => {
    const stamp = new Date(Date.now() - minutes(1)).toISOString();
    const ids: string[] = [];
    for (let i = 0; i < 2_150; i++) {
      const rec = emulator.store.insert('Account', { Name: `Tie ${i}` });
      emulator.store.update(rec.Id, {}, { modstamp: stamp });
      ids.push(rec.Id);
    }
    const s = await syncSucceeded('Account');
    expect(s.via).toBe('rest');
    const { rows } = await client.query('SELECT count(*)::int AS n FROM salesforce.account WHERE id = ANY($1)', [ids]);
    expect(rows[0].n).toBe(ids.length);
  });

  it('marks hard deletes found by getDeleted as deleted (rows kept) and counts them in runs.rows_deleted', async () => {
    const gone = liveIds('Account').slice(5, 8);
    for (const id of gone) emulator.store.hardDelete(id);
    const s = await syncSucceeded('Account');
    expect(s.rowsDeleted).toBe(3);
    const { rows } = await client.query('SELECT id, isdeleted FROM salesforce.account WHERE id = ANY($1) ORDER BY id', [
      gone,
    ]);
    expect(rows).toEqual([...gone].sort().map((id) => ({ id, isdeleted: true })));
    const { rows: runs } = await client.query(
      "SELECT rows_deleted::int AS d FROM sfsync.runs WHERE object = 'Account' ORDER BY id DESC LIMIT 1",
    );
    expect(runs[0].d).toBe(3);
  });

  it('reconciles hard deletes getDeleted no longer reports (purged delete log): in sync and reconcile', async () => {
    const [first, second] = liveIds('Account').slice(10, 12);
    emulator.store.hardDelete(first!);
    emulator.admin.purgeDeletedLog('Account');
    await syncSucceeded('Account');
    const { rows: r1 } = await client.query('SELECT isdeleted FROM salesforce.account WHERE id = $1', [first]);
    expect(r1).toEqual([{ isdeleted: true }]);
    const { rows: modes } = await client.query(
      "SELECT mode, rows_deleted::int AS d FROM sfsync.runs WHERE object = 'Account' ORDER BY id DESC LIMIT 1",
    );
    expect(modes).toEqual([{ mode: 'reconcile', d: 1 }]);

    emulator.store.hardDelete(second!);
    emulator.admin.purgeDeletedLog('Account');
    const results = await withRunContext(config(['Account']), silentLogger(), reconcileAll);
    expect(results).toMatchObject([{ object: 'Account', status: 'succeeded', found: 1 }]);
    const { rows: r2 } = await client.query('SELECT isdeleted FROM salesforce.account WHERE id = $1', [second]);
    expect(r2).toEqual([{ isdeleted: true }]);
  });

  it('keeps the run "running" after its rows commit, until the reconciliation that follows is done too', async () => {
    const [gone] = liveIds('Account').slice(20, 21);
    emulator.store.hardDelete(gone!);
    emulator.admin.purgeDeletedLog('Account');
    // The reconciliation's Bulk job (this run's only one: the delta is read over REST) is held up for a while.
    emulator.admin.addFault({ route: /^POST \/services\/data\/v[\d.]+\/jobs\/query$/, kind: 'delay', ms: 1_500 });
    const { rows: last } = await client.query(
      "SELECT coalesce(max(id), 0)::int AS id FROM sfsync.runs WHERE object = 'Account'",
    );
    const run = syncSucceeded('Account');
    const latest = async () => {
      const { rows } = await client.query(
        "SELECT status, rows_fetched FROM sfsync.runs WHERE object = 'Account' AND mode = 'incremental' AND id > $1",
        [last[0].id],
      );
      return rows[0] as { status: string; rows_fetched: string | null } | undefined;
    };
    // The load's commit writes the run's counts; the status must not say succeeded before the object is finished.
    let committed: { status: string } | undefined;
    for (let i = 0; i < 200 && !committed; i++) {
      const r = await latest();
      if (r?.rows_fetched != null) committed = r;
      else await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(committed?.status).toBe('running');
    await run;
    expect((await latest())?.status).toBe('succeeded');
  });

  it('refreshes a formula field whose calculatedFormula changed, without any SystemModstamp change', async () => {
    const before = orgRecords(emulator.store, 'Invoice__c').map((r) => String(r.SystemModstamp));
    emulator.store.setFormula(
      'Invoice__c',
      'Total_With_Tax__c',
      (rec) => (rec.Amount__c === null ? null : (Number(rec.Amount__c) * 1.5).toFixed(2)),
      'Amount__c * 1.5',
    );
    expect(orgRecords(emulator.store, 'Invoice__c').map((r) => String(r.SystemModstamp))).toEqual(before);
    await syncSucceeded('Invoice__c');
    await expectTableMatchesOrg('Invoice__c');
    const { rows } = await client.query("SELECT kind, field FROM sfsync.schema_events WHERE object = 'Invoice__c'");
    expect(rows).toEqual([{ kind: 'formula-changed', field: 'Total_With_Tax__c' }]);
  });

  it('sync --formulas-only refreshes formula results even when the formula text did not change', async () => {
    emulator.store.setFormula('Invoice__c', 'Total_With_Tax__c', () => '7.00');
    const [result] = await withRunContext(config(['Invoice__c']), silentLogger(), refreshFormulasAll);
    expect(result).toMatchObject({ object: 'Invoice__c', status: 'succeeded' });
    expect(result!.fields).toBeGreaterThan(0);
    expect(result!.updated).toBeGreaterThan(0);
    await expectTableMatchesOrg('Invoice__c');
  });

  it('adds a new field as a column with values back-filled for the rows already loaded', async () => {
    emulator.store.addField(
      'Account',
      { name: 'Tier__c', label: 'Tier', type: 'string', length: 20, nillable: true, custom: true },
      (rec) => `T-${rec.Id.slice(-2)}`,
    );
    await syncSucceeded('Account');
    const { rows } = await client.query(
      'SELECT count(*)::int AS n, count(tier__c)::int AS filled FROM salesforce.account WHERE isdeleted IS NOT TRUE',
    );
    expect(rows[0].filled).toBe(rows[0].n);
    await expectTableMatchesOrg('Account');
    const { rows: events } = await client.query(
      "SELECT kind, field FROM sfsync.schema_events WHERE object = 'Account'",
    );
    expect(events).toEqual([{ kind: 'added', field: 'Tier__c' }]);
    // `sfsync status` shows the drift event, in JSON and in the table.
    const pool = new pg.Pool({ connectionString: db.url });
    try {
      const status = await collectStatus(pool, SCHEMA);
      expect(status.find((e) => e.object === 'Account')?.schemaEvents).toMatchObject([
        { field: 'Tier__c', kind: 'added' },
      ]);
      expect(formatStatusTable(status)).toMatch(/Schema changes \(newest first\):\n.*Account\.Tier__c: added/);
    } finally {
      await pool.end();
    }
  });

  it('keeps the column and its data when a field is removed in Salesforce, and records the drift', async () => {
    await syncSucceeded('Account');
    const before = await client.query('SELECT count(website)::int AS n FROM salesforce.account');
    expect(before.rows[0].n).toBeGreaterThan(0);
    emulator.store.removeField('Account', 'Website');
    await syncSucceeded('Account');
    const after = await client.query('SELECT count(website)::int AS n FROM salesforce.account');
    expect(after.rows[0].n).toBe(before.rows[0].n);
    const { rows } = await client.query(
      "SELECT kind FROM sfsync.schema_events WHERE object = 'Account' AND field = 'Website'",
    );
    expect(rows).toEqual([{ kind: 'removed' }]);
  });

  it('verify agrees after the syncs, and reports a warehouse row that differs from Salesforce', async () => {
    await syncSucceeded('Account');
    const ok = await withRunContext(config(['Account', 'Invoice__c']), silentLogger(), (ctx) => verifyAll(ctx, 30));
    expect(ok.map((r) => [r.object, r.ok, r.problem, r.sampleDiffs])).toEqual([
      ['Account', true, undefined, []],
      ['Invoice__c', true, undefined, []],
    ]);
    expect(ok[0]!.sampled).toBe(30);
    const victim = liveIds('Account')[0]!;
    await client.query("UPDATE salesforce.account SET name = 'tampered', isdeleted = true WHERE id = $1", [victim]);
    const [bad] = await withRunContext(config(['Account']), silentLogger(), (ctx) => verifyAll(ctx, 0));
    expect(bad).toMatchObject({ object: 'Account', ok: false });
    expect(bad!.whLive).toBe(bad!.sfLive - 1);
  });

  it("refreshes formula fields on the object's schedule (formulaRefreshHours) even if no formula changed", async () => {
    await syncSucceeded('Invoice__c');
    emulator.store.setFormula('Invoice__c', 'Summary__c', (rec) => `Scheduled ${rec.Name}`);
    const stale = "SELECT count(*)::int AS n FROM salesforce.invoice__c WHERE summary__c NOT LIKE 'Scheduled %'";
    await syncSucceeded('Invoice__c');
    expect((await client.query(stale)).rows[0].n).toBeGreaterThan(0);

    const dir = mkdtempSync(path.join(tmpdir(), 'sfsync-formulas-'));
    writeFileSync(
      path.join(dir, 'sfsync.config.json'),
      JSON.stringify({ objects: [{ name: 'Invoice__c', formulaRefreshHours: 0.0002 }] }),
    );
    const scheduled = syncConfig(emulatorEnv(emulator, db.url, { SFSYNC_SCHEMA: SCHEMA }), undefined, dir);
    await new Promise((r) => setTimeout(r, 1000));
    const [summary] = await syncInProcess(scheduled);
    expect(summary?.status, String(summary?.error)).toBe('succeeded');
    expect((await client.query(stale)).rows[0].n).toBe(0);
    const { rows } = await client.query(
      "SELECT mode, status FROM sfsync.runs WHERE object = 'Invoice__c' ORDER BY id DESC LIMIT 1",
    );
    expect(rows).toEqual([{ mode: 'formulas', status: 'succeeded' }]);
  });
});
