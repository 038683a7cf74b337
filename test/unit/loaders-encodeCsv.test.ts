import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import type { Row } from '../../schemas/records.ts';
import { encodeCsvChunks, encodeCsvLine } from '../../transforms/encodeCsv.ts';

const HARD: Row = [
  'say "hi"',
  'a,b',
  'line1\nline2\r\nline3\rend',
  '  padded  ',
  'Ünïcödé 日本語 🚀',
  'NULL',
  'null',
  '\\.',
  '',
  null,
];

async function* from(rows: Row[]): AsyncGenerator<Row> {
  yield* rows;
}

async function collect(it: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const s of it) out.push(s);
  return out;
}

describe('encodeCsvLine', () => {
  it('quotes every non-null value, doubles quotes, writes NULL as an unquoted empty field', () => {
    expect(encodeCsvLine(['a"b', null, '', 'x'])).toBe('"a""b",,"","x"\n');
  });

  it('round-trips hard text through a CSV parser', () => {
    const [record] = parse(encodeCsvLine(HARD), { relax_quotes: false }) as string[][];
    // csv-parse cannot see quoting, so null and '' both come back as ''; the encoding above tells them apart.
    expect(record).toEqual(HARD.map((v) => v ?? ''));
  });

  it('drops NUL characters, which PostgreSQL text cannot hold', () => {
    expect(encodeCsvLine(['a\0b'])).toBe('"ab"\n');
  });
});

describe('encodeCsvChunks', () => {
  it('batches many rows into few chunks and keeps every row', async () => {
    const rows: Row[] = Array.from({ length: 5000 }, (_, i) => [String(i), 'x'.repeat(50)]);
    const chunks = await collect(encodeCsvChunks(from(rows), 2));
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.length).toBeLessThan(20);
    const records = parse(chunks.join('')) as string[][];
    expect(records).toHaveLength(5000);
    expect(records[4999]).toEqual(['4999', 'x'.repeat(50)]);
  });

  it('rejects a row of the wrong width with its position', async () => {
    await expect(collect(encodeCsvChunks(from([['1', '2'], ['3']]), 2))).rejects.toThrow(
      /row 2 has 1 values, expected 2/,
    );
  });
});
