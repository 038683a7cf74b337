// What enterprise orgs have and the demo org lacks, through the spawned CLI against the emulator's enterprise profile
// (emulator/enterprise.ts) over HTTP and a real PostgreSQL: objects getDeleted refuses, getDeleted refusing for other
// reasons, objects without IsDeleted, names past PostgreSQL's 63 bytes, and fields of type json.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ENTERPRISE } from '../../emulator/enterprise.ts';
import { createEmulator, type Emulator } from '../../emulator/index.ts';
import { field } from '../../emulator/schema.ts';
import type { SfRecord } from '../../emulator/types.ts';
import { columnNameOf, tableNameOf } from '../../schemas/pgNames.ts';
import { type CliResult, runCli } from '../support/cli.ts';
import { useTestDatabase } from '../support/db.ts';
import { emulatorEnv } from '../support/emulatorEnv.ts';
import { orgRecords } from '../support/org.ts';

const SCHEMA = 'salesforce';
const db = useTestDatabase('each');
let emulator: Emulator;
let client: pg.Client;
const dir = mkdtempSync(path.join(tmpdir(), 'sfsync-enterprise-'));

function env(settings: Record<string, string> = {}): Record<string, string> {
  return emulatorEnv(emulator, db.url, { SFSYNC_SCHEMA: SCHEMA, ...settings });
}

async function sync(objects: string[], settings: Record<string, string> = {}): Promise<CliResult> {
  return runCli(['sync', '--objects', objects.join(',')], env(settings));
}

async function syncSucceeded(objects: string[], settings: Record<string, string> = {}): Promise<CliResult> {
  const r = await sync(objects, settings);
  expect(r.code, r.stderr).toBe(0);
  return r;
}

