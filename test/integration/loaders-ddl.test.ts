import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FieldSpec, ObjectSpec } from '../../schemas/records.ts';
import { ensureTable, existingColumns, tableIsEmpty } from '../../loaders/ddl.ts';
import { pgTypeOf } from '../../schemas/fieldTypes.ts';
import { useTestDatabase } from '../support/db.ts';

const db = useTestDatabase();

function field(name: string, sfType: string, extra: Partial<FieldSpec> = {}): FieldSpec {
  return {
    name,
    column: name.toLowerCase(),
    label: `${name} label`,
    sfType,
    pgType: pgTypeOf(sfType)!,
    calculated: false,
    calculatedFormula: null,
    picklistValues: [],
    ...extra,
  };
}

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
       FROM information_schema.columns WHERE table_schema = 'Sales Force' AND table_name = 'account' ORDER BY ordinal_position`,
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
        (SELECT array_agg(indexdef ORDER BY indexname) FROM pg_indexes WHERE schemaname = 'Sales Force' AND tablename = 'account') AS indexes`,
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

  it('takes no table lock when nothing changed (autovacuum is not kept waiting), and updates a relabelled comment', async () => {
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
