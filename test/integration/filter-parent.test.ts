// A filter on a parent's field (config objects[].where = "Account.Industry IN (...)") through the spawned CLI, against
// the emulator over HTTP and a real PostgreSQL: a parent's change takes records in and out of the filter while their
// own SystemModstamp stays as it was, and each delta sees it, over REST and through Bulk
// (docs/salesforce.md#soql-filters).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/index.ts';
import type { SfRecord } from '../../emulator/types.ts';
import { runCli } from '../support/cli.ts';
import { useTestDatabase } from '../support/db.ts';
import { emulatorEnv } from '../support/emulatorEnv.ts';
import { orgRecords } from '../support/org.ts';

const SCHEMA = 'salesforce';
const KEPT = ['Banking', 'Technology'];
const WHERE = `Account.Industry IN (${KEPT.map((i) => `'${i}'`).join(', ')})`;
const db = useTestDatabase('file');
let emulator: Emulator;
let client: pg.Client;
let env: Record<string, string>;

async function sync(settings: Record<string, string> = {}): Promise<void> {
  const r = await runCli(['sync'], { ...env, ...settings });
  expect(r.code, r.stderr).toBe(0);
}

const contacts = () => orgRecords(emulator.store, 'Contact');
const accounts = () => orgRecords(emulator.store, 'Account');
const ids = (records: readonly SfRecord[]) => records.map((r) => String(r.Id)).sort();
/** The live Contacts the filter keeps, as Salesforce has them now. */
function matchingLive(): string[] {
  const industry = new Map(accounts().map((a) => [a.Id, a.Industry]));
  return ids(
    contacts().filter((c) => c.IsDeleted !== true && KEPT.includes(String(industry.get(String(c.AccountId))))),
  );
}

async function column(sql: string): Promise<string[]> {
  const { rows } = await client.query<{ id: string }>(sql);
  return rows.map((r) => r.id).sort();
}
const liveIds = () => column(`SELECT id FROM ${SCHEMA}.contact_live`);
const flaggedIds = () => column(`SELECT id FROM ${SCHEMA}.contact WHERE _sfsync_filtered_out`);
const lastMode = async () =>
  (await client.query("SELECT mode FROM sfsync.runs WHERE object = 'Contact' ORDER BY id DESC LIMIT 1")).rows[0]?.mode;

/** A live Account whose Industry `pick` accepts and that has live Contacts, with their Ids. */
function accountWithContacts(pick: (industry: unknown) => boolean): { id: string; contacts: string[] } {
  for (const a of accounts().filter((x) => x.IsDeleted !== true && pick(x.Industry))) {
    const mine = contacts().filter((c) => c.AccountId === a.Id && c.IsDeleted !== true);
    if (mine.length > 0) return { id: String(a.Id), contacts: ids(mine) };
  }
  throw new Error('the emulator seeded no such Account');
}

beforeAll(async () => {
  // The record clock runs 2 minutes behind the Date header: an update made now falls inside the next delta's window.
  emulator = await createEmulator({ port: 0, accounts: 60, seed: 23, clockStart: new Date(Date.now() - 2 * 60_000) });
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const dir = mkdtempSync(path.join(tmpdir(), 'sfsync-filter-parent-'));
  const file = path.join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({ objects: [{ name: 'Contact', where: WHERE }] }));
  env = emulatorEnv(emulator, db.url, { SFSYNC_SCHEMA: SCHEMA, SFSYNC_CONFIG: file });
});

afterAll(async () => {
  await client?.end();
  await emulator?.close();
});

describe('a filter on a parent field', () => {
  it('takes records in and out when only the parent changes, and brings them back when it changes back', async () => {
    await sync();
    expect(await liveIds()).toEqual(matchingLive());
    const leaving = accountWithContacts((i) => i === 'Technology');
    const joining = accountWithContacts((i) => !KEPT.includes(String(i)));
    const before = new Map(contacts().map((c) => [c.Id, c.SystemModstamp]));

    emulator.store.update(leaving.id, { Industry: 'Retail' });
    emulator.store.update(joining.id, { Industry: 'Banking' });
    // The Contacts themselves were not saved: only their parents' cursors moved.
    for (const c of [...leaving.contacts, ...joining.contacts])
      expect(contacts().find((x) => x.Id === c)?.SystemModstamp).toBe(before.get(c));
    // More changed records than the threshold: the delta goes through Bulk, its first window bounds the parents too.
    await sync({ SFSYNC_BULK_THRESHOLD: '1' });
    expect(await lastMode()).toBe('incremental');
    const { rows: via } = await client.query(
      "SELECT bulk_job_ids FROM sfsync.runs WHERE object = 'Contact' ORDER BY id DESC LIMIT 1",
    );
    expect(via[0].bulk_job_ids.length).toBeGreaterThan(0);
    expect(await flaggedIds()).toEqual(leaving.contacts);
    expect(await liveIds()).toEqual(matchingLive());
    for (const c of joining.contacts) expect(await liveIds()).toContain(c);

    // Back as it was: the same versions of the Contacts (same SystemModstamp) match again and clear their flags.
    emulator.store.update(leaving.id, { Industry: 'Technology' });
    await sync();
    expect(await lastMode()).toBe('incremental');
    expect(await flaggedIds()).toEqual([]);
    expect(await liveIds()).toEqual(matchingLive());
    for (const c of leaving.contacts) expect(await liveIds()).toContain(c);

    // A run with nothing changed leaves every row as it is.
    await sync();
    expect(await liveIds()).toEqual(matchingLive());
    const verify = await runCli(['verify', '--sample', '5'], env);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });

  it("sees parents' changes when a large delta is cut into Bulk windows, whatever the first window holds", async () => {
    // One record saved now and synced: the watermark is its cursor minus the overlap, so the delta's window spans
    // little more than the overlap, and that record sits in its second half: the first half holds no row of its own.
    const technology = new Set(
      accounts()
        .filter((a) => a.Industry === 'Technology')
        .map((a) => a.Id),
    );
    const other = contacts().find((c) => c.IsDeleted !== true && technology.has(String(c.AccountId)))!;
    emulator.store.update(String(other.Id), { Title: 'Saved itself' });
    await sync({ SFSYNC_OVERLAP_MINUTES: '10' });
    const leaving = accountWithContacts((i) => i === 'Banking');
    const joining = accountWithContacts((i) => !KEPT.includes(String(i)));
    emulator.store.update(leaving.id, { Industry: 'Retail' });
    emulator.store.update(joining.id, { Industry: 'Technology' });
    // None saved itself: every record of the delta comes through a parent, and its own cursor lies before the delta's
    // window, so only the first window (the one that bounds the parents' cursors) holds any.
    expect(leaving.contacts.length + joining.contacts.length).toBeGreaterThan(2);
    // Windows of two records: the delta is counted and cut into several Bulk jobs.
    await sync({ SFSYNC_BULK_THRESHOLD: '1', SFSYNC_WINDOW_ROWS: '2', SFSYNC_OVERLAP_MINUTES: '10' });
    const { rows } = await client.query(
      "SELECT mode, bulk_job_ids FROM sfsync.runs WHERE object = 'Contact' AND mode <> 'reconcile' " +
        'ORDER BY id DESC LIMIT 1',
    );
    expect(rows[0].mode).toBe('incremental');
    expect(rows[0].bulk_job_ids.length).toBeGreaterThan(1);
    expect(await liveIds()).toEqual(matchingLive());
    for (const c of leaving.contacts) expect(await flaggedIds()).toContain(c);
    for (const c of joining.contacts) expect(await liveIds()).toContain(c);
  });
});
