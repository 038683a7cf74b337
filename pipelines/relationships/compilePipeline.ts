// A configured pipeline -> the reads that keep its tables current (docs/salesforce.md#relationship-pipelines): one of
// its object into `<pipeline>`, with child-to-parent paths as flattened columns, and one per parent-to-child subquery
// into `<pipeline>__<relationship>`, read from the child object itself (Bulk API 2.0 refuses subqueries). Each read
// is an ObjectSpec the sync machinery loads like an object's, with state of its own (spec.stateKey).
import type { PipelineOptions } from '../../lib/config.ts';
import { ConfigError } from '../../lib/errors.ts';
import { checkFilterFields, parseFilter } from '../../extractors/soqlFilter.ts';
import { historyTableName } from '../../loaders/history.ts';
import { liveViewName } from '../../loaders/views.ts';
import { HASHABLE_TYPES, hashedField } from '../runtime/columnSelection.ts';
import { pgIdentifier, tableNameOf } from '../../schemas/pgNames.ts';
import type { FieldSpec, ObjectSpec } from '../../schemas/records.ts';
import { type ParsedPipeline, type ParsedSelect, parsePipelineSoql, whereText } from './parseSoql.ts';
import { type Describe, type ParentLink, pathColumn, resolvePath } from './resolvePaths.ts';

export interface PipelineRead {
  /** The pipeline's name in the config. */
  pipeline: string;
  /** The read's spec: the object read, the pipeline's table, state kept under stateKey. */
  spec: ObjectSpec;
  /**
   * Parents the rows carry fields of, by their lookup column: a row whose parent is deleted is read again, since a
   * lookup Salesforce clears may leave the row's own cursor as it was.
   */
  parents: { object: ObjectSpec; column: string }[];
  overlapMinutes: number;
}

/** The tables of a pipeline, known from its SOQL alone: its own and one per subquery. */
export function pipelineTables(p: PipelineOptions, parsed: ParsedPipeline): string[] {
  return [pgIdentifier(p.name), ...parsed.subqueries.map((s) => childTable(p.name, s.from))];
}

const childTable = (pipeline: string, relationship: string) =>
  pgIdentifier(`${pipeline}__${relationship.toLowerCase()}`);

/**
 * Every pipeline's SOQL parses and its tables are its own: no two pipelines, and no pipeline and a configured object,
 * share a table, a `_live` view or a history table. Pure, so a bad pipeline stops the command before it logs in.
 */
export function checkPipelines(pipelines: readonly PipelineOptions[], objects: readonly string[]): ParsedPipeline[] {
  const owner = new Map<string, string>();
  for (const o of objects) {
    const table = tableNameOf(o);
    for (const name of [table, liveViewName(table), historyTableName(table)]) owner.set(name, `the object ${o}`);
  }
  return pipelines.map((p) => {
    const parsed = parsePipelineSoql(p.name, p.soql);
    for (const table of pipelineTables(p, parsed)) {
      for (const name of [table, liveViewName(table)]) {
        const other = owner.get(name);
        if (other) throw new ConfigError(`pipeline ${p.name}: its table or view ${name} is also one of ${other}`);
      }
      owner.set(table, `the pipeline ${p.name}`);
      owner.set(liveViewName(table), `the pipeline ${p.name}`);
    }
    return parsed;
  });
}

/** The fields of a read, in order: Id first, the selected paths, then the cursor, IsDeleted and lookups it needs. */
interface Columns {
  fields: FieldSpec[];
  parents: ParentLink[];
}

async function selectColumns(
  p: PipelineOptions,
  describe: Describe,
  object: ObjectSpec,
  paths: readonly string[],
): Promise<Columns> {
  const out: Columns = { fields: [], parents: [] };
  const add = (f: FieldSpec) => {
    const same = out.fields.find((x) => x.column === f.column);
    if (same && same.name.toLowerCase() !== f.name.toLowerCase())
      throw new ConfigError(`pipeline ${p.name}: ${same.name} and ${f.name} would share the column ${f.column}`);
    if (!same) out.fields.push(f);
  };
  const extra = [object.cursorField, object.hasIsDeleted ? 'IsDeleted' : null].filter((n): n is string => !!n);
  const hash = new Set(p.hash.map((h) => h.toLowerCase()));
  for (const path of ['Id', ...paths, ...extra]) {
    const r = await resolvePath(p.name, describe, object.name, path);
    add(hash.has(path.toLowerCase()) ? hashedPath(p, path, r.field, [...extra, 'Id']) : r.field);
    for (const link of r.parents) if (!out.parents.some((x) => x.path === link.path)) out.parents.push(link);
  }
  // The lookup of every parent, so that the rows a deleted parent leaves behind can be found (parentDeletes.ts).
  for (const link of out.parents) add((await resolvePath(p.name, describe, object.name, link.lookup)).field);
  for (const link of out.parents) refuseHashedLookup(p, out.fields, link);
  return out;
}

