// Column control and hashed columns through the CLI, against the emulator and PostgreSQL: excluded fields are in no
// SOQL the org receives; a hashed field's raw value is nowhere in the database (any table, any schema, sfsync.* too)
// nor in any output (stdout, stderr with --verbose, --log-file), after the Bulk initial load, a REST delta, a drift
// back-fill and hashing turned on for a column already loaded; changing the lists is recorded as drift.
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/index.ts';
import { type CliResult, lastLine, runCli } from '../support/cli.ts';
import { useTestDatabase } from '../support/db.ts';
import { emulatorEnv } from '../support/emulatorEnv.ts';
import { orgRecords } from '../support/org.ts';

const db = useTestDatabase();
const dir = mkdtempSync(path.join(tmpdir(), 'sfsync-columns-'));
const KEY = 'columns-test-hash-key-0123456789';
const SCHEMA = 'salesforce';
let emulator: Emulator;
let client: pg.Client;
/** Every output of every run, to scan. */
const outputs: string[] = [];

const hmac = (v: string) => createHmac('sha256', KEY).update(v, 'utf8').digest('hex');

type Columns = { include?: string[]; exclude?: string[]; hash?: string[] };

/** `sfsync --verbose --log-file <file> <command>` with this config file. */
async function runCommand(command: string[], contact: Columns, lead: Columns, schema = SCHEMA): Promise<CliResult> {
  const config = path.join(dir, `config-${outputs.length}.json`);
  const logFile = path.join(dir, `sync-${outputs.length}.log`);
  writeFileSync(
    config,
    JSON.stringify({
      objects: [
        // With history: the versions kept before a column was hashed must not keep its raw values either.
        { name: 'Contact', columns: contact, history: true },
        { name: 'Lead', columns: lead },
      ],
    }),
  );
  const env = emulatorEnv(emulator, db.url, {
    SFSYNC_CONFIG: config,
    SFSYNC_HASH_KEY: KEY,
    SFSYNC_SCHEMA: schema,
    LOG_LEVEL: 'debug',
  });
  const result = await runCli(['--verbose', '--log-file', logFile, ...command], env);
  let logged = '';
  try {
    logged = readFileSync(logFile, 'utf8');
  } catch {
    // A run refused before its logger started writes no file.
  }
  outputs.push(`${result.stdout}\n${result.stderr}\n${logged}`);
  return result;
}

/** `sfsync sync`, which must succeed. */
async function succeeded(contact: Columns, lead: Columns): Promise<CliResult> {
  emulator.admin.clearRequestLog();
  const run = await runCommand(['sync'], contact, lead);
  expect(run.code, run.stderr.slice(-2000)).toBe(0);
  return run;
}

/** Every row of every table in every schema, all columns cast to text. */
async function databaseText(): Promise<{ tables: string[]; text: string }> {
  const { rows: tables } = await client.query<{ name: string }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
       AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%' ORDER BY 1`,
  );
  let text = '';
  for (const t of tables) {
    const { rows } = await client.query<{ row: string }>(`SELECT r::text AS row FROM ${t.name} r`);
    for (const r of rows) text += `${r.row}\n`;
  }
  return { tables: tables.map((t) => t.name), text };
}

/** `values` appear in no table and no output; neither does the key. */
async function expectNowhere(values: ReadonlySet<string>): Promise<void> {
  expect(values.size).toBeGreaterThan(20);
  const { tables, text } = await databaseText();
  expect(tables).toEqual(expect.arrayContaining(['salesforce.contact', 'salesforce.lead', 'sfsync.runs']));
  const all = outputs.join('\n');
  // The outputs scanned are the debug log of every run, not empty ones.
  expect(all).toContain('"msg":"object synced"');
  for (const v of [...values, KEY]) {
    expect(text.includes(v), `${v} in the database`).toBe(false);
    expect(all.includes(v), `${v} in the output`).toBe(false);
  }
}

/** The current text values of `field` in the org, for records that have one. */
function orgValues(object: string, field: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of orgRecords(emulator.store, object)) if (typeof r[field] === 'string') out.set(r.Id, r[field]);
  return out;
}

async function columnOf(table: string, column: string): Promise<Map<string, string | null>> {
  const { rows } = await client.query(`SELECT id, ${column}::text AS v FROM ${SCHEMA}.${table}`);
  return new Map(rows.map((r) => [r.id as string, r.v as string | null]));
}

