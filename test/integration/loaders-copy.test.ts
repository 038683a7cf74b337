import { Readable } from 'node:stream';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ObjectSpec, Row } from '../../schemas/records.ts';
import { DataError } from '../../lib/errors.ts';
import { copyCsv } from '../../loaders/copyCsv.ts';
import { copyRows } from '../support/copyRows.ts';
import { ensureTable, tableIsEmpty } from '../../loaders/ddl.ts';
import { withTransaction } from '../../loaders/postgres.ts';
import { useTestDatabase } from '../support/db.ts';
import { fieldSpec } from '../support/fieldSpec.ts';

const db = useTestDatabase();

const field = (name: string, sfType: string) => fieldSpec(name, sfType);

const spec: ObjectSpec = {
  name: 'Hard__c',
  table: 'hard__c',
  label: 'Hard',
  fields: [
    field('Id', 'id'),
    field('Text__c', 'textarea'),
    field('Amount__c', 'currency'),
    field('Score__c', 'double'),
    field('Count__c', 'int'),
    field('Big__c', 'long'),
    field('Day__c', 'date'),
    field('At__c', 'time'),
    field('Flag__c', 'boolean'),
    field('SystemModstamp', 'datetime'),
  ],
  cursorField: 'SystemModstamp',
  hasIsDeleted: false,
};
const columns = spec.fields.map((f) => f.column);

/**
 * Salesforce Bulk CSV (docs/salesforce.md#bulk-api-20-csv-format): every value quoted, quotes doubled, LF line ending,
 * no header (already stripped).
 */
function bulkCsv(rows: Row[]): string {
  return rows.map((r) => r.map((v) => '"' + (v ?? '').replaceAll('"', '""') + '"').join(',') + '\n').join('');
}

/** Each case: the value as Salesforce sends it and as PostgreSQL gives it back as text (null = SQL NULL). */
const TEXT_CASES: [string, string | null][] = [
  ['say "hi" and ""bye""', 'say "hi" and ""bye""'],
  ['a,b,,c', 'a,b,,c'],
  ['line1\nline2', 'line1\nline2'],
  ['crlf\r\nnext\rlone cr', 'crlf\r\nnext\rlone cr'],
  ['  leading and trailing  ', '  leading and trailing  '],
  ['Ünïcödé 日本語 עברית 🚀👩‍👩‍👧', 'Ünïcödé 日本語 עברית 🚀👩‍👩‍👧'],
  ['null', 'null'],
  ['NULL', 'NULL'],
  ['\\N', '\\N'],
  ['before\n\\.\nafter', 'before\n\\.\nafter'],
  ['', null],
];

const TYPED = {
  amount: ['12345678901234567890.123456789012', '-0.000000000000000001', '1.2345678E7', ''],
  expect: ['12345678901234567890.123456789012', '-0.000000000000000001', '12345678', null],
};

function hardRows(): Row[] {
  return TEXT_CASES.map(([text], i) => [
    `a${String(i).padStart(2, '0')}`,
    text,
    TYPED.amount[i % 4]!,
    i % 2 ? '-1.5E-10' : '3.141592653589793',
    i % 2 ? '-2147483648' : '2147483647',
    '9007199254740993',
    i % 2 ? '1700-01-01' : '4000-12-31',
    '13:45:00.000Z',
    i % 2 ? 'true' : 'false',
    '2024-01-02T03:04:05.123Z',
  ]);
}

