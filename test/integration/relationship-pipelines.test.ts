// Relationship pipelines end to end: `sfsync sync --pipelines` through the CLI against the emulator over HTTP and a
// real PostgreSQL. A pipeline's table must equal a fresh SOQL read of its query (REST, against the emulator) after
// parents change (which leaves the child's SystemModstamp alone), after child changes, parent deletes, cleared lookups
// and re-parented children; the first load goes through Bulk API 2.0, later ones through REST.
import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/index.ts';
import { lastLine, runCli, startCli } from '../support/cli.ts';
import { useTestDatabase } from '../support/db.ts';
import { api, login } from '../support/emulatorClient.ts';
import { emulatorEnv } from '../support/emulatorEnv.ts';
import { orgRecords } from '../support/org.ts';

const SCHEMA = 'rel';
const OPPS = 'SELECT Id, Name, Account.Name, Account.Industry, Owner.Email, Account.Owner.Email FROM Opportunity';
const OPP_COLUMNS = ['name', 'account_name', 'account_industry', 'owner_email', 'account_owner_email'];
const CONTACTS = "SELECT Id, Name, (SELECT Id, LastName FROM Contacts) FROM Account WHERE Industry != 'Banking'";

const db = useTestDatabase('each');
let emulator: Emulator;
let client: pg.Client;
let env: Record<string, string>;
const minutes = (n: number) => n * 60_000;

function writeConfig(pipelines: unknown[], objects: string[] = ['Account']): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'sfsync-pipelines-'));
  const file = path.join(dir, 'sfsync.config.json');
  writeFileSync(file, JSON.stringify({ objects, pipelines }));
  return file;
}

async function sync(...args: string[]): Promise<void> {
  const r = await runCli(['sync', ...args], env);
  expect(r.code, `${r.stderr}\n${r.stdout}`).toBe(0);
}

/** Every record of a REST query (query, not queryAll: what a fresh read of the pipeline's SOQL returns). */
async function freshRead(soql: string): Promise<Record<string, unknown>[]> {
  const call = api(emulator, await login(emulator));
  const out: Record<string, unknown>[] = [];
  let page = (await call.get(`query?q=${encodeURIComponent(soql)}`)).json<{
    records: Record<string, unknown>[];
    nextRecordsUrl?: string;
  }>();
  out.push(...page.records);
  while (page.nextRecordsUrl) {
    page = (await call.get(page.nextRecordsUrl)).json();
    out.push(...page.records);
  }
  return out;
}

/** A dotted path through nested parent records (`"Account": null` reads as null). */
function valueAt(record: Record<string, unknown>, p: string): unknown {
  let at: unknown = record;
  for (const step of p.split('.')) at = at === null ? null : (at as Record<string, unknown>)[step];
  return at ?? null;
}

/** The pipeline's live rows, keyed by Id, columns as text. */
async function liveRows(table: string, columns: string[]): Promise<Map<string, (string | null)[]>> {
  const { rows } = await client.query(
    `SELECT id, ${columns.map((c) => `${c}::text AS ${c}`).join(', ')} FROM ${SCHEMA}.${table} ` +
      'WHERE isdeleted IS NOT TRUE',
  );
  return new Map(rows.map((r) => [r.id as string, columns.map((c) => r[c] as string | null)]));
}

async function expectOpportunitiesMatchFreshRead(): Promise<number> {
  const paths = ['Name', 'Account.Name', 'Account.Industry', 'Owner.Email', 'Account.Owner.Email'];
  const fresh = new Map(
    (await freshRead(OPPS)).map((r) => [r.Id as string, paths.map((p) => valueAt(r, p) as string | null)]),
  );
  const table = await liveRows('opp_accounts', OPP_COLUMNS);
  expect(table.size).toBe(fresh.size);
  const wrong = [...fresh].filter(([id, values]) => JSON.stringify(table.get(id)) !== JSON.stringify(values));
  expect(wrong.slice(0, 3).map(([id, v]) => ({ id, fresh: v, table: table.get(id) }))).toEqual([]);
  return fresh.size;
}

/** Ids, sorted as JavaScript sorts them (not by a PostgreSQL collation). */
async function liveIds(table: string): Promise<string[]> {
  const { rows } = await client.query(`SELECT id FROM ${SCHEMA}.${table} WHERE isdeleted IS NOT TRUE`);
  return rows.map((r) => r.id as string).sort();
}

