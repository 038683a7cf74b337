// An object's filter (config objects[].where): a SOQL condition checked before any work and then ANDed, in
// parentheses, into every read of the object (extractors/soql.ts). It is the user's own text, never built from data;
// the checks make sure it is one condition and nothing else, so that `(<where>)` and `(NOT (<where>))` stay the
// condition and its complement (docs/salesforce.md#soql-filters).
import soqlParser, { type Condition, type WhereClause } from 'soql-parser-js';
import type { ObjectOptions } from '../lib/config.ts';
import { ConfigError, SalesforceApiError, oneLine } from '../lib/errors.ts';
import type { ObjectSpec } from '../schemas/records.ts';
import type { SalesforceHttp } from './client/salesforceHttp.ts';
import { type DescribeField, describeObject } from './describe.ts';

const { parseQuery } = soqlParser;

const SOQL_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/** One comparison of the condition: a field path and the literal types it is compared with. */
export interface FilterTerm {
  /** As written: `StageName`, `RecordType.DeveloperName`. */
  path: string;
  operator: string;
  literalTypes: string[];
}

export interface ParsedFilter {
  /** The condition as sfsync sends it: the user's text with whitespace outside string literals collapsed. */
  text: string;
  terms: FilterTerm[];
}

const prefix = (object: string) => `the filter of ${object} (objects[].where)`;
const problem = (object: string, message: string) => new ConfigError(`${prefix(object)}: ${message}`);

/**
 * The text with whitespace outside string literals collapsed, or the reason it cannot stand inside parentheses: a
 * `;`, an unterminated literal, or a `)` that would close the parenthesis sfsync puts around it.
 */
function scan(where: string): { text: string } | { refused: string } {
  let out = '';
  let depth = 0;
  for (let i = 0; i < where.length; i++) {
    const c = where[i] as string;
    if (c === "'") {
      // docs/salesforce.md#soql-literals: a backslash escapes the next character, a quote ends the literal.
      let j = i + 1;
      while (j < where.length && where[j] !== "'") j += where[j] === '\\' ? 2 : 1;
      if (j >= where.length) return { refused: 'a string literal is not closed' };
      out += where.slice(i, j + 1);
      i = j;
    } else if (/\s/.test(c)) {
      if (!out.endsWith(' ')) out += ' ';
    } else if (c === ';') {
      return { refused: "';' is not allowed: the filter is one condition, not a statement" };
    } else {
      if (c === '(') depth++;
      if (c === ')' && --depth < 0) return { refused: "a ')' closes a parenthesis the condition did not open" };
      out += c;
    }
  }
  if (depth !== 0) return { refused: "a '(' is not closed" };
  return { text: out.trim() };
}

/** Query parts a filter must not bring along (soql-parser-js names -> SOQL words). */
const CLAUSES: Record<string, string> = {
  limit: 'LIMIT',
  offset: 'OFFSET',
  orderBy: 'ORDER BY',
  groupBy: 'GROUP BY',
  having: 'HAVING',
  for: 'FOR',
  update: 'UPDATE',
  withSecurityEnforced: 'WITH SECURITY_ENFORCED',
  withAccessLevel: 'WITH USER_MODE/SYSTEM_MODE',
  withDataCategory: 'WITH DATA CATEGORY',
};

function conditionsOf(where: WhereClause | undefined, out: Condition[] = []): Condition[] {
  if (!where) return out;
  const left = where.left as (Condition & { field?: string; fn?: unknown }) | null;
  if (left && ('field' in left || 'fn' in left)) out.push(left);
  return conditionsOf((where as { right?: WhereClause }).right, out);
}

/**
 * Checks the text alone (no describe): one condition, nothing else. Refused: `;`, LIMIT/ORDER BY/GROUP BY/OFFSET...,
 * subqueries, functions, bind variables, and relative date literals (LAST_N_DAYS:30), whose matches move with the
 * clock while the records stay unchanged, which no incremental read can see.
 */
