// SOQL WHERE (docs/salesforce.md#soql-literals, #incremental-cursor-windows): soql-parser-js returns a right-leaning
// chain of conditions with paren counts; rebuild the precedence tree (NOT > AND > OR), type-check literals against the
// fields and compile each condition into a predicate over records. Cursor windows ANDed at the top (`SystemModstamp >=
// X AND ...`) are also returned as bounds, so the store can read only the slots inside them (cursorIndex.ts).
import type { Condition, WhereClause } from 'soql-parser-js';
import { normalizeId, to18 } from './ids.ts';
import { type CursorWindow, type FieldDef, type FieldValue, type SfRecord, SoqlError } from './types.ts';
import { CASE_INSENSITIVE_TYPES, NUMERIC_TYPES, compareDecimal, dayText, isoOf } from './values.ts';

export type Predicate = (rec: SfRecord) => boolean;

/** A datetime field directly on the object that every match has within [from, to] (stored text, inclusive). */
export interface CursorBound {
  field: string;
  from?: string;
  to?: string;
}

export interface CompiledWhere {
  predicate: Predicate;
  /** Implied by the whole WHERE clause (top-level AND terms only); the predicate still decides. */
  bounds: CursorBound[];
  /**
   * When the whole clause is cursor comparisons on one datetime field ANDed together: exactly the window it keeps
   * (the predicate is then `field in window`), so COUNT() and ORDER BY can be answered from the index. Else null.
   */
  window: CursorWindow | null;
}

/** Resolves a (possibly dotted) field name to its definition and a value getter; throws INVALID_FIELD. */
export type ResolveField = (path: string) => { field: FieldDef; get: (rec: SfRecord) => FieldValue };

type Token = '(' | ')' | 'AND' | 'OR' | 'NOT' | Condition;
type Positioned = { openParen?: number; closeParen?: number };

function tokenize(where: WhereClause | undefined, out: Token[]): Token[] {
  if (!where) return out;
  const node = where as { left: (Condition & Positioned) | Positioned | null; operator?: string; right?: WhereClause };
  const left = node.left;
  if (left) {
    for (let i = 0; i < (left.openParen ?? 0); i++) out.push('(');
    if ('field' in left || 'fn' in left) out.push(left as Condition);
    for (let i = 0; i < (left.closeParen ?? 0); i++) out.push(')');
  }
  if (node.operator === 'AND' || node.operator === 'OR' || node.operator === 'NOT') out.push(node.operator);
  return tokenize(node.right, out);
}

const DAY_MS = 86_400_000;

function malformed(message: string): SoqlError {
  return new SoqlError('MALFORMED_QUERY', message);
}

/**
 * The text of a quoted SOQL string literal: `\'`, `\\`, `\n`... (docs/salesforce.md#soql-literals). LIKE keeps `\%` and
 * `\_` escaped.
 */
function unquote(literal: string, keepLikeEscapes: boolean): string {
  const body = literal.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string;
    if (c !== '\\' || i === body.length - 1) {
      out += c;
      continue;
    }
    const next = body[++i] as string;
    const map: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', '"': '"', "'": "'", '\\': '\\' };
    if ((next === '%' || next === '_') && keepLikeEscapes) out += `\\${next}`;
    else out += map[next] ?? next;
  }
  return out;
}

/** An unquoted dateTime literal ('2024-01-02T03:04:05Z', '...05.000+01:00') as stored text: UTC with millis. */
export function datetimeLiteral(text: string): string {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw malformed(`invalid dateTime literal: ${text}`);
  return isoOf(ms);
}

interface Range {
  from: string;
  to: string;
}

/**
 * Relative date literals (docs/salesforce.md#soql-literals), as [from, to) in the field's text form, computed from the
 * org's clock.
 */
function relativeRange(value: string, n: number | undefined, field: FieldDef, nowIso: string): Range {
  const today = Math.floor(Date.parse(nowIso) / DAY_MS);
  const days: Record<string, [number, number]> = {
    TODAY: [today, today + 1],
    YESTERDAY: [today - 1, today],
    TOMORROW: [today + 1, today + 2],
    LAST_N_DAYS: [today - (n ?? 0), today + 1],
    NEXT_N_DAYS: [today + 1, today + 1 + (n ?? 0)],
    N_DAYS_AGO: [today - (n ?? 0), today - (n ?? 0) + 1],
  };
  const name = value.split(':')[0] as string;
  const span = days[name];
  if (!span) throw malformed(`date literal ${value} is not supported by the emulator`);
  const text = (day: number) => (field.type === 'date' ? dayText(day) : isoOf(day * DAY_MS));
  return { from: text(span[0]), to: text(span[1]) };
}