/** A config file with per-object options, as SFSYNC_CONFIG. */
function configFile(objects: Record<string, unknown>[]): string {
  const file = path.join(dir, `config-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify({ objects }));
  return file;
}

async function runsOf(object: string): Promise<{ mode: string; status: string; deleted: number }[]> {
  const { rows } = await client.query(
    'SELECT mode, status, rows_deleted::int AS deleted FROM sfsync.runs WHERE object = $1 ORDER BY id',
    [object],
  );
  return rows;
}

async function deletedFlags(table: string, ids: string[]): Promise<Record<string, boolean>> {
  const { rows } = await client.query(`SELECT id, isdeleted FROM ${SCHEMA}."${table}" WHERE id = ANY($1)`, [ids]);
  return Object.fromEntries(rows.map((r) => [r.id, r.isdeleted]));
}

const liveIds = (object: string) => orgRecords(emulator.store, object, { includeDeleted: false }).map((r) => r.Id);
const getDeletedCalls = (object: string) =>
  emulator.admin.requestLog().filter((e) => e.path.includes(`/sobjects/${object}/deleted/`));

beforeEach(async () => {
  // The record clock runs 2 minutes behind the Date header, so getDeleted, which covers whole minutes up to the
  // server's now (docs/salesforce.md#getdeleted), already lists a deletion made a moment ago.
  emulator = await createEmulator({
    profile: 'enterprise',
    accounts: 30,
    seed: 5,
    clockStart: new Date(Date.now() - 2 * 60_000),
  });
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
});

afterEach(async () => {
  await client?.end();
  await emulator?.close();
});

describe('objects getDeleted cannot answer for', () => {
  it('syncs an object that is not replicateable without getDeleted, and reconciles its Ids on a schedule', async () => {
    const object = ENTERPRISE.shareObject;
    expect(emulator.store.object(object)?.replicateable).toBe(false);
    await syncSucceeded([object]);
    // A delta: getDeleted would answer 400 INVALID_TYPE; it is not asked, and the default schedule (24 h) is not due.
    await syncSucceeded([object]);
    expect(getDeletedCalls(object)).toEqual([]);
    expect(await runsOf(object)).toEqual([
      { mode: 'initial', status: 'succeeded', deleted: 0 },
      { mode: 'incremental', status: 'succeeded', deleted: 0 },
    ]);

    // A share row goes away; only a reconciliation can tell. With reconcileHours the schedule falls due at once.
    const [gone, kept] = liveIds(object);
    emulator.store.hardDelete(gone!);
    await new Promise((r) => setTimeout(r, 1_100));
    await syncSucceeded([object], { SFSYNC_CONFIG: configFile([{ name: object, reconcileHours: 0.0003 }]) });
    expect(getDeletedCalls(object)).toEqual([]);
    expect((await runsOf(object)).slice(2)).toEqual([
      { mode: 'incremental', status: 'succeeded', deleted: 0 },
      { mode: 'reconcile', status: 'succeeded', deleted: 1 },
    ]);
    expect(await deletedFlags('accountshare', [gone!, kept!])).toEqual({ [gone!]: true, [kept!]: false });
  });

  it.each([
    [404, 'NOT_FOUND'],
    [403, 'INSUFFICIENT_ACCESS'],
  ])('takes getDeleted %s %s as "reconcile instead", never as a failed sync', async (status, errorCode) => {
    const object = 'Event';
    await syncSucceeded([object]);
    const [gone, kept] = liveIds(object);
    emulator.store.hardDelete(gone!);
    emulator.admin.addFault({ route: `/sobjects/${object}/deleted/`, kind: 'status', status, errorCode });
    await syncSucceeded([object]);
    expect(getDeletedCalls(object).map((e) => e.status)).toEqual([status]);
    expect((await runsOf(object)).slice(1)).toEqual([
      { mode: 'incremental', status: 'succeeded', deleted: 0 },
      { mode: 'reconcile', status: 'succeeded', deleted: 1 },
    ]);
    expect(await deletedFlags('event', [gone!, kept!])).toEqual({ [gone!]: true, [kept!]: false });
  });
});

describe('objects without IsDeleted', () => {
  it('marks the records getDeleted lists, adding the isdeleted column the object lacks (rows kept)', async () => {
    // An object whose describe has no IsDeleted while getDeleted still lists its deletes: Event with the field taken
    // out of describe (the enterprise profile's own such object, TaskStatus, has no Recycle Bin and an empty log).
    const object = 'Event';
    emulator.store.removeField(object, 'IsDeleted');
    await syncSucceeded([object]);
    const { rows: before } = await client.query(
      `SELECT count(*)::int AS n FROM information_schema.columns
       WHERE table_schema = $1 AND table_name = 'event' AND column_name = 'isdeleted'`,
      [SCHEMA],
    );
    expect(before[0].n).toBe(0);
    const [gone, kept] = liveIds(object);
    emulator.store.hardDelete(gone!);
    await syncSucceeded([object]);
    expect(await runsOf(object)).toEqual([
      { mode: 'initial', status: 'succeeded', deleted: 0 },
      { mode: 'incremental', status: 'succeeded', deleted: 1 },
    ]);
    expect(await deletedFlags('event', [gone!, kept!])).toEqual({ [gone!]: true, [kept!]: false });
    const { rows: live } = await client.query(`SELECT count(*)::int AS n FROM ${SCHEMA}.event_live WHERE id = $1`, [
      gone,
    ]);
    expect(live[0].n).toBe(0);
    const { rows: total } = await client.query(`SELECT count(*)::int AS n FROM ${SCHEMA}.event`);
    expect(total[0].n).toBe(orgRecords(emulator.store, object).length + 1);
  });
});

describe('names past 63 bytes', () => {
  it('loads a long History object and long geolocation components under shortened names, documented', async () => {
    const objects = [ENTERPRISE.renewalObject, ENTERPRISE.renewalHistory, 'Account'];
    await syncSucceeded(objects);
    await syncSucceeded(objects);
    const history = tableNameOf(ENTERPRISE.renewalHistory);
    const renewal = tableNameOf(ENTERPRISE.renewalObject);
    expect(history).not.toBe(ENTERPRISE.renewalHistory.toLowerCase());
    expect(Buffer.byteLength(history)).toBeLessThanOrEqual(63);
    // Names that fit stay as they always were.
    expect(renewal).toBe(ENTERPRISE.renewalObject.toLowerCase());
    const { rows: rels } = await client.query<{ name: string; kind: string; reads: string | null }>(
      `SELECT c.relname AS name, c.relkind AS kind,
              (SELECT string_agg(DISTINCT d.refobjid::regclass::text, ',') FROM pg_rewrite r
               JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid AND d.refobjid <> c.oid
               WHERE r.ev_class = c.oid) AS reads
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 ORDER BY 1`,
      [SCHEMA],
    );
    const names = rels.map((r) => r.name);
    expect(names).toEqual(expect.arrayContaining([history, renewal, 'account', 'account_live']));
    expect(names).toContain('account_systemmodstamp_idx');
    // Each table has its own `_live` view over itself (their names once cut to the same 63 bytes).
    const views = rels.filter((r) => r.kind === 'v' && r.name !== 'account_live');
    expect(views).toHaveLength(2);
    expect(views.map((v) => v.reads?.replace(`${SCHEMA}.`, '')).sort()).toEqual([history, renewal].sort());
    // And its own cursor index.
    const { rows: indexed } = await client.query(
      `SELECT DISTINCT i.indrelid::regclass::text AS t FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
       WHERE NOT i.indisprimary AND c.relnamespace = $1::regnamespace`,
      [SCHEMA],
    );
    expect(indexed.map((r) => r.t.replace(`${SCHEMA}.`, '')).sort()).toEqual(['account', history, renewal].sort());

    // Every History row, and the geolocation components under two distinct columns with the org's values.
    const { rows: count } = await client.query(`SELECT count(*)::int AS n FROM ${SCHEMA}."${history}"`);
    expect(count[0].n).toBe(orgRecords(emulator.store, ENTERPRISE.renewalHistory).length);
    const [lat, lng] = [columnNameOf(ENTERPRISE.geolocationLatitude), columnNameOf(ENTERPRISE.geolocationLongitude)];
    expect(lat).not.toBe(lng);
    const { rows: geo } = await client.query(
      `SELECT id, "${lat}"::text AS lat, "${lng}"::text AS lng FROM ${SCHEMA}.account`,
    );
    const org = new Map(orgRecords(emulator.store, 'Account').map((r) => [r.Id, r]));
    for (const row of geo) {
      const rec = org.get(row.id)!;
      const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
      expect([num(row.lat), num(row.lng)]).toEqual([
        num(rec[ENTERPRISE.geolocationLatitude]),
        num(rec[ENTERPRISE.geolocationLongitude]),
      ]);
    }
    expect(geo.some((r) => r.lat !== null)).toBe(true);

    // The data dictionary names the Salesforce objects and fields behind the shortened names.
    const docs = await runCli(['docs', '--format', 'json'], { DATABASE_URL: db.url, SFSYNC_SCHEMA: SCHEMA });
    expect(docs.code, docs.stderr).toBe(0);
    const dict = JSON.parse(docs.stdout) as {
      tables: { name: string; description: string | null; columns: { name: string; description: string | null }[] }[];
    };
    const historyDoc = dict.tables.find((t) => t.name === history)!;
    expect(historyDoc.description).toContain(`Salesforce ${ENTERPRISE.renewalHistory}`);
    const accountDoc = dict.tables.find((t) => t.name === 'account')!;
    expect(accountDoc.columns.find((c) => c.name === lat)?.description).toContain(
      `Salesforce ${ENTERPRISE.geolocationLatitude}`,
    );
    // `status` counts the rows of the shortened table.
    const status = await runCli(['status', '--json'], { DATABASE_URL: db.url, SFSYNC_SCHEMA: SCHEMA });
    const entry = (
      JSON.parse(status.stdout) as { objects: { object: string; table: string; rows: number }[] }
    ).objects.find((o) => o.object === ENTERPRISE.renewalHistory);
    expect(entry).toMatchObject({ table: `${SCHEMA}.${history}`, rows: count[0].n });
  });
});

describe('fields of type json', () => {
  /** JSON that a double would not survive, nested values, arrays, escapes, bare scalars. */
  const PAYLOADS = [
    '{"source":"Internal \\"CRM\\" import","score":42,"revenue":9007199254740993,"big":6.02E23,"r":1234567.0,' +
      '"tags":["Strategic","7"],"hq":{"city":"東京","lat":40.7128,"ok":true,"none":null},"note":"line\\nbreak"}',
    '[3,"At Risk",null,true,-0.000001]',
    '"a JSON string"',
    '12345678901234567890.123456789',
    'false',
    null,
  ];
  const payloadOf = (rec: SfRecord) => PAYLOADS[Number.parseInt(rec.Id.slice(-6, -3), 36) % PAYLOADS.length] ?? null;

  it('loads a json field as jsonb, the same value through Bulk API 2.0 and through REST', async () => {
    const object = 'Event';
    emulator.store.addField(object, field('Payload__c', 'json', { label: 'Payload', custom: true }), payloadOf);
    const events = orgRecords(emulator.store, object);
    expect(new Set(events.map((r) => payloadOf(r))).size).toBe(PAYLOADS.length);
    await syncSucceeded([object], { SFSYNC_SCHEMA: 'viabulk' });
    // The same records through REST: Bulk refuses the job, so the load falls back to REST queryAll.
    emulator.admin.addFault({
      route: /^POST \/services\/data\/v[\d.]+\/jobs\/query$/,
      kind: 'status',
      status: 400,
      errorCode: 'INVALIDENTITY',
      message: 'Entity is not supported by the Bulk API',
    });
    await syncSucceeded([object], { SFSYNC_SCHEMA: 'viarest' });
    // Bulk jobs: the first load's, none for the second (its one job was refused before it existed).
    const { rows: jobs } = await client.query(
      `SELECT target_schema AS s, coalesce(cardinality(bulk_job_ids), 0) AS jobs FROM sfsync.runs ORDER BY id`,
    );
    expect(jobs.map((j) => [j.s, j.jobs > 0])).toEqual([
      ['viabulk', true],
      ['viarest', false],
    ]);

    const { rows: types } = await client.query(
      `SELECT table_schema AS s, data_type AS t FROM information_schema.columns
       WHERE table_name = 'event' AND column_name = 'payload__c' ORDER BY 1`,
    );
    expect(types).toEqual([
      { s: 'viabulk', t: 'jsonb' },
      { s: 'viarest', t: 'jsonb' },
    ]);
    // Row for row, every column equal either way (jsonb compares values: key order and spacing do not count).
    const { rows: diff } = await client.query(
      `(SELECT * FROM viabulk.event EXCEPT SELECT * FROM viarest.event)
       UNION ALL (SELECT * FROM viarest.event EXCEPT SELECT * FROM viabulk.event)`,
    );
    expect(diff).toEqual([]);
    // And equal to the org's JSON text, every digit kept.
    const { rows: loaded } = await client.query(`SELECT id, payload__c::text AS p FROM viarest.event`);
    expect(loaded).toHaveLength(events.length);
    for (const rec of events) {
      const want = payloadOf(rec);
      const { rows } = await client.query(
        `SELECT (payload__c IS NOT DISTINCT FROM $2::jsonb) AS same FROM viarest.event WHERE id = $1`,
        [rec.Id, want],
      );
      expect(rows[0]?.same, `${rec.Id}: ${want}`).toBe(true);
    }
    const { rows: exact } = await client.query(
      `SELECT payload__c ->> 'revenue' AS revenue, payload__c ->> 'r' AS r
       FROM viarest.event WHERE payload__c ? 'revenue' LIMIT 1`,
    );
    expect(exact).toEqual([{ revenue: '9007199254740993', r: '1234567.0' }]);

    // verify reads a sample over REST and compares it field by field with what Bulk loaded.
    const verify = await runCli(['verify', '--objects', object, '--sample', '100'], env({ SFSYNC_SCHEMA: 'viabulk' }));
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });

  it("loads the enterprise Account's json field as jsonb, equal to the org's JSON text", async () => {
    await syncSucceeded(['Account']);
    const column = columnNameOf(ENTERPRISE.jsonField);
    const accounts = orgRecords(emulator.store, 'Account');
    expect(accounts.some((r) => typeof r[ENTERPRISE.jsonField] === 'string')).toBe(true);
    for (const rec of accounts) {
      const { rows } = await client.query(
        `SELECT pg_typeof("${column}")::text AS type, ("${column}" IS NOT DISTINCT FROM $2::jsonb) AS same
         FROM ${SCHEMA}.account WHERE id = $1`,
        [rec.Id, rec[ENTERPRISE.jsonField] ?? null],
      );
      expect(rows[0], rec.Id).toEqual({ type: 'jsonb', same: true });
    }
  });
});
