// The main job end to end: emulator over HTTP -> sfsync pipeline -> real PostgreSQL.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/index.ts';
import { describeObject } from '../../extractors/describe.ts';
import { loadConfig } from '../../lib/config.ts';
import { silentLogger } from '../../lib/log.ts';
import type { RunSummary } from '../../pipelines/sync/syncObject.ts';
import { compareTable } from '../support/compare.ts';
import { useTestDatabase } from '../support/db.ts';
import { orgRecords } from '../support/org.ts';
import { emulatorEnv } from '../support/emulatorEnv.ts';
import { syncAll } from '../../pipelines/sync/syncAll.ts';
import { withRunContext } from '../../pipelines/runtime/runContext.ts';

const OBJECTS = ['Account', 'Contact', 'Opportunity', 'Invoice__c'];
const SCHEMA = 'salesforce';
const db = useTestDatabase();
let emulator: Emulator;

function config(objects = OBJECTS, extra: Record<string, string> = {}) {
  return loadConfig(
    {
      ...extra,
      ...emulatorEnv(emulator, db.url),
      SFSYNC_SCHEMA: SCHEMA,
      LOG_LEVEL: 'silent',
    },
    { objects: objects.join(',') },
  );
}

async function sync(objects = OBJECTS, extra: Record<string, string> = {}): Promise<Map<string, RunSummary>> {
  const summaries = await withRunContext(config(objects, extra), silentLogger(), (ctx) => syncAll(ctx, false));
  return new Map(summaries.map((s) => [s.object, s]));
}

const allRecords = (object: string) => orgRecords(emulator.store, object);

async function expectTableMatchesOrg(client: pg.Client, object: string): Promise<number> {
  const { spec } = await withRunContext(config([object]), silentLogger(), (ctx) => describeObject(ctx.sf, object));
  const result = await compareTable(client, SCHEMA, spec, allRecords(object));
  expect(result.missing).toEqual([]);
  expect(result.extra).toEqual([]);
  expect(result.mismatches.slice(0, 5)).toEqual([]);
  return result.compared;
}

describe('sfsync sync against the emulator and PostgreSQL', () => {
  let client: pg.Client;

  beforeAll(async () => {
    emulator = await createEmulator({ port: 0, accounts: 300, seed: 7 });
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await emulator?.close();
  });

  it('loads every record of Account, Contact, Opportunity and Invoice__c exactly once through Bulk API 2.0', async () => {
    const summaries = await sync();
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
      'SELECT count(*)::int AS n, count(DISTINCT id)::int AS d FROM salesforce.account WHERE isdeleted',
    );
    expect(rows[0].n).toBeGreaterThan(0);
    expect(rows[0].n).toBe(rows[0].d);
  });

  it('applies exactly the changes made in Salesforce through REST, and a third run changes nothing', async () => {
    const accounts = allRecords('Account').filter((r) => r.IsDeleted === false);
    const deleted = allRecords('Account').find((r) => r.IsDeleted === true)!;
    for (const rec of accounts.slice(0, 7))
      emulator.store.update(rec.Id, { Name: `Renamed ${rec.Id} "quoted", é 漢字 🚀\nline2` });
    const inserted = emulator.store.insert('Account', { Name: 'Brand new account' });
    emulator.store.softDelete(accounts[10]!.Id);
    emulator.store.undelete(deleted.Id);
    const changed = 7 + 1 + 1 + 1;

    const second = await sync(['Account']);
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
    const { rows } = await client.query('SELECT name, isdeleted FROM salesforce.account WHERE id = $1', [inserted.Id]);
    expect(rows).toEqual([{ name: 'Brand new account', isdeleted: false }]);

    const third = await sync(['Account']);
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
    const running = sync(['Lead']);
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

    const next = await sync(['Lead']);
    expect(next.get('Lead')).toMatchObject({ status: 'succeeded', mode: 'incremental' });
    const { rows } = await client.query('SELECT company FROM salesforce.lead WHERE id = $1', [lead.Id]);
    expect(rows).toEqual([{ company: 'Changed during the sync' }]);
    await expectTableMatchesOrg(client, 'Lead');
  });

  it('sends a delta larger than SFSYNC_BULK_THRESHOLD through a Bulk job', async () => {
    const live = allRecords('Contact')
      .filter((r) => r.IsDeleted === false)
      .slice(0, 12);
    for (const rec of live) emulator.store.update(rec.Id, { Email: `bulk.delta.${rec.Id}@example.com` });
    const result = (await sync(['Contact'], { SFSYNC_BULK_THRESHOLD: '5' })).get('Contact')!;
    expect(result).toMatchObject({ status: 'succeeded', mode: 'incremental', via: 'bulk', rowsUpdated: 12 });
    await expectTableMatchesOrg(client, 'Contact');
  });

  it('falls back to REST queryAll when the Bulk API refuses the object, discovered at run time', async () => {
    emulator.store.object('Task')!.bulkQueryable = false;
    try {
      const result = (await sync(['Task'])).get('Task')!;
      expect(result, String(result.error)).toMatchObject({ status: 'succeeded', mode: 'initial', via: 'rest' });
      expect(result.rowsInserted).toBe(allRecords('Task').length);
      await expectTableMatchesOrg(client, 'Task');
    } finally {
      emulator.store.object('Task')!.bulkQueryable = true;
    }
  });
});