/**
 * A lookup the rows of a deleted parent are found by (parentDeletes.ts compares it with the parent's Id) must hold
 * the Id as read: hashed, those rows would never be read again and keep the deleted parent's values.
 */
function refuseHashedLookup(p: PipelineOptions, fields: readonly FieldSpec[], link: ParentLink): void {
  const column = pathColumn(link.lookup);
  // Only the parents trackedParents follows: a User (no IsDeleted) is never looked for by its Id.
  if (trackedParents([link]).length > 0 && fields.some((f) => f.column === column && f.hashed))
    throw new ConfigError(
      `pipeline ${p.name}: hash: ${link.lookup} links the rows to their parent ${link.path}, so it is loaded as read`,
    );
}

/** A path the pipeline hashes (pipelines[].hash): the same rules as an object's columns.hash. */
function hashedPath(p: PipelineOptions, path: string, field: FieldSpec, needed: readonly string[]): FieldSpec {
  if (needed.some((n) => n.toLowerCase() === path.toLowerCase()))
    throw new ConfigError(`pipeline ${p.name}: hash: ${path} is always loaded as read (sfsync needs it)`);
  if (!HASHABLE_TYPES.has(field.sfType))
    throw new ConfigError(
      `pipeline ${p.name}: hash: ${path} is a ${field.sfType} field; only text, picklist, reference, boolean, int ` +
        'and date fields can be hashed',
    );
  return hashedField(field);
}

/** Every hashed path must be one the SOQL selects: a misspelt one would leave the value it meant in the clear. */
function checkHashedPaths(p: PipelineOptions, reads: readonly PipelineRead[]): void {
  const hashed = new Set(reads.flatMap((r) => r.spec.fields.filter((f) => f.hashed).map((f) => f.name.toLowerCase())));
  const missing = p.hash.filter((h) => !hashed.has(h.toLowerCase()));
  if (missing.length > 0)
    throw new ConfigError(`pipeline ${p.name}: hash: ${missing.join(', ')} is not a field the SOQL selects`);
}

/** The validated WHERE of a level, and the parents it names (their changes can change which rows match). */
async function checkedWhere(
  p: PipelineOptions,
  describe: Describe,
  object: string,
  select: ParsedSelect,
): Promise<{ text: string | null; parents: ParentLink[] }> {
  if (!select.where) return { text: null, parents: [] };
  const text = whereText(select.where);
  const filterPrefix = `the filter of ${object} (objects[].where): `;
  try {
    await checkFilterFields(object, parseFilter(object, text), async (name) => (await describe(name)).raw);
  } catch (err) {
    if (err instanceof ConfigError && err.message.startsWith(filterPrefix))
      throw new ConfigError(`pipeline ${p.name}: WHERE: ${err.message.slice(filterPrefix.length)}`);
    throw err;
  }
  const parents: ParentLink[] = [];
  for (const path of select.whereFields) parents.push(...(await resolvePath(p.name, describe, object, path)).parents);
  return { text, parents };
}

function cursorsOf(p: PipelineOptions, links: readonly ParentLink[]): string[] {
  const out = new Set<string>();
  for (const link of links) {
    if (!link.spec.cursorField)
      throw new ConfigError(
        `pipeline ${p.name}: ${link.path} (${link.spec.name}) has no SystemModstamp, LastModifiedDate or ` +
          'CreatedDate, so its changes cannot be told',
      );
    out.add(`${link.path}.${link.spec.cursorField}`);
  }
  return [...out];
}

function trackedParents(links: readonly ParentLink[]): PipelineRead['parents'] {
  // Parents that cannot be deleted (no IsDeleted, such as User) or that getDeleted refuses are left out.
  const out: PipelineRead['parents'] = [];
  for (const l of links) {
    const column = pathColumn(l.lookup);
    if (l.spec.hasIsDeleted && l.spec.replicateable !== false && !out.some((p) => p.column === column))
      out.push({ object: l.spec, column });
  }
  return out;
}

