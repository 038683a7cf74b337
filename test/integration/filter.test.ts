// Filtered objects (config objects[].where) through the spawned CLI, against the emulator over HTTP and a real
// PostgreSQL: only matching records are loaded; a record that stops matching is flagged and leaves `<table>_live`; one
// that matches again comes back; a changed filter is re-applied to every row; a bad filter stops the command.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/index.ts';
import type { SfRecord } from '../../emulator/types.ts';
import { ensureFilterFlag, ensureTable } from '../../loaders/ddl.ts';
import { markFilteredOut, mergeStage } from '../../loaders/merge.ts';
import { withTransaction } from '../../loaders/postgres.ts';
import { createStage, STAGE_SCHEMA } from '../../loaders/stage.ts';
import type { ObjectSpec } from '../../schemas/records.ts';
import { type CliResult, runCli } from '../support/cli.ts';
import { fieldSpec } from '../support/fieldSpec.ts';
import { useTestDatabase } from '../support/db.ts';
import { emulatorEnv } from '../support/emulatorEnv.ts';
import { orgRecords } from '../support/org.ts';

const SCHEMA = 'salesforce';
const OPEN = "StageName != 'Closed Lost'";
const db = useTestDatabase('each');
const dir = mkdtempSync(path.join(tmpdir(), 'sfsync-filter-'));
let emulator: Emulator;
let client: pg.Client;