export function parseFilter(object: string, where: string): ParsedFilter {
  const scanned = scan(where);
  if ('refused' in scanned) throw problem(object, scanned.refused);
  const { text } = scanned;
  if (text === '') throw problem(object, 'the condition is empty');
  let query: Record<string, unknown>;
  try {
    query = parseQuery(`SELECT Id FROM ${object} WHERE ${text}`) as unknown as Record<string, unknown>;
  } catch (err) {
    throw problem(object, `not a SOQL condition (${oneLine(err).slice(0, 160)})`);
  }
  const extra = Object.keys(query).filter((k) => !['fields', 'sObject', 'where'].includes(k));
  if (extra.length > 0)
    throw problem(object, `only a condition is allowed, not ${extra.map((k) => CLAUSES[k] ?? k).join(', ')}`);
  const terms: FilterTerm[] = [];
  for (const cond of conditionsOf(query.where as WhereClause | undefined)) {
    const c = cond as { field?: string; fn?: unknown; operator?: string; literalType?: string | string[] };
    if (c.fn !== undefined || c.field === undefined)
      throw problem(object, 'functions (CALENDAR_YEAR(), ...) are not supported in a filter');
    const types = Array.isArray(c.literalType) ? c.literalType : [String(c.literalType)];
    if (types.includes('SUBQUERY')) throw problem(object, 'subqueries are not supported in a filter');
    if (types.includes('APEX_BIND_VARIABLE')) throw problem(object, 'bind variables are not SOQL a filter can use');
    if (types.includes('DATE_LITERAL') || types.includes('DATE_N_LITERAL'))
      throw problem(
        object,
        `${c.field}: relative date literals (TODAY, LAST_N_DAYS:n, ...) are not supported: what they match moves ` +
          'with the clock while the records stay unchanged, so incremental reads would miss it; use a fixed date',
      );
    for (const part of c.field.split('.'))
      if (!SOQL_NAME.test(part)) throw problem(object, `'${c.field}' is not a field name or a path of them`);
    terms.push({ path: c.field, operator: String(c.operator).toUpperCase(), literalTypes: types });
  }
  return { text, terms };
}

/** The spec every read of the object goes through: with its checked filter, or as it was when there is none. */
export function filteredSpec(spec: ObjectSpec, where: string | null | undefined): ObjectSpec {
  if (where === null || where === undefined) return spec;
  return { ...spec, where: parseFilter(spec.name, where).text };
}

/**
 * docs/salesforce.md#soql-filters: a polymorphic relationship (Task.What) resolves through the Name object, whose
 * fields are the same for every target; these are the ones a filter may use.
 */
const NAME_OBJECT_FIELDS: Record<string, string> = { id: 'id', name: 'string', type: 'string' };

/** The literal types a field's type accepts (docs/salesforce.md#soql-literals); NULL is always accepted. */
function acceptedLiterals(type: string): string[] | null {
  if (type === 'boolean') return ['BOOLEAN'];
  if (['int', 'long', 'double', 'percent'].includes(type)) return ['INTEGER', 'DECIMAL'];
  if (type === 'currency')
    return ['INTEGER', 'DECIMAL', 'INTEGER_WITH_CURRENCY_PREFIX', 'DECIMAL_WITH_CURRENCY_PREFIX'];
  if (type === 'date') return ['DATE'];
  if (type === 'datetime') return ['DATETIME'];
  if (type === 'time' || type === 'anyType') return null;
  return ['STRING'];
}

export type DescribeFields = (object: string) => Promise<readonly DescribeField[]>;

/** The field a path names, through reference fields' relationshipName (describe), or the reason it names none. */
async function resolvePath(object: string, path: string, describe: DescribeFields): Promise<DescribeField | string> {
  const parts = path.split('.');
  let current = object;
  let fields = await describe(object);
  for (const [i, rel] of parts.slice(0, -1).entries()) {
    const ref = fields.find((f) => f.type === 'reference' && lower(f.relationshipName) === rel.toLowerCase());
    if (!ref) return `${current} has no relationship '${rel}' (a path names it as Account, not AccountId)`;
    const targets = Array.isArray(ref.referenceTo) ? (ref.referenceTo as string[]) : [];
    if (targets.length !== 1) {
      const last = parts[i + 1]?.toLowerCase() ?? '';
      const type = NAME_OBJECT_FIELDS[last];
      if (i + 2 !== parts.length || type === undefined)
        return `${current}.${rel} points to several objects: a filter may use only ${rel}.Id, .Name or .Type`;
      return { name: parts[i + 1] as string, label: '', type };
    }
    current = targets[0] as string;
    fields = await describe(current);
  }
  const last = parts[parts.length - 1] as string;
  const field = fields.find((f) => f.name.toLowerCase() === last.toLowerCase());
  if (!field) return `${current} has no field '${last}'`;
  if (field.filterable === false) return `${current}.${field.name} cannot be filtered on (describe: not filterable)`;
  return field;
}