export async function compilePipeline(
  p: PipelineOptions,
  parsed: ParsedPipeline,
  describe: Describe,
): Promise<PipelineRead[]> {
  const root = await describe(parsed.from);
  const object = root.spec;
  const table = pgIdentifier(p.name);
  const columns = await selectColumns(p, describe, object, parsed.fields);
  const where = await checkedWhere(p, describe, object.name, parsed);
  const main: PipelineRead = {
    pipeline: p.name,
    spec: {
      ...object,
      table,
      label: `Relationship pipeline ${p.name}`,
      fields: columns.fields,
      stateKey: `pipeline:${table}`,
      relationship: {
        where: where.text,
        fullWhere: null,
        parentCursors: cursorsOf(p, [...columns.parents, ...where.parents]),
      },
    },
    parents: trackedParents(columns.parents),
    overlapMinutes: p.overlapMinutes,
  };
  const children: PipelineRead[] = [];
  for (const sub of parsed.subqueries)
    children.push(await compileChild(p, describe, root, sub, { where: parsed.where, parents: where.parents }));
  checkHashedPaths(p, [main, ...children]);
  return [main, ...children];
}

/**
 * A subquery's rows from the child object itself (`SELECT Id, LastName, AccountId FROM Contact`): its lookup to the
 * parent is a column, its own deletes come from getDeleted like any object's. A full read takes the children of
 * the parents the pipeline selects (`AccountId != null AND Account.<WHERE>`); a delta reads every changed child, so a
 * child that left its parent gets its new lookup (or null) instead of keeping the old one. With a WHERE, a parent's
 * change (its own, or of a parent its WHERE names) can make it match: the delta also follows those cursors through the
 * lookup (`Account.SystemModstamp`), so the children of a parent that starts matching come with it. The subquery's
 * rows are the table's rows whose lookup is the Id of a row of the pipeline's table.
 */
async function compileChild(
  p: PipelineOptions,
  describe: Describe,
  root: Awaited<ReturnType<Describe>>,
  sub: ParsedSelect,
  top: { where: ParsedPipeline['where']; parents: readonly ParentLink[] },
): Promise<PipelineRead> {
  const rel = (root.childRelationships ?? []).find((c) => lower(c.relationshipName) === sub.from.toLowerCase());
  if (!rel) throw new ConfigError(`pipeline ${p.name}: ${root.spec.name} has no child relationship '${sub.from}'`);
  const child = await describe(rel.childSObject);
  const lookup = child.raw.find((f) => f.name === rel.field);
  const targets = Array.isArray(lookup?.referenceTo) ? (lookup.referenceTo as string[]) : [];
  if (!lookup || targets.length !== 1 || typeof lookup.relationshipName !== 'string')
    throw new ConfigError(
      `pipeline ${p.name}: ${sub.from} is read through ${rel.childSObject}.${rel.field}, a polymorphic lookup, ` +
        'which cannot be kept current',
    );
  const object = child.spec;
  const table = childTable(p.name, String(rel.relationshipName));
  const columns = await selectColumns(p, describe, object, [rel.field, ...sub.fields]);
  const parentLink: ParentLink = { path: lookup.relationshipName, lookup: rel.field, spec: root.spec };
  refuseHashedLookup(p, columns.fields, parentLink);
  const where = await checkedWhere(p, describe, object.name, sub);
  const fullWhere = [
    `${rel.field} != null`,
    ...(top.where ? [`(${whereText(top.where, lookup.relationshipName)})`] : []),
  ];
  // The top WHERE's parents, one level further (parseSoql.ts keeps that within the five levels SOQL allows).
  const topParents = top.where
    ? [
        parentLink,
        ...top.parents.map((l) => ({
          ...l,
          path: `${parentLink.path}.${l.path}`,
          lookup: `${parentLink.path}.${l.lookup}`,
        })),
      ]
    : [];
  return {
    pipeline: p.name,
    spec: {
      ...object,
      table,
      label: `Relationship pipeline ${p.name}: ${root.spec.name}.${String(rel.relationshipName)}`,
      fields: columns.fields,
      stateKey: `pipeline:${table}`,
      relationship: {
        where: where.text,
        fullWhere: fullWhere.join(' AND '),
        parentCursors: cursorsOf(p, [...columns.parents, ...where.parents, ...topParents]),
      },
    },
    // The lookup's own parent too: a child whose lookup Salesforce cleared must lose the parent's Id.
    parents: trackedParents([...columns.parents, parentLink]),
    overlapMinutes: p.overlapMinutes,
  };
}

const lower = (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : undefined);