describe('copyCsv / copyRows', () => {
  let client: pg.Client;
  beforeAll(async () => {
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
    await client.query("SET TimeZone = 'UTC'");
    await ensureTable(client, 'sf', spec);
  });
  afterAll(async () => client?.end());
  beforeEach(async () => {
    await client.query('TRUNCATE sf.hard__c');
  });

  async function readBack(): Promise<Record<string, string | null>[]> {
    const cols = columns.map((c) => `${c}::text AS ${c}`).join(', ');
    return (await client.query(`SELECT ${cols} FROM sf.hard__c ORDER BY id`)).rows;
  }

  function expectHardValues(rows: Record<string, string | null>[]): void {
    expect(rows).toHaveLength(TEXT_CASES.length);
    rows.forEach((r, i) => {
      expect(r.text__c).toBe(TEXT_CASES[i]![1]);
      expect(r.amount__c).toBe(TYPED.expect[i % 4]);
      expect(r.score__c).toBe(i % 2 ? '-0.00000000015' : '3.141592653589793');
      expect(r.count__c).toBe(i % 2 ? '-2147483648' : '2147483647');
      expect(r.big__c).toBe('9007199254740993');
      expect(r.day__c).toBe(i % 2 ? '1700-01-01' : '4000-12-31');
      expect(r.at__c).toBe('13:45:00');
      expect(r.flag__c).toBe(i % 2 ? 'true' : 'false');
      expect(r.systemmodstamp).toBe('2024-01-02 03:04:05.123+00');
    });
  }

  it('loads Salesforce-quoted CSV bytes with every hard case intact', async () => {
    const bytes = Buffer.from(bulkCsv(hardRows()));
    // Split mid-character and mid-record: COPY must not care where chunks end.
    const chunks = [bytes.subarray(0, 7), bytes.subarray(7, 301), bytes.subarray(301)];
    const n = await copyCsv(client, { schema: 'sf', table: 'hard__c', columns, source: Readable.from(chunks) });
    expect(n).toBe(TEXT_CASES.length);
    expectHardValues(await readBack());
  });

  it('loads REST rows through the encoder with the same result', async () => {
    async function* rows() {
      yield* hardRows().map((r) => r.map((v) => (v === '' ? null : v)));
    }
    const n = await copyRows(client, { schema: 'sf', table: 'hard__c', columns, rows: rows() });
    expect(n).toBe(TEXT_CASES.length);
    expectHardValues(await readBack());
  });

  it('strips NUL bytes from Bulk CSV bytes and from encoded REST rows', async () => {
    const row = bulkCsv([['a1', 'nu\0l', '', '', '', '', '', '', '', '']]);
    await copyCsv(client, { schema: 'sf', table: 'hard__c', columns, source: Readable.from([Buffer.from(row)]) });
    await copyRows(client, {
      schema: 'sf',
      table: 'hard__c',
      columns,
      rows: [['a2', '\0n\0u\0l\0', null, null, null, null, null, null, null, null]],
    });
    expect((await readBack()).map((r) => r.text__c)).toEqual(['nul', 'nul']);
  });

  it('fails a bad value with a DataError naming the table, column and line, and rolls back', async () => {
    const good = hardRows().slice(0, 3);
    const bad = [...good, ['bad1', 'x', 'not-a-number', '', '', '', '', '', '', '']];
    const attempt = withTransaction(client, () =>
      copyCsv(client, { schema: 'sf', table: 'hard__c', columns, source: Readable.from([Buffer.from(bulkCsv(bad))]) }),
    );
    const err = await attempt.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).toMatch(
      /^hard__c: PostgreSQL rejected the data: invalid input syntax for type numeric/,
    );
    expect((err as Error).message).toMatch(/line \d+, column amount__c/);
    expect(await tableIsEmpty(client, 'sf', 'hard__c')).toBe(true);
  });

  it('a failing source aborts the COPY (CopyFail) and leaves the connection usable', async () => {
    async function* failing() {
      yield ['a1', 'x', null, null, null, null, null, null, null, null] as Row;
      throw new Error('socket hang up');
    }
    const attempt = withTransaction(client, () =>
      copyRows(client, { schema: 'sf', table: 'hard__c', columns, rows: failing() }),
    );
    await expect(attempt).rejects.toThrow('socket hang up');
    expect((await client.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
    expect(await tableIsEmpty(client, 'sf', 'hard__c')).toBe(true);
  });

  it('an aborted signal stops the COPY', async () => {
    const controller = new AbortController();
    async function* endless() {
      for (let i = 0; ; i++) {
        if (i === 100) controller.abort();
        yield [`id${i}`, 'x', null, null, null, null, null, null, null, null] as Row;
      }
    }
    const attempt = withTransaction(client, () =>
      copyRows(client, { schema: 'sf', table: 'hard__c', columns, rows: endless(), signal: controller.signal }),
    );
    await expect(attempt).rejects.toThrow(/abort/i);
    expect(await tableIsEmpty(client, 'sf', 'hard__c')).toBe(true);
  });
});
