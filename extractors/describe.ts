// describeGlobal and sObject describe (docs/salesforce.md#describeglobal, #sobject-describe) -> ObjectSpec: the
// loadable fields and the cursor. Describes are conditional (If-Modified-Since -> 304,
// docs/salesforce.md#rest-request-conventions) against an in-process cache.
import { numericSizeOf, pgTypeOf, sizedLengthOf } from '../schemas/fieldTypes.ts';
import { columnNameOf, tableNameOf } from '../schemas/pgNames.ts';
import { DataError, SalesforceApiError } from '../lib/errors.ts';
import type { JsonResponse, SalesforceHttp } from './client/salesforceHttp.ts';
import { assertSoqlName } from './soql.ts';
import type { CursorField, FieldSpec, ObjectSpec, PicklistEntry } from '../schemas/records.ts';

/** The describe field members sfsync reads (docs/salesforce.md#sobject-describe). */
export interface DescribeField {
  name: string;
  label: string;
  type: string;
  calculated?: boolean;
  calculatedFormula?: string | null;
  compoundFieldName?: string | null;
  picklistValues?: { value: string; label?: string | null; active?: boolean; defaultValue?: boolean }[];
  [key: string]: unknown;
}

interface DescribeResult {
  name: string;
  label: string;
  /** docs/salesforce.md#describeglobal: false when getDeleted/getUpdated refuse the object. */
  replicateable?: boolean;
  fields: DescribeField[];
  childRelationships?: DescribeChildRelationship[];
}

/** A describe `childRelationships` entry (docs/salesforce.md#sobject-describe): a child object's lookup to this one. */
export interface DescribeChildRelationship {
  childSObject: string;
  field: string;
  relationshipName: string | null;
}

export interface DescribedObject {
  spec: ObjectSpec;
  /** Every field as describe returned it, loadable or not. */
  raw: DescribeField[];
  /** The child relationships describe lists (parent-to-child subqueries, pipelines/relationships/). */
  childRelationships?: DescribeChildRelationship[];
}

/**
 * docs/salesforce.md#objects-without-system-fields / #incremental-cursor-windows: the best incremental cursor, in
 * Airbyte's order of preference.
 */
const CURSOR_PREFERENCE: readonly CursorField[] = ['SystemModstamp', 'LastModifiedDate', 'CreatedDate'];

function checkDescribe(name: string, body: unknown): DescribeResult {
  const d = body as Partial<DescribeResult> | undefined;
  const ok =
    d &&
    typeof d.name === 'string' &&
    Array.isArray(d.fields) &&
    d.fields.every((f) => typeof f?.name === 'string' && typeof f?.type === 'string');
  if (!ok)
    throw new DataError(
      `The describe of ${name} is not shaped like an sObject describe (name, fields[] with name and type)`,
    );
  return d as DescribeResult;
}

export function fieldSpecOf(f: DescribeField): FieldSpec | null {
  const pgType = pgTypeOf(f.type);
  // docs/salesforce.md#compound-fields: compound parents and base64 bodies; components stay
  if (pgType === null) return null;
  const entries = picklistEntriesOf(f);
  const length = sizedLengthOf(f);
  const numeric = numericSizeOf(f);
  return {
    name: f.name,
    column: columnNameOf(f.name),
    label: typeof f.label === 'string' ? f.label : f.name,
    sfType: f.type,
    pgType,
    calculated: f.calculated === true,
    calculatedFormula: typeof f.calculatedFormula === 'string' ? f.calculatedFormula : null,
    picklistValues: entries.filter((p) => p.active).map((p) => p.value),
    ...(entries.length > 0 && { picklistEntries: entries }),
    ...(length !== undefined && { length }),
    ...numeric,
  };
}

/** docs/salesforce.md#picklist-values: every entry in describe order; `active` absent reads as active. */
function picklistEntriesOf(f: DescribeField): PicklistEntry[] {
  if (!Array.isArray(f.picklistValues)) return [];
  return f.picklistValues
    .filter((p) => typeof p?.value === 'string')
    .map((p) => ({
      value: p.value,
      label: typeof p.label === 'string' ? p.label : p.value,
      active: p.active !== false,
      isDefault: p.defaultValue === true,
    }));
}