/** Orders two stored values of the field's type (-1, 0, 1); text compares case-insensitively like SOQL. */
export function compareValues(field: FieldDef, a: FieldValue, b: FieldValue): number {
  if (NUMERIC_TYPES.has(field.type)) return compareDecimal(String(a), String(b));
  if (field.type === 'boolean') return Number(a) - Number(b);
  const x = CASE_INSENSITIVE_TYPES.has(field.type) ? String(a).toLowerCase() : String(a);
  const y = CASE_INSENSITIVE_TYPES.has(field.type) ? String(b).toLowerCase() : String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function typeError(field: FieldDef, expected: string, quoted: boolean): SoqlError {
  return new SoqlError(
    'INVALID_FIELD',
    `value of filter criterion for field '${field.name}' must be of type ${expected} ` +
      `and should ${quoted ? '' : 'not '}be enclosed in quotes`,
  );
}

/** One literal converted to stored text (or a relative range), checked against the field type. */
function literalValue(
  field: FieldDef,
  literalType: string,
  raw: string,
  cond: Condition,
  nowIso: string,
): FieldValue | Range {
  if (literalType === 'NULL') return null;
  const t = field.type;
  if (literalType === 'DATE_LITERAL' || literalType === 'DATE_N_LITERAL') {
    if (t !== 'date' && t !== 'datetime') throw typeError(field, field.type, true);
    return relativeRange(raw, (cond as { dateLiteralVariable?: number }).dateLiteralVariable, field, nowIso);
  }
  if (t === 'date') {
    // docs/salesforce.md#soql-literals: a dateTime literal against a date field is a malformed query.
    if (literalType !== 'DATE')
      throw malformed(
        `value of filter criterion for field '${field.name}' must be of type date and should not be enclosed in quotes`,
      );
    return raw;
  }
  if (t === 'datetime') {
    if (literalType !== 'DATETIME')
      throw malformed(
        `value of filter criterion for field '${field.name}' must be of type dateTime ` +
          'and should not be enclosed in quotes',
      );
    return datetimeLiteral(raw);
  }
  if (t === 'boolean') {
    if (literalType !== 'BOOLEAN') throw typeError(field, 'boolean', false);
    return raw.toUpperCase() === 'TRUE';
  }
  if (NUMERIC_TYPES.has(t)) {
    if (literalType !== 'INTEGER' && literalType !== 'DECIMAL')
      throw typeError(field, t === 'int' ? 'int' : 'double', false);
    return raw.replace(/^\+/, '');
  }
  if (literalType !== 'STRING') throw typeError(field, 'string', true);
  const text = unquote(raw, String((cond as { operator?: string }).operator).toUpperCase() === 'LIKE');
  if (t === 'id' || t === 'reference') {
    const id15 = normalizeId(text);
    return id15 ? to18(id15) : text;
  }
  return text;
}

function likeMatcher(pattern: string): (v: string) => boolean {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\' && (pattern[i + 1] === '%' || pattern[i + 1] === '_')) source += `\\${pattern[++i]}`;
    else if (c === '%') source += '[\\s\\S]*';
    else if (c === '_') source += '[\\s\\S]';
    else source += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  const re = new RegExp(`^${source}$`, 'i');
  return (v) => re.test(v);
}

function isRange(v: FieldValue | Range): v is Range {
  return typeof v === 'object' && v !== null;
}

function comparison(field: FieldDef, op: string, lit: FieldValue | Range): (v: FieldValue) => boolean {
  if (isRange(lit)) {
    const inRange = (v: FieldValue) => v !== null && String(v) >= lit.from && String(v) < lit.to;
    const table: Record<string, (v: FieldValue) => boolean> = {
      '=': inRange,
      '!=': (v) => !inRange(v),
      '<>': (v) => !inRange(v),
      '<': (v) => v !== null && String(v) < lit.from,
      '<=': (v) => v !== null && String(v) < lit.to,
      '>': (v) => v !== null && String(v) >= lit.to,
      '>=': (v) => v !== null && String(v) >= lit.from,
    };
    const fn = table[op];
    if (!fn) throw malformed(`unexpected operator ${op} for a date literal`);
    return fn;
  }
  // SOQL: `= null` / `!= null`; `!=` a value also matches nulls; ranges never match nulls.
  if (lit === null) {
    if (op === '=') return (v) => v === null;
    if (op === '!=' || op === '<>') return (v) => v !== null;
    throw malformed(`invalid operator ${op} with null`);
  }
  const cmp = (v: FieldValue) => compareValues(field, v, lit);
  switch (op) {
    case '=':
      return (v) => v !== null && cmp(v) === 0;
    case '!=':
    case '<>':
      return (v) => v === null || cmp(v) !== 0;
    case '<':
      return (v) => v !== null && cmp(v) < 0;
    case '<=':
      return (v) => v !== null && cmp(v) <= 0;
    case '>':
      return (v) => v !== null && cmp(v) > 0;
    case '>=':
      return (v) => v !== null && cmp(v) >= 0;
    default:
      throw malformed(`unexpected operator ${op}`);
  }
}

/** `INCLUDES ('A;B','C')`: some literal whose every value the multi-select picklist holds. */
function includes(literals: FieldValue[]): (v: FieldValue) => boolean {
  const wanted = literals.map((l) => String(l).toLowerCase().split(';'));
  return (v) => {
    if (typeof v !== 'string') return false;
    const have = new Set(v.toLowerCase().split(';'));
    return wanted.some((set) => set.every((x) => have.has(x)));
  };
}

/** Stored datetime text (isoOf): compares as text exactly as it compares as an instant. */
const CANONICAL = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** The window a comparison confines its field to (a superset: `>` is taken as `>=`), or null. */
function boundOf(path: string, field: FieldDef, op: string, lit: FieldValue | Range): CursorBound | null {
  if (field.type !== 'datetime' || path.includes('.') || lit === null || typeof lit === 'boolean') return null;
  const lo = isRange(lit)
    ? { '>': lit.to, '>=': lit.from, '=': lit.from }[op]
    : ['>', '>=', '='].includes(op)
      ? lit
      : undefined;
  const hi = isRange(lit)
    ? { '<': lit.from, '<=': lit.to, '=': lit.to }[op]
    : ['<', '<=', '='].includes(op)
      ? lit
      : undefined;
  if (lo === undefined && hi === undefined) return null;
  if ((lo !== undefined && !CANONICAL.test(lo)) || (hi !== undefined && !CANONICAL.test(hi))) return null;
  return { field: field.name, from: lo, to: hi };
}

/** The exact window of one comparison (a relative literal is the half-open range [from, to)), or null. */
function windowOf(path: string, field: FieldDef, op: string, lit: FieldValue | Range): CursorWindow | null {
  if (field.type !== 'datetime' || path.includes('.') || lit === null || typeof lit === 'boolean') return null;
  const name = field.name;
  const table: Record<string, CursorWindow> = isRange(lit)
    ? {
        '=': { field: name, from: lit.from, to: lit.to, toExclusive: true },
        '>': { field: name, from: lit.to },
        '>=': { field: name, from: lit.from },
        '<': { field: name, to: lit.from, toExclusive: true },
        '<=': { field: name, to: lit.to, toExclusive: true },
      }
    : {
        '=': { field: name, from: lit, to: lit },
        '>': { field: name, from: lit, fromExclusive: true },
        '>=': { field: name, from: lit },
        '<': { field: name, to: lit, toExclusive: true },
        '<=': { field: name, to: lit },
      };
  const w = table[op];
  if (!w || (w.from !== undefined && !CANONICAL.test(w.from)) || (w.to !== undefined && !CANONICAL.test(w.to)))
    return null;
  return w;
}

/** Both windows at once (same field), or null. At an equal bound the exclusive one wins. */
function intersectWindows(a: CursorWindow | null, b: CursorWindow | null): CursorWindow | null {
  if (!a || !b || a.field !== b.field) return null;
  const out: CursorWindow = { ...a };
  if (b.from !== undefined && (out.from === undefined || b.from > out.from))
    [out.from, out.fromExclusive] = [b.from, b.fromExclusive];
  else if (b.from !== undefined && b.from === out.from)
    out.fromExclusive = out.fromExclusive === true || b.fromExclusive === true;
  if (b.to !== undefined && (out.to === undefined || b.to < out.to)) [out.to, out.toExclusive] = [b.to, b.toExclusive];
  else if (b.to !== undefined && b.to === out.to) out.toExclusive = out.toExclusive === true || b.toExclusive === true;
  return out;
}

function compileCondition(cond: Condition, resolve: ResolveField, nowIso: string): CompiledWhere {
  const c = cond as { field?: string; operator?: string; value?: string | string[]; literalType?: string | string[] };
  if (!c.field) throw malformed('functions in WHERE are not supported by the emulator');
  const { field, get } = resolve(c.field);
  if (field.filterable === false)
    throw new SoqlError('INVALID_FIELD', `field '${field.name}' can not be filtered in a query call`);
  const op = String(c.operator).toUpperCase();
  const raws = Array.isArray(c.value) ? c.value : [c.value ?? ''];
  const types = Array.isArray(c.literalType) ? c.literalType : raws.map(() => String(c.literalType));
  const values = raws.map((raw, i) => literalValue(field, String(types[i] ?? types[0]), raw, cond, nowIso));
  if (op === 'IN' || op === 'NOT IN') {
    const tests = values.map((v) => comparison(field, '=', v));
    const any = (v: FieldValue) => tests.some((t) => t(v));
    return { predicate: op === 'IN' ? (r) => any(get(r)) : (r) => !any(get(r)), bounds: [], window: null };
  }
  if (op === 'INCLUDES' || op === 'EXCLUDES') {
    if (field.type !== 'multipicklist')
      throw new SoqlError('INVALID_QUERY_FILTER_OPERATOR', `${op} can only be used with multi-select picklists`);
    const test = includes(values as FieldValue[]);
    return { predicate: op === 'INCLUDES' ? (r) => test(get(r)) : (r) => !test(get(r)), bounds: [], window: null };
  }
  if (op === 'LIKE') {
    if (!CASE_INSENSITIVE_TYPES.has(field.type) && field.type !== 'id' && field.type !== 'reference')
      throw new SoqlError('INVALID_QUERY_FILTER_OPERATOR', `invalid operator on ${field.type} field: LIKE`);
    const match = likeMatcher(String(values[0]));
    const predicate: Predicate = (r) => {
      const v = get(r);
      return typeof v === 'string' && match(v);
    };
    return { predicate, bounds: [], window: null };
  }
  const lit = values[0] as FieldValue | Range;
  const test = comparison(field, op, lit);
  const bound = boundOf(c.field, field, op, lit);
  return { predicate: (r) => test(get(r)), bounds: bound ? [bound] : [], window: windowOf(c.field, field, op, lit) };
}

/** The WHERE clause as one predicate with the cursor windows it implies (null when absent). */
export function compileWhere(
  where: WhereClause | undefined,
  resolve: ResolveField,
  nowIso: string,
): CompiledWhere | null {
  const tokens = tokenize(where, []);
  if (tokens.length === 0) return null;
  let i = 0;
  const peek = () => tokens[i];
  const orExpr = (): CompiledWhere => {
    let left = andExpr();
    while (peek() === 'OR') {
      i++;
      const l = left.predicate;
      const r = andExpr().predicate;
      // A disjunction confines nothing by itself (its terms' windows are not kept).
      left = { predicate: (rec) => l(rec) || r(rec), bounds: [], window: null };
    }
    return left;
  };
  const andExpr = (): CompiledWhere => {
    let left = unary();
    while (peek() === 'AND') {
      i++;
      const l = left.predicate;
      const right = unary();
      const r = right.predicate;
      left = {
        predicate: (rec) => l(rec) && r(rec),
        bounds: [...left.bounds, ...right.bounds],
        window: intersectWindows(left.window, right.window),
      };
    }
    return left;
  };
  const unary = (): CompiledWhere => {
    const t = tokens[i++];
    if (t === 'NOT') {
      const inner = unary().predicate;
      return { predicate: (rec) => !inner(rec), bounds: [], window: null };
    }
    if (t === '(') {
      const inner = orExpr();
      if (tokens[i++] !== ')') throw malformed('unbalanced parentheses in WHERE');
      return inner;
    }
    if (t === undefined || typeof t === 'string') throw malformed(`unexpected token in WHERE: ${String(t)}`);
    return compileCondition(t, resolve, nowIso);
  };
  const out = orExpr();
  if (i !== tokens.length) throw malformed('unexpected token in WHERE');
  return out;
}