const lower = (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : undefined);

/** Every field the filter names exists (parents through their relationship), can be filtered, and fits its literals. */
export async function checkFilterFields(object: string, parsed: ParsedFilter, describe: DescribeFields): Promise<void> {
  for (const term of parsed.terms) {
    const field = await resolvePath(object, term.path, describe);
    if (typeof field === 'string') throw problem(object, field);
    const accepted = acceptedLiterals(field.type);
    const wrong = accepted && term.literalTypes.find((t) => t !== 'NULL' && !accepted.includes(t));
    if (wrong)
      throw problem(object, `${term.path} is a ${field.type} field and cannot be compared with a ${wrong} literal`);
    if ((term.operator === 'INCLUDES' || term.operator === 'EXCLUDES') && field.type !== 'multipicklist')
      throw problem(object, `${term.operator} needs a multi-select picklist; ${term.path} is a ${field.type} field`);
  }
}

/**
 * Before any object is worked on: every configured filter, against the describe of its object and of the parents it
 * names. ConfigError (exit 2) on the first problem, naming the object.
 */
export async function checkObjectFilters(sf: SalesforceHttp, objects: readonly ObjectOptions[]): Promise<void> {
  const seen = new Map<string, Promise<readonly DescribeField[]>>();
  const describe: DescribeFields = (name) => {
    const key = name.toLowerCase();
    let fields = seen.get(key);
    if (!fields) {
      fields = describeObject(sf, name).then(
        (d) => d.raw,
        (err) => {
          if (err instanceof SalesforceApiError && err.status === 404)
            throw new ConfigError(`the filter names ${name}, which the integration user cannot describe`);
          throw err;
        },
      );
      seen.set(key, fields);
    }
    return fields;
  };
  for (const obj of objects) {
    if (obj.where === null) continue;
    try {
      await checkFilterFields(obj.name, parseFilter(obj.name, obj.where), describe);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      const message = err.message.startsWith(prefix(obj.name)) ? err.message : `${prefix(obj.name)}: ${err.message}`;
      throw new ConfigError(`${message}; nothing was run`);
    }
  }
}

/**
 * The cursor of every parent the filter names a field of, one per relationship path (`Account.SystemModstamp`,
 * `Account.Owner.SystemModstamp`): SystemModstamp, else LastModifiedDate. A polymorphic parent (the Name object) and
 * one without either field have none, so a change of theirs is seen by a full read only
 * (docs/salesforce.md#soql-filters).
 */
export async function filterParentCursors(
  object: string,
  parsed: ParsedFilter,
  describe: DescribeFields,
): Promise<string[]> {
  const out = new Set<string>();
  for (const term of parsed.terms) {
    const rels = term.path.split('.').slice(0, -1);
    let fields = await describe(object);
    for (const [i, rel] of rels.entries()) {
      const ref = fields.find((f) => f.type === 'reference' && lower(f.relationshipName) === rel.toLowerCase());
      const targets = Array.isArray(ref?.referenceTo) ? (ref.referenceTo as string[]) : [];
      if (targets.length !== 1) break;
      fields = await describe(targets[0] as string);
      const cursor = ['SystemModstamp', 'LastModifiedDate'].find((c) => fields.some((f) => f.name === c));
      if (!cursor) break;
      out.add([...rels.slice(0, i + 1), cursor].join('.'));
    }
  }
  return [...out].sort();
}

/** The spec with the cursors of the parents its filter names (filterParentCursors); as it was without a filter. */
export async function withFilterParents(sf: SalesforceHttp, spec: ObjectSpec): Promise<ObjectSpec> {
  if (spec.where === undefined) return spec;
  const describe: DescribeFields = async (name) => (await describeObject(sf, name)).raw;
  const cursors = await filterParentCursors(spec.name, parseFilter(spec.name, spec.where), describe);
  return cursors.length > 0 ? { ...spec, whereParentCursors: cursors } : spec;
}

/** The configured filter of an object (names match case-insensitively); null for none or an object not configured. */
export function configuredWhere(
  objects: readonly Pick<ObjectOptions, 'name' | 'where'>[],
  name: string,
): string | null {
  return objects.find((o) => o.name.toLowerCase() === name.toLowerCase())?.where ?? null;
}
