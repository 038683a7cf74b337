// Field value text helpers: fast ISO timestamps for generated data, exact decimal arithmetic and comparison
// (values are decimal text so nothing passes through a double; types.ts FieldValue).

const DAY_MS = 86_400_000;
const TWO = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
const THREE = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
const dayCache = new Map<number, string>();

/** 'YYYY-MM-DD' of a day number since 1970-01-01 (cached: generated data reuses a few thousand days). */
export function dayText(day: number): string {
  let text = dayCache.get(day);
  if (text === undefined) {
    text = new Date(day * DAY_MS).toISOString().slice(0, 10);
    dayCache.set(day, text);
  }
  return text;
}

/** 'YYYY-MM-DDTHH:mm:ss.SSSZ' without a Date per call (the date part is cached per day). */
export function isoOf(ms: number): string {
  const day = Math.floor(ms / DAY_MS);
  let rest = ms - day * DAY_MS;
  const millis = rest % 1000;
  rest = (rest - millis) / 1000;
  const s = rest % 60;
  rest = (rest - s) / 60;
  return `${dayText(day)}T${TWO[Math.floor(rest / 60)]}:${TWO[rest % 60]}:${TWO[s]}.${THREE[millis]}Z`;
}

/** 'HH:mm:ss.SSSZ' of a millisecond of the day (time fields, docs/salesforce.md#field-types). */
export function timeOf(msOfDay: number): string {
  return isoOf(msOfDay).slice(11);
}

interface Decimal {
  negative: boolean;
  /** Digits without leading zeros ('' for zero). */
  digits: string;
  /** Power of ten of the last digit. */
  exponent: number;
}

/** Parses decimal text incl. exponent form ('1.2345678E7'); undefined when it is not a number. */
export function parseDecimal(text: string): Decimal | undefined {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text.trim());
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  const frac = m[3] ?? '';
  let digits = ((m[2] ?? '') + frac).replace(/^0+/, '');
  let exponent = Number(m[4] ?? '0') - frac.length;
  const trailing = digits.length - digits.replace(/0+$/, '').length;
  digits = digits.slice(0, digits.length - trailing);
  exponent += trailing;
  return { negative: m[1] === '-' && digits !== '', digits, exponent };
}

function compareMagnitude(a: Decimal, b: Decimal): number {
  if (a.digits === '' || b.digits === '') return (a.digits === '' ? 0 : 1) - (b.digits === '' ? 0 : 1);
  const aTop = a.digits.length + a.exponent;
  const bTop = b.digits.length + b.exponent;
  if (aTop !== bTop) return aTop < bTop ? -1 : 1;
  const width = Math.max(a.digits.length, b.digits.length);
  const x = a.digits.padEnd(width, '0');
  const y = b.digits.padEnd(width, '0');
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Exact numeric comparison of two decimal texts (-1, 0, 1); non-numbers sort as text. */
export function compareDecimal(a: string, b: string): number {
  const x = parseDecimal(a);
  const y = parseDecimal(b);
  if (!x || !y) return a < b ? -1 : a > b ? 1 : 0;
  if (x.negative !== y.negative) return x.negative ? -1 : 1;
  const m = compareMagnitude(x, y);
  return x.negative ? -m : m;
}

/** Exact product of two decimal texts rounded half-up to `scale` places, as plain decimal text. */
export function multiplyDecimal(a: string, b: string, scale: number): string | null {
  const x = parseDecimal(a);
  const y = parseDecimal(b);
  if (!x || !y) return null;
  let units = BigInt(x.digits || '0') * BigInt(y.digits || '0');
  const shift = x.exponent + y.exponent + scale;
  if (shift >= 0) units *= 10n ** BigInt(shift);
  else {
    const div = 10n ** BigInt(-shift);
    units = (units + div / 2n) / div;
  }
  const negative = x.negative !== y.negative && units !== 0n;
  const text = units.toString().padStart(scale + 1, '0');
  const whole = scale === 0 ? text : `${text.slice(0, -scale)}.${text.slice(-scale)}`;
  return negative ? `-${whole}` : whole;
}

/** Field types whose values are decimals: compared and sorted as numbers, written to JSON unquoted. */
export const NUMERIC_TYPES: ReadonlySet<string> = new Set(['int', 'long', 'double', 'currency', 'percent']);

/** Field types SOQL compares and sorts case-insensitively. */
export const CASE_INSENSITIVE_TYPES: ReadonlySet<string> = new Set([
  'string',
  'textarea',
  'email',
  'phone',
  'url',
  'picklist',
  'multipicklist',
  'combobox',
  'encryptedstring',
  'anyType',
]);
