// SOQL text built from an ObjectSpec (pure). Names are validated, never quoted: SOQL has no identifier quoting.
import { ConfigError, DataError } from '../lib/errors.ts';
import type { ObjectSpec } from '../schemas/records.ts';

/** An API name SOQL accepts bare; anything that would need quoting is refused. */
const SOQL_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
/** A field or a child-to-parent path of them (`Account.Owner.Email`), as a relationship pipeline selects. */
const SOQL_PATH = /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$/;
/** A 15- or 18-character record Id. */
const RECORD_ID = /^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$/;

export interface CursorWindow {
  /** Inclusive lower bound, ISO 8601. */
  from?: string;
  /** Exclusive upper bound, ISO 8601. */
  to?: string;
  /** The dateTime field the bounds apply to; default the object's cursor (a backfill --by created uses CreatedDate). */
  field?: string;
  /**
   * `from` is a delta's lower bound: for a relationship pipeline (spec.relationship) it also applies to the cursors of
   * the parents its rows carry fields of, and the delta leaves out the conditions of full reads only; for an object,
   * to those of the parents its filter names (spec.whereParentCursors).
   */
  delta?: boolean;
}

export interface SelectOptions {
  /** Field API names in order; defaults to every field of the spec (the order COPY columns follow). */
  fields?: readonly string[];
  window?: CursorWindow;
  /**
   * `ORDER BY cursor, Id`: for REST paging with checkpoints. Off for Bulk
   * (docs/salesforce.md#bulk-api-20-soql-restrictions: ORDER BY disables chunking).
   */
  orderByCursor?: boolean;
  /**
   * `IsDeleted = false`: the records that exist, read with queryAll so that archived Tasks and Events, which only
   * queryAll returns, count as existing (docs/salesforce.md#queryall-and-deleted-records).
   */
  liveOnly?: boolean;
  /**
   * The records the object's filter (spec.where) leaves out, `(NOT (<where>))`, instead of those it keeps: rows that
   * stopped matching (docs/salesforce.md#soql-filters).
   */
  unmatched?: boolean;
}

export function assertSoqlName(name: string, what: string): string {
  if (!SOQL_NAME.test(name))
    throw new ConfigError(
      `${what} '${name}' is not a plain Salesforce API name (letters, digits, underscores); refusing to put it in SOQL`,
    );
  return name;
}

/**
 * docs/salesforce.md#soql-literals: strings are single-quoted with backslash escapes (SOQL reference: \' \\ \n \r \t \"
 * are the escape sequences).
 */
