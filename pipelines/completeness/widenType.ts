// The type a column must change to so it holds what a field now needs, without ever narrowing it: a wider varchar,
// a numeric that holds both sizes, a safe cast, else text. Pure; pipelines/completeness/drift.ts applies it.

interface ParsedType {
  /** 'text', 'varchar', 'numeric', 'integer', 'timestamptz', ...: the spellings columnTypeOf writes. */
  kind: string;
  length?: number;
  precision?: number;
  scale?: number;
}

/** format_type spellings (loaders/ddl.ts columnTypes) -> the kinds columnTypeOf (schemas/fieldTypes.ts) writes. */
const KIND_OF: Readonly<Record<string, string>> = {
  'character varying': 'varchar',
  'timestamp with time zone': 'timestamptz',
  'time without time zone': 'time',
};

/** Casts that never lose or refuse a value (to text is always possible and is the fallback). */
const SAFE_CASTS: Readonly<Record<string, readonly string[]>> = {
  integer: ['bigint', 'numeric'],
  bigint: ['numeric'],
  date: ['timestamptz'],
};

/** Integer digits a numeric needs to take every integer / bigint value. */
const INTEGER_DIGITS: Readonly<Record<string, number>> = { integer: 10, bigint: 19 };

/** PostgreSQL's largest numeric precision. */
const MAX_NUMERIC_PRECISION = 1000;

export function parseType(spelling: string): ParsedType {
  const m = /^(.*?)(?:\((\d+)(?:,\s*(\d+))?\))?$/.exec(spelling.trim()) as RegExpExecArray;
  const kind = KIND_OF[m[1]!] ?? m[1]!;
  if (m[2] === undefined) return { kind };
  if (kind === 'numeric') return { kind, precision: Number(m[2]), scale: Number(m[3] ?? 0) };
  return { kind, length: Number(m[2]) };
}

/** As columnTypeOf spells it: 'varchar(40)', 'numeric(18,2)', 'timestamptz'. */
export function typeText(t: ParsedType): string {
  if (t.length !== undefined) return `${t.kind}(${t.length})`;
  if (t.precision !== undefined) return `${t.kind}(${t.precision},${t.scale ?? 0})`;
  return t.kind;
}

/** A numeric holding both: the larger count of integer digits and the larger scale (unconstrained past 1000). */
function numericHoldingBoth(a: ParsedType, b: ParsedType): ParsedType {
  if (a.precision === undefined || b.precision === undefined) return { kind: 'numeric' };
  const scale = Math.max(a.scale ?? 0, b.scale ?? 0);
  const integerDigits = Math.max(a.precision - (a.scale ?? 0), b.precision - (b.scale ?? 0));
  const precision = integerDigits + scale;
  return precision > MAX_NUMERIC_PRECISION ? { kind: 'numeric' } : { kind: 'numeric', precision, scale };
}

/** Integer types cast to a numeric that holds their every value. */
function castTarget(from: ParsedType, to: ParsedType): ParsedType {
  if (to.kind !== 'numeric' || to.precision === undefined) return to;
  const needed = INTEGER_DIGITS[from.kind] ?? 0;
  return to.precision - (to.scale ?? 0) >= needed ? to : { kind: 'numeric' };
}

/**
 * The column's new type and what the change is, or null when `have` already holds every value `want` can: the
 * same type, or a wider one (text, a longer varchar, a larger numeric). A narrower `want` never narrows a column.
 */
export function widenedType(have: string, want: string): { type: string; action: string } | null {
  const h = parseType(have);
  const w = parseType(want);
  const from = typeText(h);
  const to = (t: ParsedType, verb = 'widened') => {
    const type = typeText(t);
    return type === from ? null : { type, action: `${verb} ${from} -> ${type}` };
  };
  // text, and a varchar without a length, already take any value.
  if (h.kind === 'text' || (h.kind === 'varchar' && h.length === undefined)) return null;
  if (h.kind === w.kind) {
    if (h.kind === 'varchar') return (w.length ?? Number.POSITIVE_INFINITY) > h.length! ? to(w) : null;
    if (h.kind === 'numeric') return h.precision === undefined ? null : to(numericHoldingBoth(h, w));
    return null;
  }
  if (SAFE_CASTS[h.kind]?.includes(w.kind)) return to(castTarget(h, w), 'cast');
  return to({ kind: 'text' });
}
