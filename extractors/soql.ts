// SOQL text built from an ObjectSpec (pure). Names are validated, never quoted: SOQL has no identifier quoting.
import { ConfigError, DataError } from '../lib/errors.ts';
import type { ObjectSpec } from '../schemas/records.ts';

/** An API name SOQL accepts bare; anything that would need quoting is refused. */
const SOQL_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

export interface CursorWindow {
  /** Inclusive lower bound, ISO 8601. */
  from?: string;
  /** Exclusive upper bound, ISO 8601. */
  to?: string;
  /** The dateTime field the bounds apply to; default the object's cursor (a backfill --by created uses CreatedDate). */
  field?: string;
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

function whereClause(spec: ObjectSpec, window: CursorWindow | undefined, liveOnly = false): string {
  const terms: string[] = liveOnly ? ['IsDeleted = false'] : [];
  if (!window || (window.from === undefined && window.to === undefined))
    return terms.length > 0 ? ` WHERE ${terms.join(' AND ')}` : '';
  const cursor =
    window.field === undefined ? spec.cursorField : assertSoqlName(window.field, `Window field of ${spec.name}`);
  if (!cursor)
    throw new DataError(
      `${spec.name} has no SystemModstamp, LastModifiedDate or CreatedDate; it cannot be read by cursor window`,
    );
  if (window.from !== undefined) terms.push(`${cursor} >= ${soqlDateTime(window.from)}`);
  if (window.to !== undefined) terms.push(`${cursor} < ${soqlDateTime(window.to)}`);
  return ` WHERE ${terms.join(' AND ')}`;
}

export function buildSelect(spec: ObjectSpec, opts: SelectOptions = {}): string {
  const object = assertSoqlName(spec.name, 'Object');
  const fields = (opts.fields ?? spec.fields.map((f) => f.name)).map((f) => assertSoqlName(f, `Field of ${object}`));
  if (fields.length === 0) throw new DataError(`${object}: no fields to select`);
  const order = opts.orderByCursor && spec.cursorField ? ` ORDER BY ${spec.cursorField}, Id` : '';
  return `SELECT ${fields.join(', ')} FROM ${object}${whereClause(spec, opts.window, opts.liveOnly)}${order}`;
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