/** Every hashed value is the HMAC of the org's value, and no record with a value was left without one. */
async function expectHashed(object: string, field: string): Promise<void> {
  const stored = await columnOf(object.toLowerCase(), field.toLowerCase());
  const org = orgValues(object, field);
  expect(org.size).toBeGreaterThan(3);
  for (const [id, value] of org) expect(stored.get(id), `${object} ${id} ${field}`).toBe(hmac(value));
}

/** The SOQL the emulator received (REST `q`, Bulk job bodies) for an object. */
function soqlOf(object: string): string[] {
  return emulator.admin
    .requestLog()
    .map((e) => e.soql)
    .filter((q): q is string => q !== undefined && new RegExp(`\\bFROM ${object}\\b`).test(q));
}

/** No SOQL of `object` names a `forbidden` field; at least one read its records. Returns the SELECT lists. */
function expectNotAsked(object: string, forbidden: RegExp): string[][] {
  const queries = soqlOf(object);
  for (const q of queries) expect(q).not.toMatch(forbidden);
  const selects = queries.map((q) => /^SELECT (.*?) FROM /.exec(q)?.[1] ?? '').filter((s) => s !== 'COUNT()');
  expect(selects.length).toBeGreaterThan(0);
  return selects.map((list) => list.split(', '));
}

/** Every field selected from `object` is one of `allowed`. */
function expectSelectedOnly(object: string, allowed: readonly string[]): void {
  for (const list of expectNotAsked(object, /^$/)) expect(list.filter((f) => !allowed.includes(f))).toEqual([]);
}

const CONTACT_1: Columns = { exclude: ['Description', 'MailingAddress', 'Title'], hash: ['Email', 'Birthdate'] };
const LEAD_1: Columns = { include: ['LastName', 'Company', 'Email'], hash: ['Email'] };
let contact2: Columns;
let lead2: Columns;
const LEAD_FIELDS = ['Id', 'IsDeleted', 'SystemModstamp', 'LastName', 'Company', 'Email'];
/** Raw values of hashed fields seen so far: none may ever be found. */
const raw = new Set<string>();
const remember = (object: string, field: string) => {
  for (const v of orgValues(object, field).values()) raw.add(v);
};

