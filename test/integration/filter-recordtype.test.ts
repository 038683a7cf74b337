// The commonest per-object filter, one record type (config objects[].where = "RecordType.DeveloperName = '...'"),
// through the spawned CLI against the emulator over HTTP and a real PostgreSQL: only that record type's Opportunities
// are loaded; one moved to another record type (an edit of the record itself, RecordTypeId) is flagged and leaves
// `opportunity_live`, and comes back when moved back; one moved into the record type appears; a filter naming a field
// RecordType lacks stops the command (docs/salesforce.md#soql-filters).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/index.ts';
import type { SfRecord } from '../../emulator/types.ts';
import { type CliResult, runCli } from '../support/cli.ts';
import { useTestDatabase } from '../support/db.ts';
import { api, login } from '../support/emulatorClient.ts';
import { emulatorEnv } from '../support/emulatorEnv.ts';
import { orgRecords } from '../support/org.ts';

const SCHEMA = 'salesforce';
const ENTERPRISE = "RecordType.DeveloperName = 'Enterprise'";
const db = useTestDatabase('each');
const dir = mkdtempSync(path.join(tmpdir(), 'sfsync-filter-recordtype-'));
let emulator: Emulator;
let client: pg.Client;

async function sync(where: string, settings: Record<string, string> = {}): Promise<CliResult> {
  const file = path.join(dir, `config-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify({ objects: [{ name: 'Opportunity', where }] }));
  return runCli(['sync'], emulatorEnv(emulator, db.url, { SFSYNC_SCHEMA: SCHEMA, SFSYNC_CONFIG: file, ...settings }));
}

async function syncSucceeded(settings: Record<string, string> = {}): Promise<void> {
  const r = await sync(ENTERPRISE, settings);
  expect(r.code, r.stderr).toBe(0);
}

/** The id of the Opportunity record type with this DeveloperName, as the org holds it. */
function recordTypeId(developerName: string): string {
  const rt = orgRecords(emulator.store, 'RecordType').filter(
    (r) => r.SobjectType === 'Opportunity' && r.DeveloperName === developerName,
  );
  expect(rt, developerName).toHaveLength(1);
  return rt[0]!.Id;
}

/** Every Opportunity queryAll returns (Recycle Bin ones too), as Salesforce has it now. */
const opportunities = () => orgRecords(emulator.store, 'Opportunity');
const ids = (records: readonly SfRecord[]) => records.map((r) => r.Id).sort();
const live = (records: readonly SfRecord[]) => records.filter((r) => r.IsDeleted !== true);

async function column(sql: string): Promise<string[]> {
  const { rows } = await client.query<{ id: string }>(sql);
  return rows.map((r) => r.id).sort();
}

const tableIds = () => column(`SELECT id FROM ${SCHEMA}.opportunity`);
const liveIds = () => column(`SELECT id FROM ${SCHEMA}.opportunity_live`);
const flaggedIds = () => column(`SELECT id FROM ${SCHEMA}.opportunity WHERE _sfsync_filtered_out`);

async function rowOf(id: string): Promise<{ recordtypeid: string; flagged: boolean; live: boolean } | undefined> {
  const { rows } = await client.query(
    `SELECT recordtypeid, _sfsync_filtered_out AS flagged,
            EXISTS (SELECT 1 FROM ${SCHEMA}.opportunity_live l WHERE l.id = o.id) AS live
     FROM ${SCHEMA}.opportunity o WHERE id = $1`,
    [id],
  );
  return rows[0];
}

/** Moves an Opportunity to another record type the way a user or integration does: a REST PATCH of RecordTypeId. */
async function moveTo(id: string, recordType: string): Promise<void> {
  const before = emulator.store.get(id)!;
  const sf = api(emulator, await login(emulator));
  const r = await sf.patch(`sobjects/Opportunity/${id}`, { RecordTypeId: recordType });
  expect(r.status, r.text).toBe(204);
  const after = emulator.store.get(id)!;
  expect(after.RecordTypeId).toBe(recordType);
  // Like any edit, it moves the record's SystemModstamp: the next delta's window sees it.
  expect(String(after.SystemModstamp) > String(before.SystemModstamp)).toBe(true);
}

beforeEach(async () => {
  // The record clock runs 2 minutes behind the Date header, as in the other filter tests: an update made now falls
  // inside the next delta's window (docs/salesforce.md#incremental-cursor-windows).
  emulator = await createEmulator({ port: 0, accounts: 40, seed: 21, clockStart: new Date(Date.now() - 2 * 60_000) });
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
});

afterEach(async () => {
  await client?.end();
  await emulator?.close();
});

describe('sfsync sync filtered to one record type', () => {
  it('loads that record type only, follows records moved out of it, back into it, and into it', async () => {
    const enterprise = recordTypeId('Enterprise');
    const smb = recordTypeId('SMB');
    const isEnterprise = (r: SfRecord) => r.RecordTypeId === enterprise;
    const matching = opportunities().filter(isEnterprise);
    expect(matching.length).toBeGreaterThan(3);
    expect(matching.length).toBeLessThan(opportunities().length);

    await syncSucceeded();
    expect(await tableIds()).toEqual(ids(matching));
    expect(await liveIds()).toEqual(ids(live(matching)));
    expect(await flaggedIds()).toEqual([]);
    const { rows: types } = await client.query(`SELECT DISTINCT recordtypeid FROM ${SCHEMA}.opportunity`);
    expect(types).toEqual([{ recordtypeid: enterprise }]);

    // Over REST (a small delta): one Enterprise Opportunity becomes SMB, one SMB Opportunity becomes Enterprise.
    const leaving = live(matching)[0]!;
    const joining = live(opportunities()).find((r) => r.RecordTypeId === smb)!;
    expect(joining).toBeDefined();
    await moveTo(leaving.Id, smb);
    await moveTo(joining.Id, enterprise);
    await syncSucceeded();
    // Kept, flagged, out of the live view: its row still holds the last version that matched.
    expect(await rowOf(leaving.Id)).toEqual({ recordtypeid: enterprise, flagged: true, live: false });
    expect(await rowOf(joining.Id)).toEqual({ recordtypeid: enterprise, flagged: false, live: true });
    expect(await flaggedIds()).toEqual([leaving.Id]);
    expect(await liveIds()).toEqual(ids(live(opportunities().filter(isEnterprise))));

    // Moved back, read through Bulk this time (a delta above the threshold): live again, the flag cleared.
    await moveTo(leaving.Id, enterprise);
    await syncSucceeded({ SFSYNC_BULK_THRESHOLD: '1' });
    const { rows: via } = await client.query(
      "SELECT bulk_job_ids FROM sfsync.runs WHERE object = 'Opportunity' ORDER BY id DESC LIMIT 1",
    );
    expect(via[0].bulk_job_ids.length).toBeGreaterThan(0);
    expect(await rowOf(leaving.Id)).toEqual({ recordtypeid: enterprise, flagged: false, live: true });
    expect(await flaggedIds()).toEqual([]);
    expect(await liveIds()).toEqual(ids(live(opportunities().filter(isEnterprise))));
    expect(await tableIds()).toEqual(ids(opportunities().filter(isEnterprise)));
  });

  it('follows a rename of the record type itself, which saves no Opportunity', async () => {
    const enterprise = recordTypeId('Enterprise');
    const matching = opportunities().filter((r) => r.RecordTypeId === enterprise);
    await syncSucceeded();
    expect(await liveIds()).toEqual(ids(live(matching)));
    const stamps = new Map(opportunities().map((r) => [r.Id, r.SystemModstamp]));

    // An admin renames the record type's API name: a RecordType edit (its own SystemModstamp moves), not an
    // Opportunity one (docs/salesforce.md#soql-filters).
    const sf = api(emulator, await login(emulator));
    const rename = async (developerName: string) => {
      const r = await sf.patch(`sobjects/RecordType/${enterprise}`, { DeveloperName: developerName });
      expect(r.status, r.text).toBe(204);
    };
    await rename('Enterprise_Legacy');
    expect(new Map(opportunities().map((r) => [r.Id, r.SystemModstamp]))).toEqual(stamps);
    await syncSucceeded();
    expect(await liveIds()).toEqual([]);
    expect(await flaggedIds()).toEqual(ids(matching));

    await rename('Enterprise');
    await syncSucceeded();
    expect(await flaggedIds()).toEqual([]);
    expect(await liveIds()).toEqual(ids(live(matching)));
  });

  it('stops with exit 2 and one line when the filter names a field RecordType lacks, before any write', async () => {
    const r = await sync("RecordType.NoSuchField__c = 'x'");
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^sfsync: the filter of Opportunity \(objects\[\]\.where\): [^\n]*\n$/);
    expect(r.stderr).toMatch(/RecordType has no field 'NoSuchField__c'/);
    const { rows } = await client.query('SELECT to_regclass($1) AS t', [`${SCHEMA}.opportunity`]);
    expect(rows).toEqual([{ t: null }]);
  });
});
