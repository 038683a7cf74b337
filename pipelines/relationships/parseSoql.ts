// A relationship pipeline's SOQL, parsed with soql-parser-js (pure): the fields and child-to-parent paths it selects,
// its parent-to-child subqueries and its WHERE. What a pipeline could not keep current as a table (LIMIT, OFFSET, ORDER
// BY, GROUP BY, aggregates, TYPEOF, functions, semi-joins) is refused with a ConfigError naming the pipeline.
import soqlParser, { type FieldType, type Query, type Subquery, type WhereClause } from 'soql-parser-js';
import { ConfigError } from '../../lib/errors.ts';

const { parseQuery, Compose } = soqlParser;

/** One SELECT level: the top query, or a parent-to-child subquery. */
export interface ParsedSelect {
  /** The FROM object; for a subquery, the child relationship name (`Contacts`). */
  from: string;
  /** Field paths as written: `Amount`, `Account.Owner.Email`. */
  fields: string[];
  where: WhereClause | undefined;
  /** Every field path the WHERE names. */
  whereFields: string[];
}

export interface ParsedPipeline extends ParsedSelect {
  subqueries: ParsedSelect[];
}

/** Salesforce counts `Account.Owner.FirstName` as three levels. */
const MAX_PATH_LEVELS = 5;

/** Clauses a pipeline refuses, with the words the error uses. */
const REFUSED_CLAUSES: [keyof Query | 'sObjectPrefix', string][] = [
  ['limit', 'LIMIT'],
  ['offset', 'OFFSET'],
  ['orderBy', 'ORDER BY'],
  ['groupBy', 'GROUP BY'],
  ['having', 'HAVING'],
  ['withDataCategory', 'WITH DATA CATEGORY'],
  ['withSecurityEnforced', 'WITH SECURITY_ENFORCED'],
  ['withAccessLevel', 'WITH USER_MODE/SYSTEM_MODE'],
  ['for', 'FOR VIEW/REFERENCE/UPDATE'],
  ['update', 'UPDATE TRACKING/VIEWSTAT'],
  ['usingScope', 'USING SCOPE'],
  ['sObjectAlias', 'an object alias'],
  ['sObjectPrefix', 'an object prefix'],
];

export function parsePipelineSoql(pipeline: string, soql: string): ParsedPipeline {
  const refuse = (what: string) => new ConfigError(`pipeline ${pipeline}: ${what}`);
  let q: Query;
  try {
    q = parseQuery(soql);
  } catch (err) {
    const first = (err as Error).message.split('\n')[0] ?? 'unexpected token';
    throw new ConfigError(`pipeline ${pipeline}: its SOQL does not parse: ${first}`);
  }
  if (!q.sObject) throw refuse('its SOQL has no FROM object');
  const top = parseLevel(q, q.sObject, refuse, true);
  // A subquery's children are read from the child object with the top WHERE behind their lookup's relationship name
  // (`Account.Industry`): one level more than the top query names (compilePipeline.ts).
  if (top.subqueries.length > 0)
    for (const path of top.select.whereFields)
      if (levels(path) + 1 > MAX_PATH_LEVELS)
        throw refuse(
          `${path} in WHERE has ${levels(path)} levels: a subquery's children are read with it one level further, ` +
            `past the ${MAX_PATH_LEVELS} SOQL allows in a child-to-parent path`,
        );
  return { ...top.select, subqueries: top.subqueries };
}

function parseLevel(
  q: Query | Subquery,
  from: string,
  refuse: (what: string) => ConfigError,
  isTop: boolean,
): { select: ParsedSelect; subqueries: ParsedSelect[] } {
  const where = isTop ? " in a pipeline's SOQL" : ` in a pipeline's subquery (${from})`;
  for (const [key, words] of REFUSED_CLAUSES)
    if ((q as Record<string, unknown>)[key] !== undefined && (q as Record<string, unknown>)[key] !== false)
      throw refuse(`${words} is not allowed${where}`);
  const fields: string[] = [];
  const subqueries: ParsedSelect[] = [];
  for (const f of q.fields ?? []) {
    const sub = fieldOf(f, refuse, where);
    if (typeof sub === 'string') {
      if (levels(sub) > MAX_PATH_LEVELS) throw tooDeep(sub, refuse, '');
      if (fields.some((x) => x.toLowerCase() === sub.toLowerCase())) throw refuse(`${sub} is selected twice`);
      fields.push(sub);
      continue;
    }
    if (!isTop) throw refuse(`a subquery inside a subquery is not allowed${where}`);
    subqueries.push(parseLevel(sub, sub.relationshipName, refuse, false).select);
  }
  const whereFields = q.where ? conditionFields(q.where, refuse, where) : [];
  for (const path of whereFields) if (levels(path) > MAX_PATH_LEVELS) throw tooDeep(path, refuse, ' in WHERE');
  return { select: { from, fields, where: q.where, whereFields }, subqueries };
}

const levels = (path: string) => path.split('.').length;

/** docs/salesforce.md#relationship-pipelines: a child-to-parent path has at most five levels. */
function tooDeep(path: string, refuse: (what: string) => ConfigError, where: string): ConfigError {
  return refuse(
    `${path}${where} has more than ${MAX_PATH_LEVELS} levels, the most SOQL allows in a child-to-parent path`,
  );
}

/** A selected item: its path, or the subquery it is. */
function fieldOf(f: FieldType, refuse: (what: string) => ConfigError, where: string): string | Subquery {
  switch (f.type) {
    case 'Field':
      if (f.alias) throw refuse(`the alias ${f.alias} is not allowed${where}`);
      return f.field;
    case 'FieldRelationship':
      if ('alias' in f && f.alias) throw refuse(`the alias ${String(f.alias)} is not allowed${where}`);
      return [...f.relationships, f.field].join('.');
    case 'FieldSubquery':
      return f.subquery;
    case 'FieldFunctionExpression':
      throw refuse(`${f.rawValue ?? `${f.functionName}()`} is not allowed${where}: select fields, not functions`);
    case 'FieldTypeof':
      throw refuse(`TYPEOF is not allowed${where}`);
  }
}

/** The field paths of a WHERE clause; functions, semi-joins and bind variables are refused. */
function conditionFields(w: WhereClause, refuse: (what: string) => ConfigError, where: string): string[] {
  const out: string[] = [];
  let node: WhereClause | undefined = w;
  while (node) {
    const left = node.left as Record<string, unknown> | null;
    if (left && 'fn' in left) throw refuse(`functions in WHERE are not allowed${where}`);
    if (left && 'valueQuery' in left) throw refuse(`a semi-join (IN (SELECT ...)) in WHERE is not allowed${where}`);
    const types = left ? [left.literalType].flat() : [];
    if (types.includes('APEX_BIND_VARIABLE')) throw refuse(`bind variables in WHERE are not allowed${where}`);
    if (left && typeof left.field === 'string') out.push(left.field);
    node = 'right' in node ? node.right : undefined;
  }
  return out;
}

/** The WHERE clause as SOQL text, with every field path prefixed by `prefix.` when one is given. */
export function whereText(where: WhereClause, prefix?: string): string {
  const copy = structuredClone(where);
  if (prefix) {
    let node: WhereClause | undefined = copy;
    while (node) {
      const left = node.left as { field?: unknown } | null;
      if (left && typeof left.field === 'string') left.field = `${prefix}.${left.field}`;
      node = 'right' in node ? node.right : undefined;
    }
  }
  return new Compose({}, { autoCompose: false }).parseWhereOrHavingClause(copy).trim();
}
