import { isLosslessNumber, parse as parseLossless } from 'lossless-json';
import { describe, expect, it } from 'vitest';
import { parseJsonNumbersAsText } from '../../extractors/rest/exactJson.ts';

/** A seeded generator, so a failure is reproducible. */
function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

const pick = <T>(next: () => number, xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;

function randomNumber(next: () => number): string {
  const n = 1 + Math.floor(next() * 20);
  let digits = '';
  for (let i = 0; i < n; i++) digits += String(Math.floor(next() * 10));
  const int = digits.replace(/^0+(?=\d)/, ''); // JSON allows no leading zeros
  let lit = next() < 0.5 ? int : `${int}.${Math.floor(next() * 1e6)}`;
  if (next() < 0.3) lit += `${pick(next, ['e', 'E'])}${pick(next, ['', '+', '-'])}${Math.floor(next() * 400)}`;
  return (next() < 0.3 ? '-' : '') + lit;
}

/** Strings full of what could fool a tokenizer: digits, minus signs, quotes, backslashes, escapes. */
const STRING_PARTS = [
  '0',
  '-1',
  '123456789012345678',
  '"',
  '\\',
  '\\"',
  '"1"',
  ':',
  ',',
  '[',
  '{',
  'é',
  '😀',
  '\n',
  'abc',
  '1e5',
  '-',
  ' ',
];

function randomValue(next: () => number, depth: number): unknown {
  const r = next();
  if (r < 0.35) return { num: randomNumber(next) };
  if (r < 0.6) return Array.from({ length: Math.floor(next() * 6) }, () => pick(next, STRING_PARTS)).join('');
  if (r < 0.7) return pick(next, [true, false, null]);
  if (depth > 3) return 'leaf';
  if (r < 0.85) return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(next, depth + 1));
  return Object.fromEntries(
    Array.from({ length: Math.floor(next() * 4) }, (_, i) => [
      `${pick(next, STRING_PARTS)}${i}`,
      randomValue(next, depth + 1),
    ]),
  );
}

/** JSON text with numbers written from their literal, pretty-printed or not. */
function toJson(v: unknown, spaced: boolean): string {
  const sep = spaced ? ' ' : '';
  if (v !== null && typeof v === 'object' && 'num' in v) return (v as { num: string }).num;
  if (Array.isArray(v)) return `[${sep}${v.map((x) => toJson(x, spaced)).join(`,${sep}`)}${sep}]`;
  if (v !== null && typeof v === 'object')
    return `{${Object.entries(v)
      .map(([k, x]) => `${JSON.stringify(k)}${sep}:${sep}${toJson(x, spaced)}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/** lossless-json's parse with each LosslessNumber turned into its text: the oracle. */
function oracle(text: string): unknown {
  const plain = (v: unknown): unknown => {
    if (isLosslessNumber(v)) return v.value;
    if (Array.isArray(v)) return v.map(plain);
    if (v !== null && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
    return v;
  };
  return plain(parseLossless(text));
}

describe('parseJsonNumbersAsText', () => {
  it('returns every number as its exact source text and leaves strings, booleans and null alone', () => {
    const text = '{"a":12345678901234567.89,"b":[1.2345678E7,-0.5e-3,42],"s":"x: 12, -3 \\" 4","t":true,"n":null}';
    expect(parseJsonNumbersAsText(text)).toEqual({
      a: '12345678901234567.89',
      b: ['1.2345678E7', '-0.5e-3', '42'],
      s: 'x: 12, -3 " 4',
      t: true,
      n: null,
    });
  });

  it('agrees with lossless-json on 3,000 seeded random documents', () => {
    const next = lcg(7);
    for (let i = 0; i < 3000; i++) {
      const text = toJson(randomValue(next, 0), i % 2 === 1);
      expect(parseJsonNumbersAsText(text), text).toEqual(oracle(text));
    }
  });

  it('copes with a 10 MB string and a long run of strings without numbers', () => {
    const big = `${'x\\"1-'.repeat(2_000_000)}`;
    const many = Array.from({ length: 100_000 }, (_, i) => `"s${i}"`).join(',');
    const parsed = parseJsonNumbersAsText(`{"big":"${big}","n":-1.50,"many":[${many}]}`) as {
      big: string;
      n: string;
      many: string[];
    };
    expect(parsed.big.length).toBe(8_000_000);
    expect(parsed.n).toBe('-1.50');
    expect(parsed.many).toHaveLength(100_000);
  });

  it('throws on invalid JSON', () => {
    expect(() => parseJsonNumbersAsText('{"a":1')).toThrow();
    expect(() => parseJsonNumbersAsText('{"a":"1}')).toThrow();
    for (const bad of ['01', '1.', '1e', '-', '1.2.3', '--1', '1e5e5', '.5', '+1'])
      expect(() => parseJsonNumbersAsText(`{"a":${bad}}`), bad).toThrow();
  });

  it('reports the error of the text as received, not of the text with its numbers quoted', () => {
    const text = '{"a":[1,2,3,4,5,6],"b":x}';
    const messageOf = (json: string) => {
      try {
        JSON.parse(json);
      } catch (err) {
        return (err as Error).message;
      }
      throw new Error('parsed');
    };
    const received = messageOf(text);
    // What the rewritten text's own error would say (its context shows the added quotes): not this.
    expect(messageOf('{"a":["1","2","3","4","5","6"],"b":x}')).not.toBe(received);
    expect(() => parseJsonNumbersAsText(text)).toThrow(received);
  });
});
