// Field paths of a pipeline's SOQL resolved through describe (docs/salesforce.md#relationship-pipelines): each
// relationship step through a reference field's relationshipName to the one object it points to, each leaf to its
// describe field and PostgreSQL type. Unknown names fail here, before any read, as a ConfigError naming the pipeline.
import { ConfigError, SalesforceApiError } from '../../lib/errors.ts';
import { type DescribedObject, type DescribeField, describeObject, fieldSpecOf } from '../../extractors/describe.ts';
import type { SalesforceHttp } from '../../extractors/client/salesforceHttp.ts';
import { columnNameOf } from '../../schemas/pgNames.ts';
import type { FieldSpec, ObjectSpec } from '../../schemas/records.ts';

/** A parent on the way of a path: `Account`, `Account.Owner`. */
export interface ParentLink {
  /** The relationship path in describe casing. */
  path: string;
  /** The lookup holding its Id, as a path from the read's object: `AccountId`, `Account.OwnerId`. */
  lookup: string;
  /** The parent object as describe gives it. */
  spec: ObjectSpec;
}

export interface ResolvedPath {
  field: FieldSpec;
  /** Every parent on the way, nearest first. */
  parents: ParentLink[];
}

/** Describes each object once per pipeline run (describeObject's cache still revalidates every call). */
export type Describe = (object: string) => Promise<DescribedObject>;

export function describer(sf: SalesforceHttp, pipeline: string): Describe {
  const seen = new Map<string, Promise<DescribedObject>>();
  return (object) => {
    const key = object.toLowerCase();
    let d = seen.get(key);
    if (!d) {
      d = describeObject(sf, object).catch((err: unknown) => {
        if (err instanceof SalesforceApiError && err.status === 404)
          throw new ConfigError(`pipeline ${pipeline}: the integration user cannot describe ${object}`);
        throw err;
      });
      seen.set(key, d);
    }
    return d;
  };
}

const lower = (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : undefined);

/** The column of a path: lowercased, `.` -> `_`, shortened past 63 bytes (schemas/pgNames.ts). */
export function pathColumn(path: string): string {
  return columnNameOf(path.replaceAll('.', '_'));
}

/**
 * `path` from `object`. A polymorphic lookup (Task.What, Case.Owner) is refused: SOQL reads such a parent through the
 * Name object, which has no SystemModstamp, so nothing would tell when its fields change
 * (docs/salesforce.md#relationship-pipelines).
 */
export async function resolvePath(
  pipeline: string,
  describe: Describe,
  object: string,
  path: string,
): Promise<ResolvedPath> {
  const problem = (what: string) => new ConfigError(`pipeline ${pipeline}: ${path}: ${what}`);
  const parts = path.split('.');
  let current = await describe(object);
  const steps: string[] = [];
  const labels: string[] = [];
  const parents: ParentLink[] = [];
  for (const rel of parts.slice(0, -1)) {
    const ref = current.raw.find((f) => f.type === 'reference' && lower(f.relationshipName) === rel.toLowerCase());
    if (!ref)
      throw problem(`${current.spec.name} has no relationship '${rel}' (a path names it as Account, not AccountId)`);
    const targets = Array.isArray(ref.referenceTo) ? (ref.referenceTo as string[]) : [];
    if (targets.length !== 1)
      throw problem(
        `${current.spec.name}.${String(ref.relationshipName)} points to ${targets.join(' or ') || 'no object'}; ` +
          'polymorphic lookups cannot be kept current (their parents have no SystemModstamp in SOQL)',
      );
    const lookup = [...steps, ref.name].join('.');
    steps.push(String(ref.relationshipName));
    labels.push(String(ref.relationshipName));
    current = await describe(targets[0] as string);
    parents.push({ path: steps.join('.'), lookup, spec: current.spec });
  }
  const last = parts[parts.length - 1] as string;
  const raw: DescribeField | undefined = current.raw.find((f) => f.name.toLowerCase() === last.toLowerCase());
  if (!raw) throw problem(`${current.spec.name} has no field '${last}'`);
  const spec = fieldSpecOf(raw);
  if (!spec) throw problem(`${current.spec.name}.${raw.name} is a ${raw.type} field, which sfsync does not load`);
  const name = [...steps, raw.name].join('.');
  const label = labels.length > 0 ? `${labels.join(' > ')} > ${spec.label}` : spec.label;
  return { field: { ...spec, name, column: pathColumn(name), label }, parents };
}
