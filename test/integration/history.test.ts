// History mode through the CLI: a randomised run of inserts, updates (nulled fields too), soft deletes, undeletes and
// hard deletes, `sfsync sync` between rounds (one killed with SIGKILL mid-load, then rerun), must leave a history
// table equal to a replay of the org's states at each completed sync. Then: formula refreshes, schema back-fills and
// turning history off and on. Fixed seed (SFSYNC_TEST_SEED overrides); the seed is in every failure message.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/index.ts';
import { historyTableName } from '../../loaders/history.ts';
import type { ObjectSpec } from '../../schemas/records.ts';
import { type CliResult, runCli, startCli } from '../support/cli.ts';
import { canonicalRecord, canonicalRow, canonicalSelect } from '../support/compare.ts';
import { useTestDatabase } from '../support/db.ts';
import { emulatorEnv } from '../support/emulatorEnv.ts';
import { orgRecords } from '../support/org.ts';
import { prng } from '../support/prng.ts';
import { describeSpec, syncConfig } from '../support/sync.ts';

const SEED = Number(process.env.SFSYNC_TEST_SEED ?? 20240917);
const SCHEMA = 'salesforce';
const ROUNDS = 4;
const OPS_PER_ROUND = 24;
const db = useTestDatabase();
let emulator: Emulator;
let client: pg.Client;
let configFile: string;

type State = (string | null)[];

function writeConfig(objects: { name: string; history?: boolean }[]): void {
  writeFileSync(configFile, JSON.stringify({ objects }));
}

const env = () =>
  emulatorEnv(emulator, db.url, {
    SFSYNC_SCHEMA: SCHEMA,
    SFSYNC_CONFIG: configFile,
    // Several cursor windows in a full read, and deltas through Bulk as well as REST.
    SFSYNC_WINDOW_ROWS: '10',
    SFSYNC_BULK_THRESHOLD: '8',
    LOG_LEVEL: 'warn',
  });

/** A SIGKILLed process's advisory lock goes when PostgreSQL notices the dead session: retry briefly while locked. */
async function cli(...args: string[]): Promise<CliResult> {
  for (let attempt = 0; ; attempt++) {
    const r = await runCli(args, { ...env(), LOG_LEVEL: 'info' });
    if (r.code === 0) return r;
    if (attempt < 20 && /lock/i.test(r.stderr + r.stdout)) {
      await new Promise((res) => setTimeout(res, 250));
      continue;
    }
    throw new Error(`seed ${SEED}: sfsync ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`);
  }
}

async function count(sql: string, params: unknown[] = []): Promise<number> {
  return (await client.query<{ n: number }>(sql, params)).rows[0]!.n;
}

/** The org's records of an object as the warehouse should hold them, by id. */
function orgState(spec: ObjectSpec): Map<string, State> {
  return new Map(orgRecords(emulator.store, spec.name).map((r) => [r.Id, canonicalRecord(spec, r)]));
}

/**
 * The expected history from the org's states at each completed sync: per id, its states in order, consecutive equal
 * ones collapsed. A record gone from the org (hard-deleted) keeps its last state, marked deleted.
 */
class Replay {
  readonly versions = new Map<string, State[]>();
  private readonly deleted: number;
  constructor(private readonly spec: ObjectSpec) {
    this.deleted = spec.fields.findIndex((f) => f.column === 'isdeleted');
  }
  snapshot(): void {
    const now = orgState(this.spec);
    for (const [id, state] of now) this.push(id, state);
    for (const [id, states] of this.versions)
      if (!now.has(id)) {
        const gone = [...states[states.length - 1]!];
        gone[this.deleted] = 'true';
        this.push(id, gone);
      }
  }
  private push(id: string, state: State): void {
    const states = this.versions.get(id) ?? [];
    const last = states[states.length - 1];
    if (!last || JSON.stringify(last) !== JSON.stringify(state)) states.push(state);
    this.versions.set(id, states);
  }
}

