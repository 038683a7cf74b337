// Rewriting columns in place (a column the config starts to hash, pipelines/completeness/hashExisting.ts) on real
// PostgreSQL: the text each value becomes is Salesforce's spelling of it, and the keyset batches reach every row.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alterColumnToText, rewriteColumns, rewriteDistinctValues } from '../../loaders/rewriteColumns.ts';
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

  it('rewrites each distinct value of a many-rows-per-id table, never sending a raw value as a parameter', async () => {
    await client.query('CREATE TABLE h (id text, email text, phone text)');
    const emails = Array.from({ length: 7 }, (_, i) => `person${i}@example.org`);
    const phones = ['+1 415 555 0100', '+44 20 7946 0958', null];
    // Three versions of seven records: values repeat across rows and ids.
    for (let i = 0; i < 21; i++)
      await client.query('INSERT INTO h VALUES ($1, $2, $3)', [`001${i % 7}`, emails[(i * 3) % 7], phones[i % 3]]);
    // Every parameter of every statement, as the server's log would show them with log_statement = 'all'.
    const sent: unknown[] = [];
    const watched = Object.create(client) as pg.Client;
    watched.query = ((text: unknown, params?: unknown[]) => {
      if (Array.isArray(params)) sent.push(...params.flat());
      return client.query(text as string, params);
    }) as pg.Client['query'];
    const { rows: before } = await client.query('SELECT ctid::text AS k, email, phone FROM h ORDER BY ctid');
    await client.query('BEGIN');
    await rewriteDistinctValues(
      watched,
      { schema: 'public', table: 'h', columns: ['email', 'phone'] },
      (v) => `#${v}`,
      2,
    );
    await client.query('COMMIT');
    const { rows: after } = await client.query('SELECT ctid::text AS k, email, phone FROM h ORDER BY id, email, phone');
    const expected = before
      .map((r) => ({ email: r.email === null ? null : `#${r.email}`, phone: r.phone === null ? null : `#${r.phone}` }))
      .sort((a, b) => `${a.email}${a.phone}`.localeCompare(`${b.email}${b.phone}`));
    const got = after
      .map((r) => ({ email: r.email, phone: r.phone }))
      .sort((a, b) => `${a.email}${a.phone}`.localeCompare(`${b.email}${b.phone}`));
    expect(got).toEqual(expected);
    expect(new Set(after.map((r) => r.email)).size).toBeGreaterThan(1);
    const raw = [...emails, ...phones.filter((p) => p !== null)];
    expect(sent.filter((p) => raw.includes(String(p)))).toEqual([]);
  });
});
