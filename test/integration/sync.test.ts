// The main job end to end: emulator over HTTP -> sfsync pipeline -> real PostgreSQL. Every test has an org and a
// schema of its own, so each runs alone as well as after the others.
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/index.ts';
import { compareTable } from '../support/compare.ts';
import { useTestDatabase } from '../support/db.ts';
import { emulatorEnv } from '../support/emulatorEnv.ts';
import { orgRecords } from '../support/org.ts';
import { byObject, describeSpec, syncConfig, syncInProcess } from '../support/sync.ts';

const OBJECTS = ['Account', 'Contact', 'Opportunity', 'Invoice__c'];
const db = useTestDatabase();
let emulator: Emulator;
let schema: string;
let tests = 0;

const config = (objects: string[], extra: Record<string, string> = {}) =>
  syncConfig(emulatorEnv(emulator, db.url, { ...extra, SFSYNC_SCHEMA: schema }), objects);

const allRecords = (object: string) => orgRecords(emulator.store, object);

async function expectTableMatchesOrg(client: pg.Client, object: string): Promise<number> {
  const spec = await describeSpec(config([object]), object);
  const result = await compareTable(client, schema, spec, allRecords(object));
  expect(result.missing).toEqual([]);
  expect(result.extra).toEqual([]);
  expect(result.mismatches.slice(0, 5)).toEqual([]);
  return result.compared;
}

/** The object's first run: an initial load that succeeds. */
async function initialLoad(object: string): Promise<void> {
  const s = byObject(await syncInProcess(config([object]))).get(object);
  expect(s, String(s?.error)).toMatchObject({ status: 'succeeded', mode: 'initial' });
}

describe('sfsync sync against the emulator and PostgreSQL', () => {
  let client: pg.Client;

  beforeAll(async () => {
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  });
  beforeEach(async () => {
    emulator = await createEmulator({ port: 0, accounts: 300, seed: 7 });
    schema = `sync_${++tests}`;
  });
  afterEach(async () => {
    await emulator?.close();
  });
  afterAll(async () => {
    await client?.end();
  });

  it('loads every record of Account, Contact, Opportunity and Invoice__c exactly once via Bulk API 2.0', async () => {
    const summaries = byObject(await syncInProcess(config(OBJECTS)));
    for (const object of OBJECTS) {
      const s = summaries.get(object);
      expect(s?.status, `${object}: ${String(s?.error)}`).toBe('succeeded');
      expect(s?.mode).toBe('initial');
      expect(s?.via).toBe('bulk');
      const compared = await expectTableMatchesOrg(client, object);
      expect(compared).toBe(allRecords(object).length);
      expect(compared).toBeGreaterThan(100);
    }
    const { rows } = await client.query(
      `SELECT count(*)::int AS n, count(DISTINCT id)::int AS d FROM "${schema}".account WHERE isdeleted`,
    );
    expect(rows[0].n).toBeGreaterThan(0);
    expect(rows[0].n).toBe(rows[0].d);
  });

  it('applies exactly the changes made in Salesforce through REST, and a third run changes nothing', async () => {
    await initialLoad('Account');
    const accounts = allRecords('Account').filter((r) => r.IsDeleted === false);
    const deleted = allRecords('Account').find((r) => r.IsDeleted === true)!;
    for (const rec of accounts.slice(0, 7))
      emulator.store.update(rec.Id, { Name: `Renamed ${rec.Id} "quoted", é 漢字 🚀\nline2` });
    const inserted = emulator.store.insert('Account', { Name: 'Brand new account' });
    emulator.store.softDelete(accounts[10]!.Id);
    emulator.store.undelete(deleted.Id);
    const changed = 7 + 1 + 1 + 1;

    const second = byObject(await syncInProcess(config(['Account'])));
    const s = second.get('Account')!;
    expect(s.status, String(s.error)).toBe('succeeded');
    expect(s.mode).toBe('incremental');
    expect(s.via).toBe('rest');
    expect(s.rowsInserted).toBe(1);
    expect(s.rowsUpdated).toBe(changed - 1);
    // About as many records fetched as changed: the overlap window may re-read a few older ones.
    expect(s.rowsFetched).toBeGreaterThanOrEqual(changed);
    expect(s.rowsFetched).toBeLessThanOrEqual(changed + 5);
    await expectTableMatchesOrg(client, 'Account');
    const { rows } = await client.query(`SELECT name, isdeleted FROM "${schema}".account WHERE id = $1`, [inserted.Id]);
    expect(rows).toEqual([{ name: 'Brand new account', isdeleted: false }]);

    const third = byObject(await syncInProcess(config(['Account'])));
    expect(third.get('Account')).toMatchObject({
      status: 'succeeded',
      mode: 'incremental',
      rowsInserted: 0,
      rowsUpdated: 0,
    });
  });

  it('picks up, in the following run, a record modified while a sync was running', async () => {
    const lead = allRecords('Lead').find((r) => r.IsDeleted === false)!;
    emulator.admin.clearRequestLog();
    emulator.admin.addFault({ route: /\/results/, times: 1, kind: 'delay', ms: 1500 });
    const running = syncInProcess(config(['Lead'])).then(byObject);
    for (
      let i = 0;
      i < 100 && !emulator.admin.requestLog().some((e) => e.method === 'POST' && e.path.includes('/jobs/query'));
      i++
    ) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 200));
    emulator.store.update(lead.Id, { Company: 'Changed during the sync' });
    expect((await running).get('Lead')?.status).toBe('succeeded');

    const next = byObject(await syncInProcess(config(['Lead'])));
    expect(next.get('Lead')).toMatchObject({ status: 'succeeded', mode: 'incremental' });
    const { rows } = await client.query(`SELECT company FROM "${schema}".lead WHERE id = $1`, [lead.Id]);
    expect(rows).toEqual([{ company: 'Changed during the sync' }]);
    await expectTableMatchesOrg(client, 'Lead');
  });

  it('sends a delta larger than SFSYNC_BULK_THRESHOLD through a Bulk job', async () => {
    await initialLoad('Contact');
    const live = allRecords('Contact')
      .filter((r) => r.IsDeleted === false)
      .slice(0, 12);
    for (const rec of live) emulator.store.update(rec.Id, { Email: `bulk.delta.${rec.Id}@example.com` });
    const result = byObject(await syncInProcess(config(['Contact'], { SFSYNC_BULK_THRESHOLD: '5' }))).get('Contact')!;
    expect(result).toMatchObject({ status: 'succeeded', mode: 'incremental', via: 'bulk', rowsUpdated: 12 });
    await expectTableMatchesOrg(client, 'Contact');
  });

  it('falls back to REST queryAll when the Bulk API refuses the object, discovered at run time', async () => {
    emulator.store.object('Task')!.bulkQueryable = false;
    const result = byObject(await syncInProcess(config(['Task']))).get('Task')!;
    expect(result, String(result.error)).toMatchObject({ status: 'succeeded', mode: 'initial', via: 'rest' });
    expect(result.rowsInserted).toBe(allRecords('Task').length);
    await expectTableMatchesOrg(client, 'Task');
  });
});
