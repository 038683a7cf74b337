import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import type { Row } from '../../schemas/records.ts';
import { encodeCsvLine } from '../../transforms/restPage.ts';

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

async function* _from(rows: Row[]): AsyncGenerator<Row> {
  yield* rows;
}

async function _collect(it: AsyncIterable<string>): Promise<string[]> {
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

  it('leaves NUL characters to copyCsv, the one place that strips them', () => {
    expect(encodeCsvLine(['a\0b'])).toBe('"a\0b"\n');
  });
});