describe('column control and hashed columns through the CLI', () => {
  beforeAll(async () => {
    // The org's record clock runs 2 minutes behind its Date header, so getDeleted (whole minutes up to the server's
    // now, docs/salesforce.md#getdeleted) already lists a record hard-deleted a moment ago.
    emulator = await createEmulator({ port: 0, accounts: 40, seed: 23, clockStart: new Date(Date.now() - 120_000) });
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await emulator?.close();
  });

  it('refuses a misspelt or unhashable field before any work, exit 2 with a suggestion', async () => {
    const run = await runCommand(['sync'], { hash: ['Emal', 'CreatedDate'] }, {}, 'refused');
    expect(run.code).toBe(2);
    const line = lastLine(run.stderr);
    expect(line).toMatch(/^sfsync: Contact columns: hash: 'Emal' .*; nothing was run$/);
    expect(line).toContain("hash: 'Emal' (did you mean Email?) is not a field of Contact");
    expect(line).toContain('hash: CreatedDate is a datetime field');
    const { rows } = await client.query("SELECT to_regclass('refused.contact') AS t, to_regclass('refused.lead') AS l");
    expect(rows).toEqual([{ t: null, l: null }]);
  });

  it('initial load (Bulk): excluded fields never asked for, hashed ones stored as HMACs that join', async () => {
    // A lead with a contact's email: the hashes must meet.
    const [contactId, email] = [...orgValues('Contact', 'Email')][0]!;
    const lead = orgRecords(emulator.store, 'Lead', { includeDeleted: false })[0]!;
    emulator.store.update(lead.Id, { Email: email });
    const run = await succeeded(CONTACT_1, LEAD_1);
    expect(run.stdout).toMatch(/^Contact\s+initial\s.*via bulk/m);
    expect(run.stdout).toMatch(/^Lead\s+initial\s.*via bulk/m);
    const { rows: columns } = await client.query(
      `SELECT table_name AS t, column_name AS c, data_type AS type FROM information_schema.columns
       WHERE table_schema = $1 AND table_name IN ('contact', 'lead') ORDER BY 1, ordinal_position`,
      [SCHEMA],
    );
    const contactColumns = columns.filter((c) => c.t === 'contact').map((c) => c.c);
    expect(contactColumns).toEqual(expect.arrayContaining(['email', 'birthdate', 'phone', 'lastname']));
    for (const gone of ['description', 'title', 'mailingstreet', 'mailingcity', 'mailinglatitude'])
      expect(contactColumns).not.toContain(gone);
    expect(columns.filter((c) => c.t === 'lead').map((c) => c.c)).toEqual([
      'id',
      'isdeleted',
      'systemmodstamp',
      'lastname',
      'company',
      'email',
      '_sfsync_marked',
    ]);
    expect(columns.find((c) => c.t === 'contact' && c.c === 'birthdate')?.type).toBe('text');
    await expectHashed('Contact', 'Email');
    await expectHashed('Contact', 'Birthdate');
    await expectHashed('Lead', 'Email');
    const { rows: joined } = await client.query(
      `SELECT c.id FROM ${SCHEMA}.contact c JOIN ${SCHEMA}.lead l ON l.email = c.email WHERE l.id = $1`,
      [lead.Id],
    );
    expect(joined).toEqual([{ id: contactId }]);
    // The README's way to hash a lookup value in PostgreSQL gives the stored hash.
    await client.query('CREATE EXTENSION IF NOT EXISTS pgcrypto');
    const { rows: lookup } = await client.query(
      `SELECT c.id FROM ${SCHEMA}.contact c WHERE c.email = encode(hmac($1::text, $2::text, 'sha256'), 'hex')`,
      [email, KEY],
    );
    expect(lookup).toEqual([{ id: contactId }]);
    expectSelectedOnly('Lead', LEAD_FIELDS);
    expectNotAsked('Contact', /\b(Description|Title|Mailing\w*)\b/);
    for (const f of ['Email', 'Birthdate']) remember('Contact', f);
    remember('Lead', 'Email');
    await expectNowhere(raw);
  });

  it('delta (REST): changed and new records are hashed too', async () => {
    const [a, b] = orgRecords(emulator.store, 'Contact', { includeDeleted: false });
    emulator.store.update(a!.Id, { Email: 'changed.address@example.com', Birthdate: '1990-07-15' });
    emulator.store.update(b!.Id, { Email: null });
    const fresh = emulator.store.insert('Contact', { LastName: 'Newcomer', Email: 'new.person@example.com' });
    const run = await succeeded(CONTACT_1, LEAD_1);
    expect(run.stdout).toMatch(/^Contact\s+incremental\s.*via rest/m);
    const emails = await columnOf('contact', 'email');
    expect(emails.get(a!.Id)).toBe(hmac('changed.address@example.com'));
    expect(emails.get(b!.Id)).toBeNull();
    expect(emails.get(fresh.Id)).toBe(hmac('new.person@example.com'));
    expect((await columnOf('contact', 'birthdate')).get(a!.Id)).toBe(hmac('1990-07-15'));
    expect(soqlOf('Contact').some((q) => q.includes('ORDER BY SystemModstamp'))).toBe(true);
    expectSelectedOnly('Lead', LEAD_FIELDS);
    expectNotAsked('Contact', /\b(Description|Title|Mailing\w*)\b/);
    for (const v of ['changed.address@example.com', '1990-07-15', 'new.person@example.com']) raw.add(v);
    await expectNowhere(raw);
  });

  it('changing the lists: added fields back-filled, left-out ones kept, new hashes made in place', async () => {
    // Loaded as read so far; hashed from now on, in the rows of records Salesforce no longer returns too.
    const phones = orgValues('Contact', 'Phone');
    const [goneId] = [...phones.keys()];
    emulator.store.hardDelete(goneId!);
    const salutations = await columnOf('contact', 'salutation');
    contact2 = {
      exclude: ['Description', 'MailingAddress', 'Salutation'],
      hash: ['Email', 'Birthdate', 'Phone'],
    };
    lead2 = { include: ['LastName', 'Company', 'Email', 'Phone'], hash: ['Email', 'Phone'] };
    await succeeded(contact2, lead2);
    const storedPhones = await columnOf('contact', 'phone');
    expect(storedPhones.get(goneId!)).toBe(hmac(phones.get(goneId!)!));
    await expectHashed('Contact', 'Phone');
    // Back-filled through a narrow Bulk job: hashed on the way.
    await expectHashed('Lead', 'Phone');
    await expectHashed('Contact', 'Email');
    // Title came back as read; Salutation is no longer asked for, its column and values stay.
    const titles = orgValues('Contact', 'Title');
    expect(titles.size).toBeGreaterThan(3);
    const storedTitles = await columnOf('contact', 'title');
    for (const [id, t] of titles) expect(storedTitles.get(id)).toBe(t);
    expect([...salutations.values()].filter((v) => v !== null).length).toBeGreaterThan(3);
    expect(await columnOf('contact', 'salutation')).toEqual(salutations);
    expectNotAsked('Contact', /\b(Description|Salutation|Mailing\w*)\b/);
    expectSelectedOnly('Lead', [...LEAD_FIELDS, 'Phone']);
    const { rows: events } = await client.query(
      `SELECT object, field, kind, action FROM sfsync.schema_events WHERE target_schema = $1 ORDER BY id`,
      [SCHEMA],
    );
    expect(events.map((e) => [e.object, e.field, e.kind])).toEqual(
      expect.arrayContaining([
        ['Contact', 'Phone', 'hashed'],
        ['Contact', 'Title', 'added'],
        ['Contact', 'Salutation', 'removed'],
        ['Lead', 'Phone', 'added'],
      ]),
    );
    const { rows: state } = await client.query(
      "SELECT fields->'Phone'->>'hashed' AS hashed FROM sfsync.object_state WHERE object = 'Contact'",
    );
    expect(state).toEqual([{ hashed: 'true' }]);
    expect(events.find((e) => e.field === 'Phone' && e.kind === 'hashed')?.action).toMatch(
      /hashed in place \(\d+ rows\)/,
    );
    expect(events.find((e) => e.field === 'Salutation')?.action).toBe('column and data kept');
    for (const v of phones.values()) raw.add(v);
    remember('Lead', 'Phone');
    await expectNowhere(raw);
    const { rows: history } = await client.query(
      `SELECT count(*)::int AS versions, count(*) FILTER (WHERE phone !~ '^[0-9a-f]{64}$')::int AS raw
       FROM ${SCHEMA}.contact_history WHERE phone IS NOT NULL`,
    );
    expect(history[0].versions).toBeGreaterThan(phones.size);
    expect(history[0].raw).toBe(0);
  });

  it('backfill (Bulk windows) loads hashes too, and asks for no left-out field', async () => {
    // Rows the backfill must write again: their cursor equals what it reads, their hashed values differ.
    const { rows: blanked } = await client.query(
      `UPDATE ${SCHEMA}.contact SET email = NULL, phone = NULL WHERE email IS NOT NULL AND NOT _sfsync_marked
       RETURNING id`,
    );
    expect(blanked.length).toBeGreaterThan(20);
    emulator.admin.clearRequestLog();
    const backfill = await runCommand(
      ['backfill', '--objects', 'Contact', '--since', '1900-01-01', '--window', '1200mo'],
      contact2,
      lead2,
    );
    expect(backfill.code, backfill.stderr.slice(-2000)).toBe(0);
    const emails = await columnOf('contact', 'email');
    const org = orgValues('Contact', 'Email');
    for (const { id } of blanked) expect(emails.get(id), id).toBe(hmac(org.get(id)!));
    await expectHashed('Contact', 'Phone');
    expect(emulator.admin.requestLog().some((e) => e.method === 'POST' && /\/jobs\/query$/.test(e.path))).toBe(true);
    expectNotAsked('Contact', /\b(Description|Salutation|Mailing\w*)\b/);
    await expectNowhere(raw);
  });

  it('verify compares hashes with hashes of the Salesforce values', async () => {
    const verify = await runCommand(['verify', '--sample', '200'], contact2, lead2);
    expect(verify.code, verify.stdout + verify.stderr.slice(-1000)).toBe(0);
    expect(verify.stdout).toMatch(/^Contact\s.*\s[1-9]\d*\s+ok$/m);
    expect(verify.stdout).toMatch(/^Lead\s.*\s[1-9]\d*\s+ok$/m);
    await expectNowhere(raw);
  });

  it('a field no longer hashed is re-read as it is in Salesforce, and the change recorded', async () => {
    await succeeded({ ...contact2, hash: ['Email', 'Phone'] }, lead2);
    const birthdates = orgValues('Contact', 'Birthdate');
    const stored = await columnOf('contact', 'birthdate');
    for (const [id, value] of birthdates) expect(stored.get(id), id).toBe(value);
    const { rows } = await client.query(
      "SELECT action FROM sfsync.schema_events WHERE object = 'Contact' AND field = 'Birthdate' AND kind = 'unhashed'",
    );
    // The delta of this run already read the records changed lately as they are; the back-fill did the rest.
    expect(rows).toHaveLength(1);
    const filled = Number(/^no longer hashed; back-filled (\d+) rows as read$/.exec(rows[0].action)?.[1]);
    expect(filled).toBeGreaterThan(birthdates.size - 5);
  });
});
