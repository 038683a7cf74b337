// Exact column types and picklist lookups through the CLI: the columns are typed as describe implies
// (docs/salesforce.md#field-sizes), drift widens them without losing a value and never narrows them, and
// sfsync.picklist_values follows describe (docs/salesforce.md#picklist-values). Emulator over HTTP + PostgreSQL.
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { describeField } from '../../emulator/describe.ts';
import { createEmulator, type Emulator } from '../../emulator/index.ts';
import type { FieldDef } from '../../emulator/types.ts';
import { alterColumnType, ensureTable } from '../../loaders/ddl.ts';
import { ensureLiveView } from '../../loaders/views.ts';
import { applyTypeChanges } from '../../pipelines/completeness/drift.ts';
import type { ObjectSpec } from '../../schemas/records.ts';
import { runCli } from '../support/cli.ts';
import { useTestDatabase } from '../support/db.ts';
import { emulatorEnv } from '../support/emulatorEnv.ts';
import { fieldSpec } from '../support/fieldSpec.ts';

const db = useTestDatabase();
let emulator: Emulator;
let client: pg.Client;

async function sync(schema: string, objects: string, exact = false): Promise<void> {
  const env = emulatorEnv(emulator, db.url, { SFSYNC_SCHEMA: schema, SFSYNC_EXACT_NUMERIC: exact ? '1' : '0' });
  const run = await runCli(['sync', '--objects', objects], env);
  expect(run.code, run.stderr).toBe(0);
}

