// Column control (config objects[].columns): which of an object's fields are requested from Salesforce at all
// (include, exclude) and which are stored as keyed hashes (hash, transforms/hashValue.ts). selectColumns is pure;
// describeConfigured is the describe every pipeline reads an object through; checkColumnOptions runs before any work.
import type { ColumnOptions, ObjectOptions } from '../../lib/config.ts';
import { ConfigError } from '../../lib/errors.ts';
import { type DescribedObject, describeObject } from '../../extractors/describe.ts';
import type { FieldSpec, ObjectSpec } from '../../schemas/records.ts';
import { describeUnknown } from '../../lib/didYouMean.ts';
import type { RunContext } from './runContext.ts';

/**
 * Types whose value REST (JSON) and Bulk API 2.0 (CSV) send as the same text (docs/salesforce.md#field-types), so a
 * value hashes the same whichever API read it and joins on the hash hold. A datetime (`+0000` against `Z`) and a
 * decimal number (plain or exponent form) have more than one spelling, and a JSON value more than one layout: hashing
 * them would give one value two hashes.
 */
export const HASHABLE_TYPES: ReadonlySet<string> = new Set([
  'string',
  'textarea',
  'email',
  'phone',
  'url',
  'picklist',
  'multipicklist',
  'combobox',
  'encryptedstring',
  'reference',
  'boolean',
  'int',
  'date',
]);

export const NO_COLUMN_OPTIONS: ColumnOptions = Object.freeze({ include: null, exclude: [], hash: [] });

export function hasColumnOptions(o: ColumnOptions): boolean {
  return o.include !== null || o.exclude.length > 0 || o.hash.length > 0;
}

/** Id (the key), the cursor (the watermark) and IsDeleted (deletes) are what every load needs, as read. */
function alwaysKept(spec: ObjectSpec): Set<string> {
  const names = ['Id', spec.cursorField, spec.hasIsDeleted ? 'IsDeleted' : null];
  return new Set(names.filter((n): n is string => n !== null));
}

/**
 * The spec with only the selected fields, in describe order; hashed fields get a text column. Names are matched
 * case-insensitively (SOQL's are); a compound field (MailingAddress) stands for its component fields in include and
 * exclude. Every mistake is a ConfigError naming all of them, with a suggestion for a misspelt name.
 */
export function selectColumns(described: DescribedObject, opts: ColumnOptions): ObjectSpec {
  const { spec, raw } = described;
  if (!hasColumnOptions(opts)) return spec;
  const problems: string[] = [];
  const loaded = new Map(spec.fields.map((f) => [f.name.toLowerCase(), f]));
  const all = new Map(raw.map((f) => [f.name.toLowerCase(), f]));
  const compoundOf = new Map(raw.map((f) => [f.name, f.compoundFieldName ?? null]));
  const resolve = (list: 'include' | 'exclude' | 'hash', name: string): FieldSpec[] => {
    const field = loaded.get(name.toLowerCase());
    if (field) return [field];
    const d = all.get(name.toLowerCase());
    if (!d) {
      const known = raw.map((f) => f.name);
      problems.push(`${list}: ${describeUnknown(name, known)} is not a field of ${spec.name}`);
      return [];
    }
    // docs/salesforce.md#compound-fields: the parent is not loaded, its components are.
    const parts = spec.fields.filter((f) => compoundOf.get(f.name) === d.name);
    if (parts.length > 0 && list !== 'hash') return parts;
    if (parts.length > 0)
      problems.push(`hash: ${d.name} is a compound field; name the components to hash (${names(parts).join(', ')})`);
    // Not loaded anyway (a base64 body): nothing to exclude.
    else if (list !== 'exclude') problems.push(`${list}: ${d.name} (${d.type}) is not a field sfsync loads`);
    return [];
  };
  const include = opts.include && new Set(names(opts.include.flatMap((n) => resolve('include', n))));
  const exclude = new Set(names(opts.exclude.flatMap((n) => resolve('exclude', n))));
  const hash = new Set(names(opts.hash.flatMap((n) => resolve('hash', n))));
  const kept = alwaysKept(spec);
  for (const name of kept) {
    if (exclude.has(name)) problems.push(`exclude: ${name} is always loaded (sfsync needs it)`);
    if (hash.has(name)) problems.push(`hash: ${name} is always loaded as read (sfsync needs it)`);
  }
  for (const name of exclude) {
    if (include?.has(name)) problems.push(`${name} is both included and excluded`);
    if (hash.has(name)) problems.push(`${name} is both excluded and hashed`);
  }
  for (const name of hash) {
    const f = loaded.get(name.toLowerCase())!;
    if (!kept.has(name) && !HASHABLE_TYPES.has(f.sfType))
      problems.push(
        `hash: ${name} is a ${f.sfType} field; only text, picklist, reference, boolean, int and date fields can be ` +
          'hashed (REST and Bulk send other types with more than one spelling)',
      );
  }
  if (problems.length > 0) throw new ConfigError(`${spec.name} columns: ${problems.join('; ')}`);
  // A hashed field is loaded even when include does not name it: hashing it says it is wanted.
  const selected = (f: FieldSpec) =>
    kept.has(f.name) || hash.has(f.name) || (!exclude.has(f.name) && (include === null || include.has(f.name)));
  const fields = spec.fields.filter(selected).map((f) => (hash.has(f.name) ? hashedField(f) : f));
  return { ...spec, fields };
}

/** Hex digests in a text column (schemas/fieldTypes.ts columnTypeOf: whatever describe's length says). */
export function hashedField(f: FieldSpec): FieldSpec {
  return { ...f, pgType: 'text', hashed: true };
}

const names = (fields: readonly (FieldSpec | string)[]) => fields.map((f) => (typeof f === 'string' ? f : f.name));

/** The column options of a configured object (names match case-insensitively); none for an object not configured. */
export function columnOptionsOf(ctx: Pick<RunContext, 'config'>, object: string): ColumnOptions {
  const o = ctx.config.objects.find((c: ObjectOptions) => c.name.toLowerCase() === object.toLowerCase());
  return o?.columns ?? NO_COLUMN_OPTIONS;
}

/** The object's describe with its configured columns applied: what sync, backfill, formulas and verify load. */
export async function describeConfigured(ctx: Pick<RunContext, 'sf' | 'config'>, object: string): Promise<ObjectSpec> {
  return selectColumns(await describeObject(ctx.sf, object), columnOptionsOf(ctx, object));
}

/**
 * Every configured object's column options against its describe, before any object is worked on: a misspelt field
 * stops the command with exit 2. Other failures are left to the object's own run, which meets them again.
 */
export async function checkColumnOptions(ctx: Pick<RunContext, 'sf' | 'config'>): Promise<void> {
  const problems: string[] = [];
  const objects = ctx.config.objects.filter((o) => hasColumnOptions(o.columns));
  await Promise.all(
    objects.map(async (o) => {
      try {
        await describeConfigured(ctx, o.name);
      } catch (err) {
        if (err instanceof ConfigError) problems.push(err.message);
      }
    }),
  );
  if (problems.length > 0) throw new ConfigError(`${problems.sort().join('; ')}; nothing was run`);
}