/** The history table's versions per id, ordered by _valid_from then _recorded_at. */
async function historyVersions(spec: ObjectSpec): Promise<Map<string, State[]>> {
  const { rows } = await client.query({
    text:
      `SELECT ${canonicalSelect(spec)} FROM ${SCHEMA}.${historyTableName(spec.table)} ` +
      'ORDER BY id, _valid_from, _recorded_at',
    rowMode: 'array',
  });
  const idIndex = spec.fields.findIndex((f) => f.column === 'id');
  const out = new Map<string, State[]>();
  for (const row of rows as (string | null)[][]) {
    const id = row[idIndex] as string;
    out.set(id, [...(out.get(id) ?? []), canonicalRow(spec, row)]);
  }
  return out;
}

/**
 * Invariants of any history table: versions of an id are contiguous (each ends where the next begins), exactly the
 * last one is current and open-ended, and the current one equals the current table's row.
 */
async function expectConsistent(spec: ObjectSpec): Promise<void> {
  const table = `${SCHEMA}.${spec.table}`;
  const hist = `${SCHEMA}.${historyTableName(spec.table)}`;
  const broken = await count(
    `SELECT count(*)::int AS n FROM (
       SELECT _valid_to, _is_current, lead(_valid_from) OVER w AS next FROM ${hist}
       WINDOW w AS (PARTITION BY id ORDER BY _valid_from, _recorded_at)) v
     WHERE _is_current <> (next IS NULL) OR _valid_to <> coalesce(next, 'infinity')`,
  );
  expect(broken, `seed ${SEED}: ${hist} versions not contiguous`).toBe(0);
  const cols = spec.fields.map((f) => f.column);
  const differing = await count(
    `SELECT count(*)::int AS n FROM ${table} t FULL JOIN (SELECT * FROM ${hist} WHERE _is_current) h USING (id)
     WHERE t.id IS NULL OR h.id IS NULL
        OR ROW(${cols.map((c) => `t.${c}`).join(', ')}) IS DISTINCT FROM ROW(${cols.map((c) => `h.${c}`).join(', ')})`,
  );
  expect(differing, `seed ${SEED}: current versions differ from ${table}`).toBe(0);
}

function randomOps(rand: () => number, round: number): void {
  const pick = <T>(items: T[]): T | undefined => items[Math.floor(rand() * items.length)];
  const admin = emulator.admin;
  for (let i = 0; i < OPS_PER_ROUND; i++) {
    const records = orgRecords(emulator.store, 'Account');
    const live = records.filter((r) => r.IsDeleted !== true);
    const binned = records.filter((r) => r.IsDeleted === true);
    const roll = rand();
    if (roll < 0.15) admin.insert('Account', { Name: `History ${SEED}-${round}-${i}`, Phone: `555-${i}` });
    else if (roll < 0.55) {
      const rec = pick(live);
      const n = Math.floor(rand() * 1e6);
      const change = pick<Record<string, string | null>>([
        { Description: `edit ${n}` },
        { Description: null },
        { Phone: null },
        { Name: `Renamed ${n}` },
      ]);
      if (rec) admin.update(rec.Id, change!);
    } else if (roll < 0.7) {
      const rec = pick(live);
      if (rec) admin.delete(rec.Id);
    } else if (roll < 0.82) {
      const rec = pick(binned);
      if (rec) admin.undelete(rec.Id);
    } else {
      const rec = pick(rand() < 0.5 ? live : binned);
      if (rec) admin.hardDelete(rec.Id);
    }
  }
}

