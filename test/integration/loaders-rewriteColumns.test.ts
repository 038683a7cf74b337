// Rewriting columns in place (a column the config starts to hash, pipelines/completeness/hashExisting.ts) on real
// PostgreSQL: the text each value becomes is Salesforce's spelling of it, and the keyset batches reach every row.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alterColumnToText, rewriteColumns } from '../../loaders/rewriteColumns.ts';
import { useTestDatabase } from '../support/db.ts';

const db = useTestDatabase();
let client: pg.Client;

describe('rewriteColumns', () => {
  beforeAll(async () => {
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  });
  afterAll(async () => client?.end());

  it('turns date, boolean, integer and varchar columns into Salesforce text, rewrites all but NULL', async () => {
    // A DateStyle under which date::text would not be Salesforce's YYYY-MM-DD.
    await client.query("SET DateStyle = 'SQL, DMY'");
    await client.query('CREATE TABLE t (id text PRIMARY KEY, d date, b boolean, n integer, v varchar(5))');
    await client.query(
      `INSERT INTO t VALUES ('a', '1815-12-10', true, 42, 'x'), ('b', NULL, false, NULL, 'yy'),
       ('c', '2000-02-29', NULL, -7, NULL), ('d', NULL, NULL, NULL, NULL), ('e', '9999-12-31', true, 0, 'zzzzz')`,
    );
    for (const [column, type] of [
      ['d', 'date'],
      ['b', 'boolean'],
      ['n', 'integer'],
      ['v', 'character varying(5)'],
    ] as const)
      await alterColumnToText(client, 'public', 't', column, type);
    const seen: string[] = [];
    const rewritten = await rewriteColumns(
      client,
      { schema: 'public', table: 't', columns: ['d', 'b', 'n', 'v'] },
      (v) => {
        seen.push(v);
        return `<${v}>`;
      },
      2,
    );
    // Row d has no value to rewrite: two batches of two rows cover the other four.
    expect(rewritten).toBe(4);
    expect(seen).toHaveLength(12);
    const { rows } = await client.query('SELECT id, d, b, n, v FROM t ORDER BY id');
    expect(rows).toEqual([
      { id: 'a', d: '<1815-12-10>', b: '<true>', n: '<42>', v: '<x>' },
      { id: 'b', d: null, b: '<false>', n: null, v: '<yy>' },
      { id: 'c', d: '<2000-02-29>', b: null, n: '<-7>', v: null },
      { id: 'd', d: null, b: null, n: null, v: null },
      { id: 'e', d: '<9999-12-31>', b: '<true>', n: '<0>', v: '<zzzzz>' },
    ]);
  });
});
