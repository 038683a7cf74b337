// Compare a warehouse table with the emulator's records, value by value, after sfsync's type mapping.
import type pg from 'pg';
import { parseJsonNumbersAsText } from '../../extractors/rest/exactJson.ts';
import type { ObjectSpec } from '../../schemas/records.ts';

/** Canonical decimal text: no exponent, no trailing zeros, no leading zeros ("1.2345678E7" -> "12345678"). */
export function canonicalDecimal(text: string): string {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text.trim());
  if (!m) throw new Error(`not a decimal: ${text}`);
  const [, sign, int = '', frac = '', exp = '0'] = m;
  let digits = (int + frac).replace(/^0+/, '');
  if (digits === '') return '0';
  // Position of the decimal point within `digits` after dropping leading zeros.
  let point = int.length - ((int + frac).length - digits.length) + Number(exp);
  while (point < 0) {
    digits = '0' + digits;
    point++;
  }
  while (digits.length < point) digits += '0';
  const whole = digits.slice(0, point).replace(/^0+/, '') || '0';
  const fraction = digits.slice(point).replace(/0+$/, '');
  return (sign === '-' ? '-' : '') + whole + (fraction ? '.' + fraction : '');
}

/** JSON as jsonb compares it: object keys in any order, numbers as exact decimals. */
function canonicalJson(text: string): string {
  const canon = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(canon);
    if (v && typeof v === 'object')
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, canon((v as Record<string, unknown>)[k])]),
      );
    // parseJsonNumbersAsText gives numbers as their text; strings are quoted, so the two cannot meet.
    return typeof v === 'string' && /^-?\d/.test(v) ? { n: canonicalDecimal(v) } : v;
  };
  return JSON.stringify(canon(parseJsonNumbersAsText(text)));
}

/** 13:45:30.250Z and 13:45:30.25 are the same time. */
function canonicalTime(text: string): string {
  return text
    .replace(/Z$/, '')
    .replace(/(\.\d*?)0+$/, '$1')
    .replace(/\.$/, '');
}

function selectExpr(pgType: string, column: string): string {
  const c = `"${column}"`;
  switch (pgType) {
    case 'timestamptz':
      return `(extract(epoch from ${c}) * 1000)::bigint::text`;
    case 'boolean':
      return `CASE WHEN ${c} IS NULL THEN NULL WHEN ${c} THEN 'true' ELSE 'false' END`;
    default:
      return `${c}::text`;
  }
}

function expected(pgType: string, value: string | boolean | null | undefined): string | null {
  if (value === null || value === undefined || value === '') return null;
  const text = String(value);
  switch (pgType) {
    case 'timestamptz':
      return String(Date.parse(text));
    case 'numeric':
    case 'integer':
    case 'bigint':
      return canonicalDecimal(text);
    case 'time':
      return canonicalTime(text);
    case 'jsonb':
      return canonicalJson(text);
    default:
      return text;
  }
}

function actual(pgType: string, value: string | null): string | null {
  if (value === null) return null;
  if (pgType === 'numeric' || pgType === 'integer' || pgType === 'bigint') return canonicalDecimal(value);
  if (pgType === 'time') return canonicalTime(value);
  if (pgType === 'jsonb') return canonicalJson(value);
  return value;
}

export interface Mismatch {
  id: string;
  field: string;
  expected: string | null;
  actual: string | null;
}

/** Every record given must be in the table exactly once with equal values; returns the differences. */
export async function compareTable(
  client: pg.Client | pg.PoolClient,
  schema: string,
  spec: ObjectSpec,
  records: Iterable<Readonly<Record<string, string | boolean | null>> & { readonly Id: string }>,
): Promise<{ mismatches: Mismatch[]; missing: string[]; extra: string[]; compared: number }> {
  const cols = spec.fields.map((f) => selectExpr(f.pgType, f.column)).join(', ');
  const { rows } = await client.query({ text: `SELECT ${cols} FROM "${schema}"."${spec.table}"`, rowMode: 'array' });
  const idIndex = spec.fields.findIndex((f) => f.column === 'id');
  const byId = new Map<string, (string | null)[]>();
  for (const r of rows as (string | null)[][]) byId.set(r[idIndex] as string, r);
  const mismatches: Mismatch[] = [];
  const missing: string[] = [];
  const seen = new Set<string>();
  let compared = 0;
  for (const rec of records) {
    const row = byId.get(rec.Id);
    seen.add(rec.Id);
    if (!row) {
      missing.push(rec.Id);
      continue;
    }
    compared++;
    spec.fields.forEach((f, i) => {
      const want = expected(f.pgType, rec[f.name]);
      const got = actual(f.pgType, row[i] ?? null);
      if (want !== got) mismatches.push({ id: rec.Id, field: f.name, expected: want, actual: got });
    });
  }
  const extra = [...byId.keys()].filter((id) => !seen.has(id));
  return { mismatches, missing, extra, compared };
}

/** The SELECT list of a spec's fields as canonical text, in spec order (what compareTable reads). */
export function canonicalSelect(spec: ObjectSpec): string {
  return spec.fields.map((f) => selectExpr(f.pgType, f.column)).join(', ');
}

/** A record's values as compareTable expects them in its row, in spec order. */
export function canonicalRecord(
  spec: ObjectSpec,
  rec: Readonly<Record<string, string | boolean | null>>,
): (string | null)[] {
  return spec.fields.map((f) => expected(f.pgType, rec[f.name]));
}

/** A row read with canonicalSelect (rowMode 'array'), canonicalised like canonicalRecord. */
export function canonicalRow(spec: ObjectSpec, row: readonly (string | null)[]): (string | null)[] {
  return spec.fields.map((f, i) => actual(f.pgType, row[i] ?? null));
}