async function freshIds(soql: string): Promise<string[]> {
  return (await freshRead(soql)).map((r) => String(r.Id)).sort();
}

/** The modes of a read's runs, reconciliations aside, oldest first. */
async function runModes(object: string): Promise<string[]> {
  const { rows } = await client.query(
    "SELECT mode FROM sfsync.runs WHERE object = $1 AND status = 'succeeded' AND mode <> 'reconcile' ORDER BY id",
    [object],
  );
  return rows.map((r) => r.mode as string);
}

const log = () => emulator.admin.requestLog();
const bulkJobs = () => log().filter((e) => e.method === 'POST' && /\/jobs\/query$/.test(e.path));
const restQueries = () => log().filter((e) => e.method === 'GET' && /\/query(All)?\?q=/.test(e.path));

describe('relationship pipelines (sfsync sync --pipelines)', () => {
  beforeEach(async () => {
    // The record clock runs 2 minutes behind the Date header, so getDeleted (whole minutes up to the server's now,
    // docs/salesforce.md#getdeleted) already lists a deletion made a moment ago.
    emulator = await createEmulator({ port: 0, accounts: 40, seed: 5, clockStart: new Date(Date.now() - minutes(2)) });
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  });
  afterEach(async () => {
    await client?.end();
    await emulator?.close();
  });

  it('keeps flattened parent columns equal to a fresh SOQL read: Bulk first, then REST deltas', async () => {
    const config = writeConfig([{ name: 'opp_accounts', soql: OPPS }]);
    env = emulatorEnv(emulator, db.url, { SFSYNC_SCHEMA: SCHEMA, SFSYNC_CONFIG: config });
    await sync('--pipelines', 'opp_accounts');
    expect(bulkJobs().map((e) => e.soql)).toEqual([
      'SELECT Id, Name, Account.Name, Account.Industry, Owner.Email, Account.Owner.Email, SystemModstamp, ' +
        'IsDeleted, AccountId, OwnerId, Account.OwnerId FROM Opportunity',
    ]);
    expect(await expectOpportunitiesMatchFreshRead()).toBeGreaterThan(20);
    const { rows: comments } = await client.query(
      "SELECT col_description('rel.opp_accounts'::regclass, attnum) AS c FROM pg_attribute " +
        "WHERE attrelid = 'rel.opp_accounts'::regclass AND attname = 'account_owner_email'",
    );
    expect(comments[0].c).toMatch(/^Account > Owner > Email \(Salesforce Account\.Owner\.Email, type email\)/);

    // Parents change; the opportunities' own SystemModstamp stays as it was.
    const opps = orgRecords(emulator.store, 'Opportunity', { includeDeleted: false });
    const [first, second] = opps.filter((o) => o.AccountId !== null);
    const stamp = first!.SystemModstamp;
    emulator.store.update(String(first!.AccountId), { Name: 'Renamed Parent', Industry: 'Energy' });
    const account2 = emulator.store.get(String(second!.AccountId))!;
    emulator.store.update(String(account2.OwnerId), { Email: 'grand.parent@example.com' });
    emulator.store.update(String(second!.OwnerId), { Email: 'new.owner@example.com' });
    expect(emulator.store.get(first!.Id)!.SystemModstamp).toBe(stamp);
    const bulkBefore = bulkJobs().length;
    emulator.admin.clearRequestLog();
    const started = Date.now();
    await sync('--pipelines', 'opp_accounts');
    expect(bulkJobs()).toHaveLength(0);
    expect(bulkBefore).toBe(1);
    // The delta read every change, its parents' too, up to the server's clock: the watermark is that clock minus the
    // overlap (10 minutes), not the opportunities' highest SystemModstamp, which is older.
    const { rows: marks } = await client.query(
      "SELECT extract(epoch FROM watermark) * 1000 AS ms FROM sfsync.watermarks WHERE object = 'pipeline:opp_accounts'",
    );
    expect(Math.max(...opps.map((o) => Date.parse(String(o.SystemModstamp))))).toBeLessThan(started - minutes(11));
    expect(Number(marks[0].ms)).toBeGreaterThan(started - minutes(10) - 2_000);
    const delta = restQueries().map((e) => e.soql ?? '');
    expect(delta).toHaveLength(1);
    expect(delta[0]).toMatch(/WHERE \(SystemModstamp >= \S+ OR Account\.SystemModstamp >= \S+ OR /);
    expect(delta[0]).toContain('Account.Owner.SystemModstamp >= ');
    await expectOpportunitiesMatchFreshRead();
    const { rows } = await client.query('SELECT account_name FROM rel.opp_accounts WHERE id = $1', [first!.Id]);
    expect(rows).toEqual([{ account_name: 'Renamed Parent' }]);

    // Child changes: renamed, lookup cleared, re-parented; a parent hard-deleted (its opportunities keep a dangling
    // lookup and their own cursor); another soft-deleted; an opportunity deleted.
    const [renamed, cleared, moved, orphaned, gone] = opps.filter((o) => o.AccountId !== null).slice(2, 7);
    emulator.store.update(renamed!.Id, { Name: 'Renamed Child' });
    emulator.store.update(cleared!.Id, { AccountId: null });
    emulator.store.update(moved!.Id, { AccountId: String(first!.AccountId) });
    emulator.store.hardDelete(String(orphaned!.AccountId));
    emulator.store.softDelete(String(second!.AccountId));
    emulator.store.softDelete(gone!.Id);
    emulator.admin.clearRequestLog();
    await sync('--pipelines', 'opp_accounts');
    // The hard-deleted parent came from getDeleted of Account; its opportunity is read again by Id.
    const reread = restQueries().map((e) => e.soql ?? '');
    expect(reread).toHaveLength(1);
    expect(reread[0]).toMatch(new RegExp(` OR Id IN \\([^)]*'${orphaned!.Id}'`));
    await expectOpportunitiesMatchFreshRead();
    const { rows: after } = await client.query(
      'SELECT id, account_name, accountid, isdeleted FROM rel.opp_accounts WHERE id = ANY($1)',
      [[cleared!.Id, moved!.Id, orphaned!.Id, gone!.Id]],
    );
    const byId = new Map(after.map((r) => [r.id, r]));
    expect(byId.get(cleared!.Id)).toMatchObject({ account_name: null, accountid: null, isdeleted: false });
    expect(byId.get(moved!.Id)).toMatchObject({ account_name: 'Renamed Parent', accountid: first!.AccountId });
    // Its parent is gone: the lookup still names it (the emulator leaves it), its fields are null as in a fresh read.
    expect(byId.get(orphaned!.Id)).toMatchObject({ account_name: null, accountid: orphaned!.AccountId });
    expect(byId.get(gone!.Id)).toMatchObject({ isdeleted: true });
    expect(bulkJobs()).toHaveLength(0);

    const { rows: runs } = await client.query(
      "SELECT mode, status FROM sfsync.runs WHERE object = 'pipeline:opp_accounts' ORDER BY id",
    );
    expect(runs).toEqual([
      { mode: 'initial', status: 'succeeded' },
      { mode: 'incremental', status: 'succeeded' },
      { mode: 'incremental', status: 'succeeded' },
    ]);
  });

  it('brings back a row reconciliation marked deleted when its parent alone makes it match again', async () => {
    const soql = "SELECT Id, Name, Account.Name FROM Opportunity WHERE Account.Industry != 'Banking'";
    env = emulatorEnv(emulator, db.url, {
      SFSYNC_SCHEMA: SCHEMA,
      SFSYNC_CONFIG: writeConfig([{ name: 'opps', soql }]),
    });
    const opps = orgRecords(emulator.store, 'Opportunity', { includeDeleted: false }).filter((o) => o.AccountId);
    const account = String(opps[0]!.AccountId);
    const ids = opps.filter((o) => o.AccountId === account).map((o) => o.Id);
    const flags = async () => {
      const { rows } = await client.query(`SELECT id, isdeleted FROM ${SCHEMA}.opps WHERE id = ANY($1)`, [ids]);
      return new Map(rows.map((r) => [r.id, r.isdeleted]));
    };
    emulator.store.update(account, { Industry: 'Media' });
    await sync('--pipelines', 'opps');
    expect(await liveIds('opps')).toEqual(await freshIds(soql));
    // It stops matching: a full read marks its opportunities deleted (Id reconciliation).
    emulator.store.update(account, { Industry: 'Banking' });
    await sync('--pipelines', 'opps', '--full-refresh');
    expect(await flags()).toEqual(new Map(ids.map((id) => [id, true])));
    // It matches again; the opportunities' own SystemModstamp is the one they were marked with.
    emulator.store.update(account, { Industry: 'Media' });
    await sync('--pipelines', 'opps');
    expect(await flags()).toEqual(new Map(ids.map((id) => [id, false])));
    expect(await liveIds('opps')).toEqual(await freshIds(soql));
    expect(await runModes('pipeline:opps')).toEqual(['initial', 'full-refresh', 'incremental']);
  });

  it('hashes a path hashed later in place, reads in full when one is no longer hashed: both schema drift', async () => {
    const key = 'pipeline-hash-key-0123456789';
    const hmac = (v: string) => createHmac('sha256', key).update(v, 'utf8').digest('hex');
    const plain = { name: 'opp_accounts', soql: OPPS };
    env = emulatorEnv(emulator, db.url, {
      SFSYNC_SCHEMA: SCHEMA,
      SFSYNC_CONFIG: writeConfig([plain]),
      SFSYNC_HASH_KEY: key,
    });
    const emails = async (hash: (v: string) => string) => {
      const fresh = (await freshRead(OPPS)).map((r) => {
        const email = valueAt(r, 'Owner.Email');
        return [r.Id as string, email === null ? null : hash(String(email))] as const;
      });
      const table = await liveRows('opp_accounts', ['owner_email']);
      expect(new Map([...table].map(([id, [email]]) => [id, email]))).toEqual(new Map(fresh));
      const { rows } = await client.query(
        `SELECT count(*)::int AS n FROM ${SCHEMA}.opp_accounts WHERE owner_email ~ '^[0-9a-f]{64}$'`,
      );
      return rows[0].n as number;
    };
    const events = async () =>
      (
        await client.query(
          'SELECT object, field, kind, action FROM sfsync.schema_events WHERE target_schema = $1 ORDER BY id',
          [SCHEMA],
        )
      ).rows;
    await sync('--pipelines', 'opp_accounts');
    env.SFSYNC_CONFIG = writeConfig([{ ...plain, hash: ['Owner.Email'] }]);
    await sync('--pipelines', 'opp_accounts');
    expect(await emails(hmac)).toBeGreaterThan(0);
    const hashed = { object: 'pipeline:opp_accounts', field: 'Owner.Email', kind: 'hashed' };
    expect(await events()).toEqual([{ ...hashed, action: expect.stringMatching(/^values already loaded hashed/) }]);

    // No longer hashed: the hashes are read again as values, never left beside them.
    env.SFSYNC_CONFIG = writeConfig([plain]);
    await sync('--pipelines', 'opp_accounts');
    expect(await emails((v) => v)).toBe(0);
    expect((await events()).slice(1)).toEqual([
      { ...hashed, kind: 'unhashed', action: 'no longer hashed; read in full, stored as read' },
    ]);
    const { rows: comments } = await client.query(
      "SELECT col_description('rel.opp_accounts'::regclass, attnum) AS c FROM pg_attribute " +
        "WHERE attrelid = 'rel.opp_accounts'::regclass AND attname = 'owner_email'",
    );
    expect(comments[0].c).not.toContain('HMAC');
    await sync('--pipelines', 'opp_accounts');
    expect(await runModes('pipeline:opp_accounts')).toEqual(['initial', 'incremental', 'full-refresh', 'incremental']);
  });

  it('stores hashed paths as HMACs, never the value, through Bulk and REST; refuses an unselected one', async () => {
    const key = 'pipeline-hash-key-0123456789';
    const hmac = (v: string) => createHmac('sha256', key).update(v, 'utf8').digest('hex');
    const hashed = { name: 'opp_accounts', soql: OPPS, hash: ['Owner.Email', 'Account.Owner.Email'] };
    env = emulatorEnv(emulator, db.url, {
      SFSYNC_SCHEMA: SCHEMA,
      SFSYNC_CONFIG: writeConfig([hashed]),
      SFSYNC_HASH_KEY: key,
    });
    const expectHashed = async () => {
      const fresh = await freshRead(OPPS);
      const table = await liveRows('opp_accounts', ['owner_email', 'account_owner_email', 'account_name']);
      expect(table.size).toBe(fresh.length);
      const emails = new Set<string>();
      for (const r of fresh) {
        const [owner, accountOwner, accountName] = [valueAt(r, 'Owner.Email'), valueAt(r, 'Account.Owner.Email')]
          .map((v) => (v === null ? null : hmac(String(v))))
          .concat([valueAt(r, 'Account.Name') as string | null]);
        expect(table.get(r.Id as string)).toEqual([owner, accountOwner, accountName]);
        for (const p of ['Owner.Email', 'Account.Owner.Email']) if (valueAt(r, p)) emails.add(String(valueAt(r, p)));
      }
      const { rows } = await client.query(`SELECT t::text AS row FROM ${SCHEMA}.opp_accounts t`);
      const text = rows.map((r) => r.row).join('\n');
      expect([...emails].filter((e) => text.includes(e))).toEqual([]);
      return emails.size;
    };
    await sync('--pipelines', 'opp_accounts');
    expect(bulkJobs()).toHaveLength(1);
    expect(await expectHashed()).toBeGreaterThan(0);
    const opp = orgRecords(emulator.store, 'Opportunity', { includeDeleted: false }).find((o) => o.OwnerId !== null);
    emulator.store.update(String(opp!.OwnerId), { Email: 'moved.owner@example.com' });
    emulator.admin.clearRequestLog();
    await sync('--pipelines', 'opp_accounts');
    expect(bulkJobs()).toHaveLength(0);
    await expectHashed();

    env.SFSYNC_CONFIG = writeConfig([{ ...hashed, hash: ['Owner.Emial'] }]);
    const r = await runCli(['sync'], env);
    expect(r.code, r.stderr).toBe(2);
    expect(lastLine(r.stderr)).toMatch(/pipeline opp_accounts: hash: Owner\.Emial is not a field the SOQL selects/);
  });
});

describe('relationship pipelines: parent-to-child subqueries and refusals', () => {
  beforeEach(async () => {
    emulator = await createEmulator({ port: 0, accounts: 30, seed: 9, clockStart: new Date(Date.now() - minutes(2)) });
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  });
  afterEach(async () => {
    await client?.end();
    await emulator?.close();
  });

  /** The subquery's rows as a fresh read gives them: parent Id, child Id, LastName. */
  async function freshChildren(soql = CONTACTS): Promise<string[]> {
    const out: string[] = [];
    for (const account of await freshRead(soql)) {
      const contacts = account.Contacts as { records: Record<string, unknown>[] } | null;
      for (const c of contacts?.records ?? []) out.push(`${String(account.Id)} ${String(c.Id)} ${String(c.LastName)}`);
    }
    return out.sort();
  }

  /** The same from the warehouse: child rows joined to the pipeline's rows through the lookup column. */
  async function tableChildren(): Promise<string[]> {
    const { rows } = await client.query(
      `SELECT a.id || ' ' || c.id || ' ' || c.lastname AS line FROM ${SCHEMA}.account_contacts__contacts c
       JOIN ${SCHEMA}.account_contacts a ON a.id = c.accountid
       WHERE c.isdeleted IS NOT TRUE AND a.isdeleted IS NOT TRUE ORDER BY 1`,
    );
    return rows.map((r) => r.line as string).sort();
  }

  it('loads subquery children into <pipeline>__<relationship> from the child object, Bulk first', async () => {
    const config = writeConfig([{ name: 'account_contacts', soql: CONTACTS }]);
    env = emulatorEnv(emulator, db.url, { SFSYNC_SCHEMA: SCHEMA, SFSYNC_CONFIG: config });
    await sync('--pipelines', 'account_contacts');
    expect(bulkJobs().map((e) => e.soql)).toEqual(
      expect.arrayContaining([
        'SELECT Id, AccountId, LastName, SystemModstamp, IsDeleted FROM Contact ' +
          "WHERE (AccountId != null AND (Account.Industry != 'Banking'))",
      ]),
    );
    const children = await freshChildren();
    expect(children.length).toBeGreaterThan(20);
    expect(await tableChildren()).toEqual(children);

    const contacts = orgRecords(emulator.store, 'Contact', { includeDeleted: false }).filter((c) => c.AccountId);
    const [renamed, cleared, moved, gone] = contacts;
    const target = String(contacts.find((c) => c.AccountId !== moved!.AccountId)!.AccountId);
    emulator.store.update(renamed!.Id, { LastName: 'Renamed' });
    emulator.store.update(cleared!.Id, { AccountId: null });
    emulator.store.update(moved!.Id, { AccountId: target });
    emulator.store.softDelete(gone!.Id);
    emulator.admin.clearRequestLog();
    await sync('--pipelines', 'account_contacts');
    expect(bulkJobs()).toHaveLength(0);
    expect(await tableChildren()).toEqual(await freshChildren());
    const { rows } = await client.query(
      `SELECT id, accountid FROM ${SCHEMA}.account_contacts__contacts WHERE id = ANY($1)`,
      [[cleared!.Id, moved!.Id]],
    );
    expect(new Map(rows.map((r) => [r.id, r.accountid]))).toEqual(
      new Map([
        [cleared!.Id, null],
        [moved!.Id, target],
      ]),
    );
  });

  it('brings the children of a parent that starts matching the WHERE; keeps those of one that stops', async () => {
    env = emulatorEnv(emulator, db.url, {
      SFSYNC_SCHEMA: SCHEMA,
      SFSYNC_CONFIG: writeConfig([{ name: 'account_contacts', soql: CONTACTS }]),
    });
    const contacts = orgRecords(emulator.store, 'Contact', { includeDeleted: false }).filter((c) => c.AccountId);
    const [entering, leaving] = [...new Set(contacts.map((c) => String(c.AccountId)))];
    const kidsOf = (account: string) =>
      contacts
        .filter((c) => c.AccountId === account)
        .map((c) => c.Id)
        .sort();
    const liveKids = async (account: string) => {
      const { rows } = await client.query(
        `SELECT id FROM ${SCHEMA}.account_contacts__contacts WHERE accountid = $1 AND isdeleted IS NOT TRUE`,
        [account],
      );
      return rows.map((r) => r.id as string).sort();
    };
    emulator.store.update(entering!, { Industry: 'Banking' });
    emulator.store.update(leaving!, { Industry: 'Media' });
    await sync('--pipelines', 'account_contacts');
    expect(await tableChildren()).toEqual(await freshChildren());
    expect(await liveKids(entering!)).toEqual([]);

    // The parents change, their contacts do not: the child's delta follows the parent's cursor.
    emulator.store.update(entering!, { Industry: 'Media' });
    emulator.store.update(leaving!, { Industry: 'Banking' });
    emulator.admin.clearRequestLog();
    await sync('--pipelines', 'account_contacts');
    expect(bulkJobs()).toHaveLength(0);
    const childDelta = restQueries()
      .map((e) => e.soql ?? '')
      .filter((q) => q.includes(' FROM Contact '));
    expect(childDelta).toHaveLength(1);
    expect(childDelta[0]).toContain(' OR Account.SystemModstamp >= ');
    expect(kidsOf(entering!).length).toBeGreaterThan(0);
    expect(await liveKids(entering!)).toEqual(kidsOf(entering!));
    // A parent that stops matching keeps its row, and so its children keep theirs, until a full read.
    expect(await liveIds('account_contacts')).toContain(leaving);
    const left = kidsOf(leaving!);
    expect(left.length).toBeGreaterThan(0);
    expect(await liveKids(leaving!)).toEqual(left);
    const stale = (await tableChildren()).filter((line) => line.startsWith(`${leaving} `));
    expect(await tableChildren()).toEqual([...(await freshChildren()), ...stale].sort());
    await sync('--pipelines', 'account_contacts', '--full-refresh');
    expect(await tableChildren()).toEqual(await freshChildren());
    expect(await liveKids(leaving!)).toEqual([]);
  });

  it("reads in full when a WHERE changes, the top one or a subquery's; rows matching no more are marked", async () => {
    const notBanking = CONTACTS;
    const banking = "SELECT Id, Name, (SELECT Id, LastName FROM Contacts) FROM Account WHERE Industry = 'Banking'";
    const subWhere =
      "SELECT Id, Name, (SELECT Id, LastName FROM Contacts WHERE LastName > 'M') FROM Account " +
      "WHERE Industry != 'Banking'";
    const run = async (soql: string) => {
      env = emulatorEnv(emulator, db.url, {
        SFSYNC_SCHEMA: SCHEMA,
        SFSYNC_CONFIG: writeConfig([{ name: 'account_contacts', soql }]),
      });
      await sync('--pipelines', 'account_contacts');
      expect(await liveIds('account_contacts')).toEqual(await freshIds(soql));
      expect(await tableChildren()).toEqual(await freshChildren(soql));
    };
    await run(notBanking);
    const all = (await freshIds(notBanking)).length;
    // Narrowed to the other accounts: those read before are marked deleted, their children no longer join.
    await run(banking);
    expect((await freshIds(banking)).length).toBeGreaterThan(0);
    const { rows } = await client.query(
      `SELECT count(*) FILTER (WHERE isdeleted)::int AS deleted FROM ${SCHEMA}.account_contacts`,
    );
    expect(rows[0].deleted).toBeGreaterThanOrEqual(all);
    // Back: the rows marked come back with the cursor they were marked with.
    await run(notBanking);
    // The subquery's WHERE alone: its table is read in full, the pipeline's own is not.
    await run(subWhere);
    await run(subWhere);
    expect(await runModes('pipeline:account_contacts')).toEqual([
      'initial',
      'full-refresh',
      'full-refresh',
      'incremental',
      'incremental',
    ]);
    expect(await runModes('pipeline:account_contacts__contacts')).toEqual([
      'initial',
      'full-refresh',
      'full-refresh',
      'full-refresh',
      'incremental',
    ]);
  });

  it("never loads a pipeline into an object's table, nor an object into a pipeline's", async () => {
    env = emulatorEnv(emulator, db.url, {
      SFSYNC_SCHEMA: SCHEMA,
      // Lead is named on the command line only: the config file's check cannot see it.
      SFSYNC_CONFIG: writeConfig([{ name: 'lead', soql: 'SELECT Id, Name, Owner.Email FROM Lead' }], ['Account']),
    });
    await sync('--objects', 'Lead');
    const before = await client.query(`SELECT count(*)::int AS n, max(systemmodstamp) AS m FROM ${SCHEMA}.lead`);
    const r = await runCli(['sync', '--pipelines', 'lead'], env);
    expect(r.code).not.toBe(0);
    expect(lastLine(r.stderr)).toMatch(/pipeline:lead: table rel\.lead is already loaded by Lead/);
    const after = await client.query(`SELECT count(*)::int AS n, max(systemmodstamp) AS m FROM ${SCHEMA}.lead`);
    expect(after.rows).toEqual(before.rows);
    const { rows } = await client.query("SELECT count(*)::int AS n FROM pg_attribute WHERE attname = 'owner_email'");
    expect(rows).toEqual([{ n: 0 }]);

    // The other way round: a pipeline named contact first, then the object Contact.
    env.SFSYNC_CONFIG = writeConfig([{ name: 'contact', soql: 'SELECT Id, LastName FROM Contact' }], ['Account']);
    await sync('--pipelines', 'contact');
    const object = await runCli(['sync', '--objects', 'Contact'], env);
    expect(object.code).not.toBe(0);
    expect(lastLine(object.stderr)).toMatch(/Contact: table rel\.contact is already loaded by pipeline:contact/);
  });

  it('refuses what a pipeline cannot keep current with one line and exit code 2, before any work', async () => {
    // One refused before login (its SOQL), the others after describe (paths, WHERE); the rest are unit tests.
    const cases: [unknown, RegExp][] = [
      [{ name: 'p', soql: 'SELECT Id FROM Account LIMIT 5' }, /^sfsync: pipeline p: LIMIT is not allowed/],
      [
        {
          name: 'p',
          soql: "SELECT Id, (SELECT Id FROM Contacts) FROM Account WHERE Owner.Manager.Manager.Manager.Name = 'x'",
        },
        /^sfsync: pipeline p: Owner\.Manager\.Manager\.Manager\.Name in WHERE has 5 levels: .* one level further/,
      ],
      [{ name: 'p', soql: 'SELECT Id, What.Name FROM Task' }, /^sfsync: pipeline p: What\.Name: .* polymorphic/],
      [{ name: 'p', soql: 'SELECT Id, Acount.Name FROM Contact' }, /Contact has no relationship 'Acount'/],
      [{ name: 'p', soql: "SELECT Id FROM Account WHERE Industy = 'x'" }, /pipeline p: WHERE: .*no field 'Industy'/],
    ];
    for (const [pipeline, message] of cases) {
      env = emulatorEnv(emulator, db.url, { SFSYNC_SCHEMA: SCHEMA, SFSYNC_CONFIG: writeConfig([pipeline]) });
      const r = await runCli(['sync'], env);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(lastLine(r.stderr)).toMatch(message);
    }
    const { rows } = await client.query("SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'rel'");
    expect(rows).toEqual([{ n: 0 }]);
  });
});

describe('relationship pipelines in sfsync schedule', () => {
  beforeEach(async () => {
    emulator = await createEmulator({ port: 0, accounts: 20, seed: 3 });
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  });
  afterEach(async () => {
    await client?.end();
    await emulator?.close();
  });

  it('runs the pipelines on every tick of a group that names no objects', async () => {
    const config = writeConfig([{ name: 'opp_accounts', soql: OPPS }]);
    const cli = startCli(['schedule', '--cron', '*/2 * * * * *'], {
      ...emulatorEnv(emulator, db.url, { SFSYNC_SCHEMA: SCHEMA, SFSYNC_CONFIG: config }),
      LOG_LEVEL: 'info',
    });
    try {
      let runs: { object: string; mode: string }[] = [];
      for (let i = 0; i < 200 && !runs.some((r) => r.mode === 'incremental'); i++) {
        await new Promise((r) => setTimeout(r, 100));
        runs = await client
          .query("SELECT object, mode FROM sfsync.runs WHERE object = 'pipeline:opp_accounts' AND status = 'succeeded'")
          .then((r) => r.rows)
          .catch(() => []);
      }
      expect(runs.map((r) => r.mode).slice(0, 2)).toEqual(['initial', 'incremental']);
      await expectOpportunitiesMatchFreshRead();
    } finally {
      cli.child.kill('SIGTERM');
      await cli.done;
    }
  });
});

describe('relationship pipelines over an object getDeleted refuses', () => {
  beforeEach(async () => {
    emulator = await createEmulator({
      profile: 'enterprise',
      accounts: 20,
      seed: 5,
      clockStart: new Date(Date.now() - minutes(2)),
    });
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  });
  afterEach(async () => {
    await client?.end();
    await emulator?.close();
  });

  it('reconciles its Ids on the default schedule of such an object (every 24 h)', async () => {
    const soql = 'SELECT Id, AccountAccessLevel, Account.Name FROM AccountShare';
    env = emulatorEnv(emulator, db.url, {
      SFSYNC_SCHEMA: SCHEMA,
      SFSYNC_CONFIG: writeConfig([{ name: 'shares', soql }]),
    });
    expect(emulator.store.object('AccountShare')?.replicateable).toBe(false);
    const runs = async () =>
      (
        await client.query(
          "SELECT mode, rows_deleted::int AS deleted FROM sfsync.runs WHERE object = 'pipeline:shares' ORDER BY id",
        )
      ).rows;
    const flags = async (ids: string[]) => {
      const { rows } = await client.query(`SELECT id, isdeleted FROM ${SCHEMA}.shares WHERE id = ANY($1)`, [ids]);
      return new Map(rows.map((r) => [r.id, r.isdeleted]));
    };
    await sync('--pipelines', 'shares');
    const [gone, kept] = orgRecords(emulator.store, 'AccountShare', { includeDeleted: false }).map((r) => r.Id);
    emulator.store.hardDelete(gone!);
    // Not due yet: nothing tells the row is gone (getDeleted is never asked).
    await sync('--pipelines', 'shares');
    expect(log().filter((e) => e.path.includes('/sobjects/AccountShare/deleted/'))).toEqual([]);
    expect(await flags([gone!, kept!])).toEqual(
      new Map([
        [gone, false],
        [kept, false],
      ]),
    );
    // A day later.
    await client.query(
      "UPDATE sfsync.runs SET started_at = started_at - interval '25 hours', " +
        "finished_at = finished_at - interval '25 hours' WHERE object = 'pipeline:shares'",
    );
    await sync('--pipelines', 'shares');
    expect(await runs()).toEqual([
      { mode: 'initial', deleted: 0 },
      { mode: 'incremental', deleted: 0 },
      { mode: 'incremental', deleted: 0 },
      { mode: 'reconcile', deleted: 1 },
    ]);
    expect(await flags([gone!, kept!])).toEqual(
      new Map([
        [gone, true],
        [kept, false],
      ]),
    );
  });
});