/** A full-refresh sync killed with SIGKILL once it has committed a window (or after a bounded wait). */
async function killedSync(): Promise<void> {
  // Slow Bulk results so the process is surely mid-load, between windows, when it dies.
  emulator.admin.addFault({ route: /\/results/, times: 50, kind: 'delay', ms: 300 });
  const before = await count('SELECT coalesce(max(id), 0)::int AS n FROM sfsync.runs');
  const { child, done } = startCli(['sync', '--full-refresh'], { ...env(), LOG_LEVEL: 'silent' });
  for (let i = 0; i < 600; i++) {
    const progressed = await count(
      "SELECT count(*)::int AS n FROM sfsync.runs WHERE id > $1 AND object = 'Account' AND rows_fetched > 0",
      [before],
    );
    if (progressed > 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill('SIGKILL');
  const result = await done;
  emulator.admin.clearFaults();
  expect(result.signal, `seed ${SEED}`).toBe('SIGKILL');
}

describe(`history mode (seed ${SEED})`, () => {
  beforeAll(async () => {
    // Record clock 2 minutes behind the Date header, so getDeleted (whole minutes, docs/salesforce.md#getdeleted) sees
    // fresh deletions.
    emulator = await createEmulator({
      port: 0,
      accounts: 30,
      seed: SEED % 1000,
      clockStart: new Date(Date.now() - 120_000),
    });
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
    configFile = path.join(mkdtempSync(path.join(tmpdir(), 'sfsync-history-')), 'sfsync.config.json');
  });
  afterAll(async () => {
    await client?.end();
    await emulator?.close();
  });

  it('keeps one version per change, equal to a replay of the org at each completed sync', async () => {
    writeConfig([{ name: 'Account', history: true }, { name: 'Contact' }]);
    const spec = await describeSpec(syncConfig(env()), 'Account');
    const replay = new Replay(spec);
    const rand = prng(SEED);
    await cli('sync');
    replay.snapshot();
    const hist = `${SCHEMA}.${historyTableName(spec.table)}`;
    // An initial load opens one version per record, dated by its SystemModstamp.
    expect(await count(`SELECT count(*)::int AS n FROM ${hist}`)).toBe(
      await count(`SELECT count(*)::int AS n FROM ${SCHEMA}.account`),
    );
    for (let round = 0; round < ROUNDS; round++) {
      randomOps(rand, round);
      if (round === 2) await killedSync();
      // Round 1 reads everything again: hard deletes are then found by Id reconciliation rather than getDeleted.
      await cli('sync', ...(round === 1 ? ['--full-refresh'] : []));
      replay.snapshot();
    }
    // The killed sync's runs were closed as failed by the next run, not left `running` for ever.
    expect(await count("SELECT count(*)::int AS n FROM sfsync.runs WHERE status = 'running'")).toBe(0);
    expect(
      await count("SELECT count(*)::int AS n FROM sfsync.runs WHERE object = 'Account' AND error LIKE 'abandoned:%'"),
    ).toBe(1);
    const actual = await historyVersions(spec);
    expect([...actual.keys()].sort(), `seed ${SEED}: ids`).toEqual([...replay.versions.keys()].sort());
    for (const [id, states] of replay.versions)
      expect(actual.get(id), `seed ${SEED}: versions of ${id}`).toEqual(states);
    await expectConsistent(spec);
    const changed = [...replay.versions.values()].filter((s) => s.length > 1).length;
    expect(changed, `seed ${SEED}: too few records changed to tell anything`).toBeGreaterThan(10);

    // A version read from Salesforce begins at its SystemModstamp; one sfsync wrote itself (a delete it found)
    // when it was written. Never before the version it replaces.
    const { rows } = await client.query(
      `WITH v AS (
         SELECT systemmodstamp, _valid_from, _recorded_at,
                lag(systemmodstamp) OVER w AS prev_cursor, lag(_valid_from) OVER w AS prev_from
         FROM ${hist} WINDOW w AS (PARTITION BY id ORDER BY _valid_from, _recorded_at))
       SELECT count(*) FILTER (WHERE prev_cursor IS DISTINCT FROM systemmodstamp
                                 AND _valid_from <> greatest(systemmodstamp, prev_from))::int AS read_wrong,
              count(*) FILTER (WHERE prev_cursor = systemmodstamp
                                 AND _valid_from <> greatest(_recorded_at, prev_from))::int AS marked_wrong,
              count(*) FILTER (WHERE prev_cursor = systemmodstamp)::int AS marked
       FROM v`,
    );
    expect(rows[0], `seed ${SEED}`).toMatchObject({ read_wrong: 0, marked_wrong: 0 });
    expect(rows[0].marked, `seed ${SEED}: no hard delete was versioned`).toBeGreaterThan(0);

    // Reruns, their overlap window, a full re-read and a backfill find nothing new: no version.
    const total = await count(`SELECT count(*)::int AS n FROM ${hist}`);
    await cli('sync');
    await cli('sync', '--full-refresh');
    await cli('backfill', '--objects', 'Account', '--since', '2000-01-01', '--window', '5000d');
    expect(await count(`SELECT count(*)::int AS n FROM ${hist}`), `seed ${SEED}`).toBe(total);
    // Contact has no history setting: no history table.
    expect(await count(`SELECT count(*)::int AS n FROM pg_class WHERE relname = 'contact_history'`)).toBe(0);

    // The README's "as of" query: one version per record at any instant.
    const id = [...replay.versions.entries()].find(([, s]) => s.length > 1)![0];
    const { rows: asOf } = await client.query(
      `SELECT _valid_from FROM ${hist} WHERE id = $1 AND _valid_from <= now() AND _valid_to > now()`,
      [id],
    );
    expect(asOf).toHaveLength(1);
  }, 120_000);

  it('versions formula refreshes and back-filled fields, and stops and resumes with the setting', async () => {
    writeConfig([{ name: 'Invoice__c', history: true }]);
    await cli('sync');
    const hist = `${SCHEMA}.${historyTableName('invoice__c')}`;
    const versions = () => count(`SELECT count(*)::int AS n FROM ${hist}`);
    const invoices = await count(`SELECT count(*)::int AS n FROM ${SCHEMA}.invoice__c`);
    expect(invoices).toBeGreaterThan(5);
    expect(await versions()).toBe(invoices);

    // A formula's results change without SystemModstamp: each row refreshed gets a version dated when it was written.
    emulator.store.setFormula('Invoice__c', 'Summary__c', (rec) => `History ${rec.Name}`);
    await cli('sync', '--formulas-only');
    const { rows: refreshed } = await client.query(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE _valid_from = _recorded_at)::int AS dated FROM ${hist}
       WHERE _is_current AND summary__c LIKE 'History %'`,
    );
    expect(refreshed[0]).toEqual({ n: invoices, dated: invoices });
    expect(await versions()).toBe(2 * invoices);

    // A new field: its column joins the history table, and each row its back-fill fills gets a version.
    emulator.store.addField(
      'Invoice__c',
      { name: 'Tier__c', label: 'Tier', type: 'string', length: 20, nillable: true, custom: true },
      (rec) => `T-${rec.Id.slice(-2)}`,
    );
    await cli('sync');
    expect(await count(`SELECT count(*)::int AS n FROM ${hist} WHERE _is_current AND tier__c LIKE 'T-%'`)).toBe(
      invoices,
    );
    expect(await versions()).toBe(3 * invoices);
    const spec = await describeSpec(syncConfig(env()), 'Invoice__c');
    await expectConsistent(spec);

    // Turned off: the triggers go, the table stays, and nothing is versioned meanwhile.
    writeConfig([{ name: 'Invoice__c', history: false }]);
    const off = await cli('sync');
    expect(off.stdout + off.stderr).toMatch(/history turned off/);
    const triggers = `SELECT count(*)::int AS n FROM pg_trigger WHERE tgrelid = '${SCHEMA}.invoice__c'::regclass
                      AND NOT tgisinternal`;
    expect(await count(triggers)).toBe(0);
    const id = orgRecords(emulator.store, 'Invoice__c').find((r) => r.IsDeleted !== true)!.Id;
    emulator.admin.update(id, { Description__c: 'changed while history was off' });
    await cli('sync');
    expect(await versions()).toBe(3 * invoices);

    // On again: the row changed meanwhile gets one version, dated by its SystemModstamp (never before the version it
    // closes: the emulator's record clock runs behind the database's); the others none.
    writeConfig([{ name: 'Invoice__c', history: true }]);
    await cli('sync');
    // INSERT, UPDATE, and DELETE and TRUNCATE (which end the versions of rows removed by hand).
    expect(await count(triggers)).toBe(4);
    expect(await versions()).toBe(3 * invoices + 1);
    const { rows: resumed } = await client.query(
      `SELECT description__c, _valid_from = greatest(systemmodstamp, prev) AS dated
       FROM (SELECT *, lag(_valid_from) OVER (ORDER BY _valid_from, _recorded_at) AS prev FROM ${hist} WHERE id = $1) v
       WHERE _is_current`,
      [id],
    );
    expect(resumed).toEqual([{ description__c: 'changed while history was off', dated: true }]);
    await expectConsistent(spec);
  }, 60_000);
});