async function columnTypes(schema: string, table: string): Promise<Record<string, string>> {
  const { rows } = await client.query<{ name: string; type: string }>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a
     WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped`,
    [`${schema}.${table}`],
  );
  return Object.fromEntries(rows.map((r) => [r.name, r.type]));
}

const TEXT_SIZED = ['id', 'reference', 'string', 'email', 'phone', 'url', 'picklist', 'combobox', 'encryptedstring'];
const PLAIN: Record<string, string> = {
  boolean: 'boolean',
  int: 'integer',
  long: 'bigint',
  date: 'date',
  datetime: 'timestamp with time zone',
  time: 'time without time zone',
  json: 'jsonb',
};

/** The column type the emulator's describe of a field implies, written out here from docs/salesforce.md#field-sizes. */
function impliedType(d: Record<string, unknown>, exact: boolean): string | null {
  const type = String(d.type);
  const length = Number(d.length);
  if (['address', 'location', 'base64'].includes(type)) return null;
  if (PLAIN[type]) return PLAIN[type];
  if (['double', 'currency', 'percent'].includes(type))
    return exact && !d.calculated && Number(d.precision) > 0 ? `numeric(${d.precision},${d.scale})` : 'numeric';
  const sized = TEXT_SIZED.includes(type) || (type === 'textarea' && length <= 255);
  return sized && !d.calculated && length > 0 ? `character varying(${length})` : 'text';
}

function describedFields(object: string): Record<string, unknown>[] {
  return emulator.store.object(object)!.fields.map((f: FieldDef) => describeField(f));
}

function expectTypesAsDescribed(actual: Record<string, string>, object: string, exact: boolean): number {
  const wanted: Record<string, string> = {};
  for (const d of describedFields(object)) {
    const t = impliedType(d, exact);
    if (t) wanted[String(d.name).toLowerCase()] = t;
  }
  const { _sfsync_marked: _, ...columns } = actual;
  expect(columns).toEqual(wanted);
  return Object.keys(wanted).length;
}

interface PicklistRow {
  field: string;
  value: string;
  label: string;
  active: boolean;
  is_default: boolean;
  sort_order: number;
}

/** describe's picklist entries of an object as sfsync.picklist_values rows. */
function describedPicklists(object: string): PicklistRow[] {
  return describedFields(object).flatMap((d) =>
    (d.picklistValues as { value: string; label: string; active: boolean; defaultValue: boolean }[]).map((p, i) => ({
      field: String(d.name),
      value: p.value,
      label: p.label,
      active: p.active,
      is_default: p.defaultValue,
      sort_order: i + 1,
    })),
  );
}

async function picklistRows(schema: string, object: string, removed = false): Promise<PicklistRow[]> {
  const { rows } = await client.query<PicklistRow>(
    `SELECT field, value, label, active, is_default, sort_order FROM sfsync.picklist_values
     WHERE target_schema = $1 AND object = $2 AND (removed_at IS NOT NULL) = $3 ORDER BY field, sort_order`,
    [schema, object, removed],
  );
  return rows;
}

const byFieldOrder = (rows: PicklistRow[]) =>
  [...rows].sort((a, b) => (a.field < b.field ? -1 : a.field > b.field ? 1 : a.sort_order - b.sort_order));

describe('exact types and picklist lookups', () => {
  beforeAll(async () => {
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  });
  beforeEach(async () => {
    emulator = await createEmulator({ port: 0, accounts: 20, seed: 21 });
  });
  afterEach(async () => {
    await emulator?.close();
  });
  afterAll(async () => {
    await client?.end();
  });

  it('types every column as describe implies: varchar(length), numeric(precision,scale) when asked', async () => {
    // Salesforce keeps the decimals an API client sent beyond the scale (Score__c has 6).
    const invoice = emulator.store.snapshot('Invoice__c').at(0)!;
    emulator.admin.update(invoice.Id, { Score__c: '3.141592653589793' });
    await sync('types_plain', 'Account,Invoice__c');
    await sync('types_exact', 'Invoice__c', true);
    const score = async (schema: string) =>
      (await client.query(`SELECT score__c::text AS s FROM ${schema}.invoice__c WHERE id = $1`, [invoice.Id])).rows[0]
        .s;
    // Why numeric(precision, scale) is opt-in: it rounds them.
    expect([await score('types_plain'), await score('types_exact')]).toEqual(['3.141592653589793', '3.141593']);
    const plain = await columnTypes('types_plain', 'invoice__c');
    expect(expectTypesAsDescribed(plain, 'Invoice__c', false)).toBeGreaterThan(30);
    expect(expectTypesAsDescribed(await columnTypes('types_plain', 'account'), 'Account', false)).toBeGreaterThan(20);
    const exact = await columnTypes('types_exact', 'invoice__c');
    expectTypesAsDescribed(exact, 'Invoice__c', true);
    // Spot checks of the decisions: ids and picklists sized, long text areas, multi-select picklists, formulas
    // and json not.
    expect(plain).toMatchObject({
      id: 'character varying(18)',
      account__c: 'character varying(18)',
      status__c: 'character varying(255)',
      contact_email__c: 'character varying(80)',
      description__c: 'text',
      tags__c: 'text',
      summary__c: 'text',
      amount__c: 'numeric',
    });
    expect(exact).toMatchObject({
      amount__c: 'numeric(18,2)',
      discount__c: 'numeric(5,2)',
      total_with_tax__c: 'numeric',
    });
    // The live view reads the typed columns.
    const { rows } = await client.query('SELECT count(*)::int AS n FROM types_plain.invoice__c_live');
    expect(rows[0].n).toBeGreaterThan(0);
  });

  it('widens a lengthened text field and a raised currency precision in place, and never narrows', async () => {
    // An org whose AnnualRevenue is Currency(16, 0) at the first load.
    emulator.admin.changeField('Account', 'AnnualRevenue', { precision: 16, scale: 0 });
    await sync('drift', 'Account', true);
    expect(await columnTypes('drift', 'account')).toMatchObject({
      accountnumber: 'character varying(40)',
      annualrevenue: 'numeric(16,0)',
    });
    const before = await client.query(
      'SELECT id, accountnumber, annualrevenue::text AS r FROM drift.account ORDER BY id',
    );
    expect(before.rows.length).toBeGreaterThan(10);

    emulator.admin.changeField('Account', 'AccountNumber', { length: 80 });
    emulator.admin.changeField('Account', 'AnnualRevenue', { precision: 18, scale: 2 });
    const long = `AC-${'x'.repeat(70)}`;
    const target = before.rows.find((r) => r.accountnumber !== null)!;
    emulator.admin.update(target.id, { AccountNumber: long, AnnualRevenue: '1234567890123456.78' });
    await sync('drift', 'Account', true);

    expect(await columnTypes('drift', 'account')).toMatchObject({
      accountnumber: 'character varying(80)',
      annualrevenue: 'numeric(18,2)',
    });
    const after = await client.query(
      'SELECT id, accountnumber, annualrevenue::text AS r FROM drift.account ORDER BY id',
    );
    // Every row loaded before is still there with its values, the changed one has its new, wider values.
    expect(after.rows.map((r) => r.id)).toEqual(before.rows.map((r) => r.id));
    for (const [i, row] of after.rows.entries()) {
      if (row.id === target.id) expect(row).toMatchObject({ accountnumber: long, r: '1234567890123456.78' });
      else
        expect([row.accountnumber, row.r === null ? null : Number(row.r)]).toEqual([
          before.rows[i].accountnumber,
          before.rows[i].r === null ? null : Number(before.rows[i].r),
        ]);
    }
    const live = await client.query('SELECT accountnumber FROM drift.account_live WHERE id = $1', [target.id]);
    expect(live.rows).toEqual([{ accountnumber: long }]);

    // Describe narrows the field again: the column keeps its width (the long value is still there); an event says so.
    emulator.admin.changeField('Account', 'AccountNumber', { length: 60 });
    await sync('drift', 'Account', true);
    expect((await columnTypes('drift', 'account')).accountnumber).toBe('character varying(80)');
    const events = await client.query(
      `SELECT field, kind, old_type, new_type, action FROM sfsync.schema_events
       WHERE target_schema = 'drift' AND object = 'Account' ORDER BY id`,
    );
    expect(events.rows).toEqual([
      {
        field: 'AccountNumber',
        kind: 'size-changed',
        old_type: 'string(40)',
        new_type: 'string(80)',
        action: 'widened varchar(40) -> varchar(80)',
      },
      {
        field: 'AnnualRevenue',
        kind: 'size-changed',
        old_type: 'currency(16,0)',
        new_type: 'currency(18,2)',
        action: 'widened numeric(16,0) -> numeric(18,2)',
      },
      {
        field: 'AccountNumber',
        kind: 'size-changed',
        old_type: 'string(80)',
        new_type: 'string(60)',
        action: 'column kept: it holds the new size (a column is never narrowed)',
      },
    ]);
    // Nothing changed since: no ALTER (the table keeps its file) and no further event.
    const file = async () => (await client.query("SELECT pg_relation_filenode('drift.account') AS f")).rows[0].f;
    const fileBefore = await file();
    await sync('drift', 'Account', true);
    expect(await file()).toBe(fileBefore);
    const count = await client.query(
      "SELECT count(*)::int AS n FROM sfsync.schema_events WHERE target_schema = 'drift'",
    );
    expect(count.rows[0].n).toBe(3);
  });

  it('widens a varchar, and a numeric keeping its scale, without rewriting the table', async () => {
    await client.query('CREATE SCHEMA IF NOT EXISTS rewrite');
    await client.query('CREATE TABLE rewrite.t (id varchar(18) PRIMARY KEY, name varchar(40), n numeric(16,2))');
    await client.query("INSERT INTO rewrite.t SELECT 'id' || i, 'name ' || i, i FROM generate_series(1, 100) AS i");
    const file = async () => (await client.query("SELECT pg_relation_filenode('rewrite.t') AS f")).rows[0].f;
    const before = await file();
    await alterColumnType(client, 'rewrite', 't', 'name', 'varchar(80)');
    await alterColumnType(client, 'rewrite', 't', 'n', 'numeric(20,2)');
    expect(await file()).toBe(before);
    expect(await columnTypes('rewrite', 't')).toMatchObject({ name: 'character varying(80)', n: 'numeric(20,2)' });
  });

  it('keeps a column a view of the user reads, says why, and widens it once the view is gone', async () => {
    const fields = (length: number) => [
      fieldSpec('Id', 'id', { length: 18 }),
      fieldSpec('Code__c', 'string', { length }),
    ];
    const spec = (length: number): ObjectSpec => ({
      name: 'Thing__c',
      table: 'thing__c',
      label: 'Thing',
      fields: [...fields(length), fieldSpec('IsDeleted', 'boolean')],
      cursorField: null,
      hasIsDeleted: true,
    });
    await ensureTable(client, 'blocked', spec(40));
    await ensureLiveView(client, 'blocked', 'thing__c');
    await client.query('CREATE VIEW blocked.codes AS SELECT code__c FROM blocked.thing__c');
    const blocked: string[] = [];
    const actions = await applyTypeChanges(client, 'blocked', spec(80), {}, (column) => blocked.push(column));
    expect(blocked).toEqual(['code__c']);
    expect(actions.get('code__c')).toMatch(/^kept character varying\(40\): cannot alter type .*view blocked\.codes/);
    expect((await columnTypes('blocked', 'thing__c')).code__c).toBe('character varying(40)');
    // The live view sfsync dropped to try is back.
    expect((await client.query("SELECT to_regclass('blocked.thing__c_live') AS v")).rows[0].v).toBe(
      'blocked.thing__c_live',
    );
    await client.query('DROP VIEW blocked.codes');
    expect([...(await applyTypeChanges(client, 'blocked', spec(80)))]).toEqual([
      ['code__c', 'widened varchar(40) -> varchar(80)'],
    ]);
  });

  it('fails the load on a value wider than describe says, watermark kept; a widened column then takes it', async () => {
    await sync('wide', 'Account');
    const watermark = async () =>
      (await client.query("SELECT watermark::text AS w FROM sfsync.watermarks WHERE target_schema = 'wide'")).rows[0].w;
    const before = await watermark();
    // Data from before the length was reduced: the org holds more than describe's 40 characters.
    const id = emulator.store.snapshot('Account').at(1)!.Id;
    const long = `LEGACY-${'9'.repeat(50)}`;
    emulator.store.update(id, { AccountNumber: long });
    const env = emulatorEnv(emulator, db.url, { SFSYNC_SCHEMA: 'wide' });
    const failed = await runCli(['sync', '--objects', 'Account'], env);
    expect(failed.code).toBe(1);
    const output = failed.stdout + failed.stderr;
    expect(output).toContain('value too long for type character varying(40)');
    expect(output).toContain('column accountnumber');
    expect(output).toContain('widen that column');
    expect(output).not.toMatch(/\n\s+at /);
    expect(await watermark()).toBe(before);

    await client.query('DROP VIEW wide.account_live');
    await client.query('ALTER TABLE wide.account ALTER COLUMN accountnumber TYPE text');
    await sync('wide', 'Account');
    expect((await columnTypes('wide', 'account')).accountnumber).toBe('text');
    const { rows } = await client.query('SELECT accountnumber FROM wide.account_live WHERE id = $1', [id]);
    expect(rows).toEqual([{ accountnumber: long }]);
  });

  it('keeps a table from before exact types as it is: text and numeric are wider, nothing is altered', async () => {
    await sync('legacy', 'Invoice__c', true);
    // As an older sfsync left it: unconstrained columns and a field snapshot without sizes.
    await client.query('DROP VIEW legacy.invoice__c_live');
    for (const [column, type] of Object.entries(await columnTypes('legacy', 'invoice__c'))) {
      if (type.startsWith('character varying'))
        await client.query(`ALTER TABLE legacy.invoice__c ALTER ${column} TYPE text`);
      if (type.startsWith('numeric(')) await client.query(`ALTER TABLE legacy.invoice__c ALTER ${column} TYPE numeric`);
    }
    await client.query(
      `UPDATE sfsync.object_state
       SET fields = (SELECT jsonb_object_agg(k, v - 'size') FROM jsonb_each(fields) AS e(k, v))
       WHERE target_schema = 'legacy'`,
    );
    const typesBefore = await columnTypes('legacy', 'invoice__c');
    await sync('legacy', 'Invoice__c', true);
    expect(await columnTypes('legacy', 'invoice__c')).toEqual(typesBefore);
    expect(Object.values(typesBefore).some((t) => t.startsWith('character varying') || t.startsWith('numeric('))).toBe(
      false,
    );
    const events = await client.query(
      "SELECT count(*)::int AS n FROM sfsync.schema_events WHERE target_schema = 'legacy'",
    );
    expect(events.rows[0].n).toBe(0);
    // The snapshot has its sizes again, so the next real change is seen.
    const { rows } = await client.query(
      `SELECT fields -> 'Amount__c' ->> 'size' AS size FROM sfsync.object_state WHERE target_schema = 'legacy'`,
    );
    expect(rows).toEqual([{ size: '18,2' }]);
  });

  it('keeps sfsync.picklist_values equal to describe per data schema, and follows a change of it', async () => {
    await sync('pick_a', 'Account,Invoice__c');
    await sync('pick_b', 'Invoice__c');
    for (const object of ['Account', 'Invoice__c']) {
      const wanted = byFieldOrder(describedPicklists(object));
      expect(wanted.length).toBeGreaterThan(5);
      expect(await picklistRows('pick_a', object)).toEqual(wanted);
    }
    // Labels, an inactive entry and the default as describe gives them.
    expect((await picklistRows('pick_a', 'Invoice__c')).filter((r) => r.field === 'Status__c')).toEqual([
      { field: 'Status__c', value: 'Draft', label: 'Draft', active: true, is_default: true, sort_order: 1 },
      { field: 'Status__c', value: 'Sent', label: 'Sent', active: true, is_default: false, sort_order: 2 },
      { field: 'Status__c', value: 'Paid', label: 'Paid', active: true, is_default: false, sort_order: 3 },
      { field: 'Status__c', value: 'Void', label: 'Void', active: true, is_default: false, sort_order: 4 },
      {
        field: 'Status__c',
        value: 'Disputed',
        label: 'Disputed (retired)',
        active: false,
        is_default: false,
        sort_order: 5,
      },
    ]);
    const stamp = async () =>
      (
        await client.query(
          "SELECT max(updated_at)::text AS t FROM sfsync.picklist_values WHERE target_schema = 'pick_a'",
        )
      ).rows[0].t;
    const unchanged = await stamp();
    await sync('pick_a', 'Invoice__c');
    expect(await stamp()).toBe(unchanged);

    // An admin relabels, reorders, retires and adds values, and drops one, over the emulator's HTTP admin API.
    const res = await fetch(`${emulator.url}/__admin/fields/Invoice__c/Status__c`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        picklistValues: [
          { value: 'Sent', label: 'Sent to customer' },
          { value: 'Draft', active: false },
          'Paid',
          { value: 'Refunded', defaultValue: true },
          { value: 'Disputed', label: 'Disputed (retired)', active: false },
        ],
      }),
    });
    expect(res.status).toBe(204);
    await sync('pick_a', 'Invoice__c');
    expect(await picklistRows('pick_a', 'Invoice__c')).toEqual(byFieldOrder(describedPicklists('Invoice__c')));
    expect(
      (await picklistRows('pick_a', 'Invoice__c')).filter((r) => r.field === 'Status__c').map((r) => r.value),
    ).toEqual(['Sent', 'Draft', 'Paid', 'Refunded', 'Disputed']);
    // Void is no longer listed: kept, marked removed, with its last label for records that still hold it.
    expect(await picklistRows('pick_a', 'Invoice__c', true)).toEqual([
      { field: 'Status__c', value: 'Void', label: 'Void', active: true, is_default: false, sort_order: 4 },
    ]);
    // The other data schema was not synced since: it still has describe as it was.
    const other = await picklistRows('pick_b', 'Invoice__c');
    expect(other.find((r) => r.value === 'Void')).toMatchObject({ active: true });
    expect(other.find((r) => r.value === 'Refunded')).toBeUndefined();
  });
});
