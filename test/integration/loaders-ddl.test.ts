import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FieldSpec, ObjectSpec } from '../../schemas/records.ts';
import { cursorIndexName, ensureTable, existingColumns, tableIsEmpty } from '../../loaders/ddl.ts';
import { ensureLiveView, liveViewName } from '../../loaders/views.ts';
import { useTestDatabase } from '../support/db.ts';
import { fieldSpec } from '../support/fieldSpec.ts';

const db = useTestDatabase();

const field = (name: string, sfType: string, extra: Partial<FieldSpec> = {}) =>
  fieldSpec(name, sfType, { label: `${name} label`, ...extra });

const v1: ObjectSpec = {
  name: 'Account',
  table: 'account',
  label: 'Account',
  fields: [
    field('Id', 'id'),
    field('Name', 'string'),
    field('Type', 'picklist', { picklistValues: ['Prospect', "Customer's"] }),
    field('AnnualRevenue', 'currency'),
    field('SystemModstamp', 'datetime'),
  ],
  cursorField: 'SystemModstamp',
  hasIsDeleted: false,
};

describe('ensureTable', () => {
  let client: pg.Client;
  beforeAll(async () => {
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  });
  afterAll(async () => client?.end());

  it('creates schema, typed table, primary key, comments and the cursor index', async () => {
    expect(await ensureTable(client, 'Sales Force', v1)).toEqual({ created: true, addedColumns: [] });
    const { rows: cols } = await client.query(
      `SELECT column_name, data_type, col_description('"Sales Force".account'::regclass, ordinal_position) AS comment
       FROM information_schema.columns WHERE table_schema = 'Sales Force' AND table_name = 'account'
       ORDER BY ordinal_position`,
    );
    expect(cols.map((c) => [c.column_name, c.data_type])).toEqual([
      ['id', 'text'],
      ['name', 'text'],
      ['type', 'text'],
      ['annualrevenue', 'numeric'],
      ['systemmodstamp', 'timestamp with time zone'],
      ['_sfsync_marked', 'boolean'],
    ]);
    expect(cols[2].comment).toBe("Type label (Salesforce Type, type picklist). Values: Prospect, Customer's");
    const { rows: meta } = await client.query(
      `SELECT obj_description('"Sales Force".account'::regclass) AS comment,
        (SELECT array_agg(indexdef ORDER BY indexname) FROM pg_indexes
         WHERE schemaname = 'Sales Force' AND tablename = 'account') AS indexes`,
    );
    expect(meta[0].comment).toBe('Account (Salesforce Account)');
    expect(meta[0].indexes).toHaveLength(2);
    expect(meta[0].indexes.join()).toMatch(/UNIQUE INDEX account_pkey .*\(id\)/);
    expect(meta[0].indexes.join()).toMatch(/account_systemmodstamp_idx .*\(systemmodstamp\)/);
    expect(await tableIsEmpty(client, 'Sales Force', 'account')).toBe(true);
  });

  it('adds new columns, never drops, and is idempotent', async () => {
    const v2 = {
      ...v1,
      fields: [...v1.fields.filter((f) => f.name !== 'Type'), field('Rating__c', 'int'), field('Open__c', 'boolean')],
    };
    await client.query(`INSERT INTO "Sales Force".account (id, name) VALUES ('001', 'kept')`);
    expect(await ensureTable(client, 'Sales Force', v2)).toEqual({
      created: false,
      addedColumns: ['rating__c', 'open__c'],
    });
    expect(await ensureTable(client, 'Sales Force', v2)).toEqual({ created: false, addedColumns: [] });
    expect(await existingColumns(client, 'Sales Force', 'account')).toEqual([
      'id',
      'name',
      'type',
      'annualrevenue',
      'systemmodstamp',
      '_sfsync_marked',
      'rating__c',
      'open__c',
    ]);
    expect(await tableIsEmpty(client, 'Sales Force', 'account')).toBe(false);
  });

  it('takes no table lock when nothing changed (autovacuum not kept waiting); updates a changed comment', async () => {
    await ensureTable(client, 'ddl_lock', v1);
    // What autovacuum holds; CREATE INDEX (SHARE) and COMMENT (SHARE UPDATE EXCLUSIVE) would both wait for it.
    const vacuum = new pg.Client({ connectionString: db.url });
    await vacuum.connect();
    try {
      await vacuum.query('BEGIN');
      await vacuum.query('LOCK TABLE ddl_lock.account IN SHARE UPDATE EXCLUSIVE MODE');
      await client.query("SET lock_timeout = '500ms'");
      expect(await ensureTable(client, 'ddl_lock', v1)).toEqual({ created: false, addedColumns: [] });
      const relabelled = {
        ...v1,
        fields: v1.fields.map((f) => (f.name === 'Name' ? { ...f, label: 'Account Name' } : f)),
      };
      await expect(ensureTable(client, 'ddl_lock', relabelled)).rejects.toThrow(/lock timeout/);
      await vacuum.query('ROLLBACK');
      await ensureTable(client, 'ddl_lock', relabelled);
      const { rows } = await client.query("SELECT col_description('ddl_lock.account'::regclass, 2) AS c");
      expect(rows[0].c).toBe('Account Name (Salesforce Name, type string)');
    } finally {
      await client.query('RESET lock_timeout');
      await vacuum.end();
    }
  });

  it('moves a long table off its old cut names: index kept, view renamed, the other table left alone', async () => {
    // Before names were shortened with a hash, `<table>_live` and the cursor index were cut at 63 characters: tables
    // sharing their first 58 characters shared one view name (the first table got it, the second none).
    const schema = 'ddl_legacy';
    const spec = (suffix: string): ObjectSpec => ({
      ...v1,
      name: `X_${suffix}__c`,
      table: `${'t'.repeat(58)}_${suffix}`,
      fields: [...v1.fields, field('IsDeleted', 'boolean')],
      hasIsDeleted: true,
    });
    const [a, b] = [spec('a'), spec('b')];
    const oldView = `${'t'.repeat(58)}_live`;
    const oldIndex = `${a.table}_systemmodstamp_idx`.slice(0, 63);
    await client.query(`CREATE SCHEMA ${schema}`);
    for (const t of [a, b])
      await client.query(`CREATE TABLE ${schema}.${t.table} (id text PRIMARY KEY, name text, type text,
      annualrevenue numeric, systemmodstamp timestamptz, isdeleted boolean)`);
    await client.query(`CREATE INDEX ${oldIndex} ON ${schema}.${a.table} (systemmodstamp)`);
    await client.query(`CREATE VIEW ${schema}.${oldView} AS SELECT * FROM ${schema}.${a.table}`);

    const indexesOf = async (table: string) =>
      (
        await client.query<{ name: string }>(
          `SELECT indexrelid::regclass::text AS name FROM pg_index WHERE indrelid = $1::regclass AND NOT indisprimary`,
          [`${schema}.${table}`],
        )
      ).rows.map((r) => r.name.replace(`${schema}.`, ''));
    const viewReads = async (view: string) =>
      (
        await client.query<{ t: string | null }>(
          `SELECT (SELECT string_agg(DISTINCT d.refobjid::regclass::text, ',') FROM pg_rewrite r
             JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid AND d.refobjid <> r.ev_class
             WHERE r.ev_class = to_regclass($1)) AS t`,
          [`${schema}.${view}`],
        )
      ).rows[0]?.t ?? null;

    for (const t of [a, b]) await ensureTable(client, schema, t);
    // a keeps the index it had; b, which had none, gets its own under the new name.
    expect(await indexesOf(a.table)).toEqual([oldIndex]);
    expect(await indexesOf(b.table)).toEqual([cursorIndexName(b)]);
    // b's view first: the old view is a's, so it stays while b gets a view of its own.
    expect(await ensureLiveView(client, schema, b.table)).toBe(liveViewName(b.table));
    expect(await viewReads(oldView)).toBe(`${schema}.${a.table}`);
    expect(await ensureLiveView(client, schema, a.table)).toBe(liveViewName(a.table));
    expect(await viewReads(oldView)).toBeNull();
    expect(liveViewName(a.table)).not.toBe(liveViewName(b.table));
    expect(await viewReads(liveViewName(a.table))).toBe(`${schema}.${a.table}`);
    expect(await viewReads(liveViewName(b.table))).toBe(`${schema}.${b.table}`);
  });

  it('tolerates objects creating the same schema concurrently', async () => {
    const clients = await Promise.all(
      [0, 1, 2, 3].map(async () => {
        const c = new pg.Client({ connectionString: db.url });
        await c.connect();
        return c;
      }),
    );
    try {
      const specs = clients.map((_, i) => ({ ...v1, name: `Obj${i}`, table: `obj${i}` }));
      const results = await Promise.all(clients.map((c, i) => ensureTable(c, 'fresh', specs[i]!)));
      expect(results.every((r) => r.created)).toBe(true);
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  });
});