export function specOf(d: DescribeResult): ObjectSpec {
  const fields = d.fields.map(fieldSpecOf).filter((f): f is FieldSpec => f !== null);
  const names = new Set(fields.map((f) => f.name));
  // Shortened names carry a hash of the whole name, so two fields sharing a column is all but impossible; should it
  // happen, the object fails here rather than load one field's values into the other's column.
  const byColumn = new Map<string, string>();
  for (const f of fields) {
    const other = byColumn.get(f.column);
    if (other !== undefined)
      throw new DataError(`${d.name}: the fields ${other} and ${f.name} would share the column ${f.column}`);
    byColumn.set(f.column, f.name);
  }
  return {
    name: d.name,
    table: tableNameOf(d.name),
    label: typeof d.label === 'string' ? d.label : d.name,
    fields,
    cursorField: CURSOR_PREFERENCE.find((c) => names.has(c)) ?? null,
    hasIsDeleted: names.has('IsDeleted'),
    // Absent in a describe that predates the flag: read as replicateable, as every object was treated before.
    replicateable: d.replicateable !== false,
  };
}

/** The last full describe of one object and the Last-Modified to send back as If-Modified-Since. */
export interface CachedDescribe {
  body: DescribeResult;
  lastModified: string;
  /** Local clock (ms) of the full describe. */
  fetchedAt: number;
}

/** Least recently used entries go first once `max` are held. */
export interface DescribeCache {
  get(key: string): CachedDescribe | undefined;
  set(key: string, entry: CachedDescribe): void;
  delete(key: string): void;
  readonly size: number;
}

export function createDescribeCache(max = 1000): DescribeCache {
  const entries = new Map<string, CachedDescribe>();
  return {
    get(key) {
      const e = entries.get(key);
      if (e) {
        entries.delete(key);
        entries.set(key, e);
      }
      return e;
    },
    set(key, entry) {
      entries.delete(key);
      entries.set(key, entry);
      for (const oldest of entries.keys()) {
        if (entries.size <= max) break;
        entries.delete(oldest);
      }
    },
    delete: (key) => void entries.delete(key),
    get size() {
      return entries.size;
    },
  };
}

/**
 * Shared by every client of the process: `sfsync schedule` runs many syncs in one process, each with its own
 * client, and each re-describes its objects. Keyed by instance URL, API version and object, so orgs never mix.
 */
const processCache = createDescribeCache();

/**
 * A describe also reflects the running user's field permissions, and nothing says granting one moves the object's
 * Last-Modified: at least this often the describe is read in full.
 */
export const DESCRIBE_MAX_AGE_MS = 60 * 60_000;

/**
 * Last-Modified has whole seconds: a change later in the same second as the response would not move it, so a
 * Last-Modified in the second of the response's Date is no safe validator (RFC 9110 section 8.8.2.2) and is not kept.
 */
export function validatorOf(headers: Record<string, string | undefined>): string | undefined {
  const modified = Date.parse(headers['last-modified'] ?? '');
  const served = Date.parse(headers.date ?? '');
  if (Number.isNaN(modified) || Number.isNaN(served) || modified >= Math.floor(served / 1000) * 1000) return undefined;
  return headers['last-modified'];
}

/** `cache` null: always a full describe. */
export async function describeObject(
  http: SalesforceHttp,
  name: string,
  cache: DescribeCache | null = processCache,
): Promise<DescribedObject> {
  assertSoqlName(name, 'Object');
  const key = cache ? `${await http.instanceUrl()} v${http.apiVersion} ${name.toLowerCase()}` : '';
  const cached = cache?.get(key);
  const usable = cached && Date.now() - cached.fetchedAt < DESCRIBE_MAX_AGE_MS ? cached : undefined;
  let res: JsonResponse<unknown>;
  try {
    res = await http.getResponse(
      `sobjects/${name}/describe`,
      usable ? { headers: { 'If-Modified-Since': usable.lastModified } } : {},
    );
  } catch (err) {
    // docs/salesforce.md#sobject-describe: an unknown object is 404 NOT_FOUND.
    if (err instanceof SalesforceApiError && err.status === 404) {
      throw new SalesforceApiError(
        `Unknown Salesforce object '${name}'`,
        { status: 404, errorCode: err.errorCode, method: err.method, url: err.url },
        { cause: err },
      );
    }
    throw err;
  }
  if (res.status === 304) {
    if (!usable)
      throw new DataError(`The describe of ${name} answered 304 Not Modified to a request that was not conditional`);
    return resultOf(structuredClone(usable.body));
  }
  const d = checkDescribe(name, res.body);
  const lastModified = cache ? validatorOf(res.headers) : undefined;
  if (lastModified) cache?.set(key, { body: structuredClone(d), lastModified, fetchedAt: Date.now() });
  else cache?.delete(key);
  return resultOf(d);
}

function resultOf(d: DescribeResult): DescribedObject {
  return { spec: specOf(d), raw: d.fields, childRelationships: d.childRelationships ?? [] };
}