export function escapeSoqlString(value: string): string {
  return value.replace(
    /[\\'"\n\r\t]/g,
    (c) => ({ '\\': '\\\\', "'": "\\'", '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c] ?? c,
  );
}

export function quoteSoqlString(value: string): string {
  return `'${escapeSoqlString(value)}'`;
}

/** docs/salesforce.md#soql-literals: an unquoted UTC dateTime literal with millis, e.g. 2024-01-02T03:04:05.000Z. */
export function soqlDateTime(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new DataError(`'${iso}' is not an ISO 8601 instant; cannot use it as a SOQL dateTime`);
  return new Date(ms).toISOString();
}

/** A relationship pipeline's own conditions (schemas/records.ts RelationshipRead); none for an object's reads. */
function relationshipTerms(spec: ObjectSpec, window: CursorWindow | undefined): string[] {
  const r = spec.relationship;
  if (!r) return [];
  const delta = window?.delta === true && window.from !== undefined;
  return [r.where, delta ? null : r.fullWhere].filter((w): w is string => w !== null).map((w) => `(${w})`);
}

/**
 * A delta's lower bound. A relationship pipeline's rows change when a parent does, which leaves the row's own cursor as
 * it was: the bound applies to every parent's cursor too, and rows whose parent was deleted are read by Id
 * (docs/salesforce.md#relationship-pipelines). So for the parents an object's filter names: a parent's change can
 * move a record in or out of the filter (docs/salesforce.md#soql-filters).
 */
function fromTerm(spec: ObjectSpec, cursor: string, window: CursorWindow & { from: string }): string {
  const own = `${cursor} >= ${soqlDateTime(window.from)}`;
  if (!window.delta || window.field !== undefined) return own;
  const r = spec.relationship;
  const ids = (r?.changedIds ?? []).map((id) => {
    if (!RECORD_ID.test(id)) throw new DataError(`'${id}' is not a Salesforce record Id`);
    return `'${id}'`;
  });
  const parents = (r ? r.parentCursors : (spec.whereParentCursors ?? [])).map(
    (p) => `${assertSoqlPath(p, `Parent cursor of ${spec.name}`)} >= ${soqlDateTime(window.from)}`,
  );
  const any = [own, ...parents, ...(ids.length > 0 ? [`Id IN (${ids.join(', ')})`] : [])];
  return any.length === 1 ? own : `(${any.join(' OR ')})`;
}

function assertSoqlPath(path: string, what: string): string {
  if (!SOQL_PATH.test(path))
    throw new ConfigError(`${what} '${path}' is not a plain Salesforce field path; refusing to put it in SOQL`);
  return path;
}

/** docs/salesforce.md#soql-filters: the filter in parentheses, ANDed with the rest; NOT is its exact complement. */
function filterTerms(spec: ObjectSpec, unmatched = false): string[] {
  if (spec.where === undefined) {
    // Without a filter nothing is left out: reading "the rest" would read every record.
    if (unmatched) throw new DataError(`${spec.name} has no filter: there are no records it leaves out`);
    return [];
  }
  return [unmatched ? `(NOT (${spec.where}))` : `(${spec.where})`];
}

function whereClause(spec: ObjectSpec, window: CursorWindow | undefined, liveOnly = false, unmatched = false): string {
  const terms: string[] = liveOnly ? ['IsDeleted = false'] : [];
  terms.push(...relationshipTerms(spec, window), ...filterTerms(spec, unmatched));
  if (!window || (window.from === undefined && window.to === undefined))
    return terms.length > 0 ? ` WHERE ${terms.join(' AND ')}` : '';
  const cursor =
    window.field === undefined ? spec.cursorField : assertSoqlName(window.field, `Window field of ${spec.name}`);
  if (!cursor)
    throw new DataError(
      `${spec.name} has no SystemModstamp, LastModifiedDate or CreatedDate; it cannot be read by cursor window`,
    );
  if (window.from !== undefined) terms.push(fromTerm(spec, cursor, { ...window, from: window.from }));
  if (window.to !== undefined) terms.push(`${cursor} < ${soqlDateTime(window.to)}`);
  return ` WHERE ${terms.join(' AND ')}`;
}

export function buildSelect(spec: ObjectSpec, opts: SelectOptions = {}): string {
  const object = assertSoqlName(spec.name, 'Object');
  const fields = (opts.fields ?? spec.fields.map((f) => f.name)).map((f) =>
    spec.relationship ? assertSoqlPath(f, `Field of ${object}`) : assertSoqlName(f, `Field of ${object}`),
  );
  if (fields.length === 0) throw new DataError(`${object}: no fields to select`);
  const order = opts.orderByCursor && spec.cursorField ? ` ORDER BY ${spec.cursorField}, Id` : '';
  const where = whereClause(spec, opts.window, opts.liveOnly, opts.unmatched);
  return `SELECT ${fields.join(', ')} FROM ${object}${where}${order}`;
}

/** docs/salesforce.md#select-count: `SELECT COUNT()` answers in totalSize. */
export function buildCount(spec: ObjectSpec, opts: { window?: CursorWindow; liveOnly?: boolean } = {}): string {
  return `SELECT COUNT() FROM ${assertSoqlName(spec.name, 'Object')}${whereClause(spec, opts.window, opts.liveOnly)}`;
}

/**
 * The oldest cursor value (REST only: docs/salesforce.md#bulk-api-20-soql-restrictions, ORDER BY and LIMIT have no
 * place in a Bulk job).
 */
export function buildEarliest(spec: ObjectSpec): string {
  const object = assertSoqlName(spec.name, 'Object');
  const cursor = spec.cursorField;
  if (!cursor)
    throw new DataError(
      `${object} has no SystemModstamp, LastModifiedDate or CreatedDate; it cannot be read by cursor window`,
    );
  return `SELECT ${cursor} FROM ${object} ORDER BY ${cursor} ASC LIMIT 1`;
}
