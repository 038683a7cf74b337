// describeGlobal and sObject describe (salesforce-api.md §3) -> ObjectSpec: the loadable fields and the cursor.
import { pgTypeOf } from '../schemas/fieldTypes.ts';
import { DataError, SalesforceApiError } from '../lib/errors.ts';
import type { SalesforceHttp } from './salesforceHttp.ts';
import { assertSoqlName } from './soql.ts';
import type { CursorField, FieldSpec, ObjectSpec } from './types.ts';

/** The describe field members sfsync reads (§3.2). */
export interface DescribeField {
  name: string;
  label: string;
  type: string;
  calculated?: boolean;
  calculatedFormula?: string | null;
  compoundFieldName?: string | null;
  picklistValues?: { value: string; active?: boolean }[];
  [key: string]: unknown;
}

interface DescribeResult {
  name: string;
  label: string;
  fields: DescribeField[];
}

export interface DescribedObject {
  spec: ObjectSpec;
  /** Every field as describe returned it, loadable or not. */
  raw: DescribeField[];
}

/** §3.5 / §4.7: the best incremental cursor, in Airbyte's order of preference. */
const CURSOR_PREFERENCE: readonly CursorField[] = ['SystemModstamp', 'LastModifiedDate', 'CreatedDate'];

function checkDescribe(name: string, body: unknown): DescribeResult {
  const d = body as Partial<DescribeResult> | undefined;
  const ok = d && typeof d.name === 'string' && Array.isArray(d.fields) && d.fields.every((f) => typeof f?.name === 'string' && typeof f?.type === 'string');
  if (!ok) throw new DataError(`The describe of ${name} is not shaped like an sObject describe (name, fields[] with name and type)`);
  return d as DescribeResult;
}

export function fieldSpecOf(f: DescribeField): FieldSpec | null {
  const pgType = pgTypeOf(f.type);
  if (pgType === null) return null; // §3.4: compound parents and base64 bodies; components stay
  return {
    name: f.name,
    column: f.name.toLowerCase(),
    label: typeof f.label === 'string' ? f.label : f.name,
    sfType: f.type,
    pgType,
    calculated: f.calculated === true,
    calculatedFormula: typeof f.calculatedFormula === 'string' ? f.calculatedFormula : null,
    picklistValues: Array.isArray(f.picklistValues) ? f.picklistValues.filter((p) => p?.active !== false && typeof p?.value === 'string').map((p) => p.value) : [],
  };
}

export function specOf(d: DescribeResult): ObjectSpec {
  const fields = d.fields.map(fieldSpecOf).filter((f): f is FieldSpec => f !== null);
  const names = new Set(fields.map((f) => f.name));
  return {
    name: d.name,
    table: d.name.toLowerCase(),
    label: typeof d.label === 'string' ? d.label : d.name,
    fields,
    cursorField: CURSOR_PREFERENCE.find((c) => names.has(c)) ?? null,
    hasIsDeleted: names.has('IsDeleted'),
  };
}

export async function describeObject(http: SalesforceHttp, name: string): Promise<DescribedObject> {
  assertSoqlName(name, 'Object');
  let body: unknown;
  try {
    body = await http.get(`sobjects/${name}/describe`);
  } catch (err) {
    // §3.2: an unknown object is 404 NOT_FOUND.
    if (err instanceof SalesforceApiError && err.status === 404) {
      throw new SalesforceApiError(`Unknown Salesforce object '${name}'`, { status: 404, errorCode: err.errorCode, method: err.method, url: err.url }, { cause: err });
    }
    throw err;
  }
  const d = checkDescribe(name, body);
  return { spec: specOf(d), raw: d.fields };
}

export interface GlobalObject {
  name: string;
  label: string;
  custom: boolean;
  queryable: boolean;
  replicateable?: boolean;
}

/** §3.1: the queryable objects of the org. */
export async function listObjects(http: SalesforceHttp): Promise<GlobalObject[]> {
  const body = await http.get<{ sobjects?: GlobalObject[] }>('sobjects');
  if (!body || !Array.isArray(body.sobjects)) throw new DataError('describeGlobal answer lacks sobjects[]');
  return body.sobjects.filter((o) => o.queryable === true);
}