function configFile(where: string | null): string {
  const file = path.join(dir, `config-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify({ objects: [where === null ? 'Opportunity' : { name: 'Opportunity', where }] }));
  return file;
}

async function sync(where: string | null, settings: Record<string, string> = {}): Promise<CliResult> {
  const env = emulatorEnv(emulator, db.url, { SFSYNC_SCHEMA: SCHEMA, SFSYNC_CONFIG: configFile(where), ...settings });
  return runCli(['sync'], env);
}

async function syncSucceeded(where: string | null, settings: Record<string, string> = {}): Promise<void> {
  const r = await sync(where, settings);
  expect(r.code, r.stderr).toBe(0);
}

/** Every Opportunity queryAll returns (Recycle Bin ones too), as Salesforce has it now. */
const opportunities = () => orgRecords(emulator.store, 'Opportunity');
const ids = (records: readonly SfRecord[]) => records.map((r) => r.Id).sort();
const isOpen = (r: SfRecord) => r.StageName !== 'Closed Lost';

async function column(sql: string): Promise<string[]> {
  const { rows } = await client.query<{ id: string }>(sql);
  return rows.map((r) => r.id).sort();
}

const tableIds = () => column(`SELECT id FROM ${SCHEMA}.opportunity`);
const liveIds = () => column(`SELECT id FROM ${SCHEMA}.opportunity_live`);
const flaggedIds = () => column(`SELECT id FROM ${SCHEMA}.opportunity WHERE _sfsync_filtered_out`);

async function rowOf(id: string): Promise<{ stagename: string; flagged: boolean; live: boolean }> {
  const { rows } = await client.query(
    `SELECT stagename, _sfsync_filtered_out AS flagged,
            EXISTS (SELECT 1 FROM ${SCHEMA}.opportunity_live l WHERE l.id = o.id) AS live
     FROM ${SCHEMA}.opportunity o WHERE id = $1`,
    [id],
  );
  return rows[0];
}

beforeEach(async () => {
  // The record clock runs 2 minutes behind the Date header, as in the completeness tests: an update made now falls
  // inside the next delta's window (docs/salesforce.md#incremental-cursor-windows).
  emulator = await createEmulator({ port: 0, accounts: 40, seed: 21, clockStart: new Date(Date.now() - 2 * 60_000) });
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
});

afterEach(async () => {
  await client?.end();
  await emulator?.close();
});

describe('sfsync sync with a filtered object', () => {
  it('loads only matching records, flags one that stops matching, brings it back when it matches again', async () => {
    const matching = opportunities().filter(isOpen);
    expect(matching.length).toBeGreaterThan(5);
    expect(matching.length).toBeLessThan(opportunities().length);
    await syncSucceeded(OPEN);
    expect(await tableIds()).toEqual(ids(matching));
    expect(await flaggedIds()).toEqual([]);
    expect(await liveIds()).toEqual(ids(matching.filter((r) => r.IsDeleted !== true)));
    const { rows: state } = await client.query("SELECT filter FROM sfsync.object_state WHERE object = 'Opportunity'");
    expect(state).toEqual([{ filter: OPEN }]);

    const leaving = matching.find((r) => r.IsDeleted !== true)!;
    const joining = opportunities().find((r) => !isOpen(r) && r.IsDeleted !== true)!;
    emulator.store.update(leaving.Id, { StageName: 'Closed Lost' });
    emulator.store.update(joining.Id, { StageName: 'Prospecting' });
    // A delta of more records than the threshold goes through Bulk: the flags commit with its last window.
    await syncSucceeded(OPEN, { SFSYNC_BULK_THRESHOLD: '1' });
    const { rows: via } = await client.query(
      "SELECT bulk_job_ids FROM sfsync.runs WHERE object = 'Opportunity' ORDER BY id DESC LIMIT 1",
    );
    expect(via[0].bulk_job_ids.length).toBeGreaterThan(0);
    // Kept, flagged, out of the live view: its row still holds the last version that matched.
    expect(await rowOf(leaving.Id)).toEqual({ stagename: leaving.StageName, flagged: true, live: false });
    expect(await rowOf(joining.Id)).toEqual({ stagename: 'Prospecting', flagged: false, live: true });
    expect(await flaggedIds()).toEqual([leaving.Id]);

    emulator.store.update(leaving.Id, { StageName: 'Qualification' });
    await syncSucceeded(OPEN);
    expect(await rowOf(leaving.Id)).toEqual({ stagename: 'Qualification', flagged: false, live: true });
    expect(await flaggedIds()).toEqual([]);
    expect(await liveIds()).toEqual(ids(opportunities().filter((r) => isOpen(r) && r.IsDeleted !== true)));

    // verify counts with the filter on both sides: Salesforce's matching records, the warehouse's unflagged rows.
    const env = emulatorEnv(emulator, db.url, { SFSYNC_SCHEMA: SCHEMA, SFSYNC_CONFIG: configFile(OPEN) });
    const verify = await runCli(['verify', '--sample', '5'], env);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });

  it('re-applies a changed filter (a parent path) to every row; a removed one makes every row current', async () => {
    await syncSucceeded(OPEN);
    const banking = "Account.Industry IN ('Banking', 'Finance', 'Technology')";
    const industryOf = new Map(orgRecords(emulator.store, 'Account').map((a) => [a.Id, a.Industry]));
    const inBanking = (r: SfRecord) =>
      ['Banking', 'Finance', 'Technology'].includes(String(industryOf.get(String(r.AccountId)) ?? ''));
    const kept = opportunities().filter(inBanking);
    expect(kept.length).toBeGreaterThan(0);
    // Some rows loaded under the first filter fall out, some records are loaded only now.
    expect(kept.some((r) => !isOpen(r))).toBe(true);
    expect(opportunities().some((r) => isOpen(r) && !inBanking(r))).toBe(true);

    await syncSucceeded(banking);
    const { rows: runs } = await client.query(
      "SELECT mode FROM sfsync.runs WHERE object = 'Opportunity' AND mode <> 'reconcile' ORDER BY id",
    );
    expect(runs.map((r) => r.mode)).toEqual(['initial', 'full-refresh']);
    expect(await liveIds()).toEqual(ids(kept.filter((r) => r.IsDeleted !== true)));
    const everLoaded = new Set([...ids(opportunities().filter(isOpen)), ...ids(kept)]);
    expect(await tableIds()).toEqual([...everLoaded].sort());
    expect(await flaggedIds()).toEqual([...everLoaded].filter((id) => !ids(kept).includes(id)).sort());

    // The next run with the same filter is a delta again.
    await syncSucceeded(banking);
    const { rows: last } = await client.query(
      "SELECT mode FROM sfsync.runs WHERE object = 'Opportunity' ORDER BY id DESC LIMIT 1",
    );
    expect(last).toEqual([{ mode: 'incremental' }]);

    await syncSucceeded(null);
    expect(await flaggedIds()).toEqual([]);
    expect(await tableIds()).toEqual(ids(opportunities()));
    expect(await liveIds()).toEqual(ids(opportunities().filter((r) => r.IsDeleted !== true)));
    const { rows: state } = await client.query("SELECT filter FROM sfsync.object_state WHERE object = 'Opportunity'");
    expect(state).toEqual([{ filter: null }]);
  });

  it('with history, a --full-refresh that reads nothing new adds no version, flagged rows included', async () => {
    const file = path.join(dir, `config-history-${Date.now()}.json`);
    writeFileSync(file, JSON.stringify({ objects: [{ name: 'Opportunity', where: OPEN, history: true }] }));
    const run = async (args: string[]) => {
      const r = await runCli(args, emulatorEnv(emulator, db.url, { SFSYNC_SCHEMA: SCHEMA, SFSYNC_CONFIG: file }));
      expect(r.code, r.stderr).toBe(0);
    };
    await run(['sync']);
    const leaving = opportunities().find((r) => isOpen(r) && r.IsDeleted !== true)!;
    emulator.store.update(leaving.Id, { StageName: 'Closed Lost' });
    await run(['sync']);
    expect(await flaggedIds()).toEqual([leaving.Id]);
    const versions = async () => {
      const { rows } = await client.query(
        `SELECT id, count(*)::int AS n FROM ${SCHEMA}.opportunity_history GROUP BY id ORDER BY id`,
      );
      return rows;
    };
    const before = await versions();
    // The flagged row's version and the unflagged rows' versions stand: the full read changes no row's standing.
    expect(before.find((v) => v.id === leaving.Id)?.n).toBe(2);
    await run(['sync', '--full-refresh']);
    expect(await versions()).toEqual(before);
    expect(await flaggedIds()).toEqual([leaving.Id]);
  });

  it('stops at a bad filter with exit 2 and one line, before anything is read or written', async () => {
    await syncSucceeded(OPEN);
    const snapshot = async () => {
      const { rows } = await client.query(
        `SELECT (SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM ${SCHEMA}.opportunity t) AS rows,
                (SELECT count(*)::int FROM sfsync.runs) AS runs,
                (SELECT max(watermark)::text FROM sfsync.watermarks) AS watermark,
                (SELECT string_agg(filter, ',') FROM sfsync.object_state) AS filter`,
      );
      return rows[0];
    };
    const before = await snapshot();
    emulator.store.update(opportunities().find(isOpen)!.Id, { StageName: 'Closed Lost' });
    const cases: [string, RegExp][] = [
      ["Stage = 'Closed Lost'", /Opportunity has no field 'Stage'/],
      ["StageName = 'x'; DROP TABLE opportunity", /';' is not allowed/],
      [`${OPEN} LIMIT 5`, /only a condition is allowed, not LIMIT/],
      ["Account.Industri = 'Banking'", /Account has no field 'Industri'/],
    ];
    for (const [where, expected] of cases) {
      const r = await sync(where);
      expect(r.code, where).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr, where).toMatch(/^sfsync: the filter of Opportunity \(objects\[\]\.where\): [^\n]*\n$/);
      expect(r.stderr, where).toMatch(expected);
    }
    expect(await snapshot()).toEqual(before);
  });
});

describe('the filter flag in PostgreSQL', () => {
  const spec: ObjectSpec = {
    name: 'Thing__c',
    table: 'thing__c',
    label: 'Thing',
    fields: [fieldSpec('Id', 'id'), fieldSpec('Name'), fieldSpec('SystemModstamp', 'datetime')],
    cursorField: 'SystemModstamp',
    hasIsDeleted: false,
  };
  const at = (minute: number) => `2025-01-01T00:0${minute}:00.000Z`;
  const flags = async () => {
    const { rows } = await client.query('SELECT id, _sfsync_filtered_out AS f FROM f.thing__c ORDER BY id');
    return Object.fromEntries(rows.map((r) => [r.id, r.f]));
  };
  /** One merge of `rows` (id, name, cursor) as a load of matching versions does it. */
  const load = (rows: [string, string, string][]) =>
    withTransaction(client, async () => {
      const stage = await createStage(client, 'f', 'thing__c');
      for (const r of rows) await client.query(`INSERT INTO ${STAGE_SCHEMA}.${stage} VALUES ($1, $2, $3)`, r);
      const columns = ['id', 'name', 'systemmodstamp'];
      await mergeStage(client, {
        schema: 'f',
        table: 'thing__c',
        stage,
        columns,
        cursorColumn: 'systemmodstamp',
        filterFlag: true,
      });
    });

  it('flags rows no newer than the unmatched version read; only a newer matching version clears it', async () => {
    await ensureTable(client, 'f', spec);
    await ensureFilterFlag(client, 'f', 'thing__c');
    await load([
      ['a', 'A', at(1)],
      ['b', 'B', at(3)],
      ['c', 'C', at(1)],
    ]);
    await withTransaction(client, async () => {
      await client.query('CREATE TEMP TABLE unmatched (id text, systemmodstamp timestamptz) ON COMMIT DROP');
      // a stopped matching at minute 2; b's row already holds a newer version (minute 3) that matched again.
      await client.query('INSERT INTO unmatched VALUES ($1, $2), ($3, $2)', ['a', at(2), 'b']);
      const flagged = await markFilteredOut(client, {
        schema: 'f',
        table: 'thing__c',
        idsSchema: STAGE_SCHEMA,
        idsTable: 'unmatched',
        cursorColumn: 'systemmodstamp',
      });
      expect(flagged).toBe(1);
    });
    expect(await flags()).toEqual({ a: true, b: false, c: false });
    // A stale read of the version that matched (minute 1) leaves the flag; a newer matching version clears it.
    await load([['a', 'A', at(1)]]);
    expect(await flags()).toEqual({ a: true, b: false, c: false });
    await load([['a', 'A again', at(4)]]);
    expect(await flags()).toEqual({ a: false, b: false, c: false });
  });
});
