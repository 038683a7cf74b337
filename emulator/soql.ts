// planSoql: a SOQL statement parsed by soql-parser-js and bound to the org's schema
// (docs/salesforce.md#rest-query-paging), run over snapshots without holding records: unfiltered scans only check
// IsDeleted, ORDER BY keeps one key per match, and a cursor window in WHERE
// (docs/salesforce.md#incremental-cursor-windows) reads only the slots the store's cursor index puts inside it. Numbers
// in toJson are RawJson (decimal text the HTTP layer writes verbatim, docs/salesforce.md#rest-record-json).
import soqlParser, { type FieldType, type Query } from 'soql-parser-js';
import { type CursorBound, compileWhere, type Predicate } from './soqlWhere.ts';
import { CASE_INSENSITIVE_TYPES, NUMERIC_TYPES, compareDecimal } from './values.ts';
import {
  type CursorWindow,
  type FieldDef,
  type FieldValue,
  type JsonRenderContext,
  type ObjectDef,
  type ObjectSnapshot,
  type OrgStore,
  type QueryPlan,
  RawJson,
  type SfRecord,
  SoqlError,
  queryAllOnly,
} from './types.ts';

const { parseQuery } = soqlParser;

const MAX_OFFSET = 2000;

/** Message layouts: docs/salesforce.md#soql-limits-and-errors. */
function invalidField(name: string, object: string): SoqlError {
  return new SoqlError(
    'INVALID_FIELD',
    `No such column '${name}' on entity '${object}'. If you are attempting to use a custom field, ` +
      "be sure to append the '__c' after the custom field name. " +
      'Please reference your WSDL or the describe call for the appropriate names.',
  );
}

function invalidType(name: string): SoqlError {
  return new SoqlError(
    'INVALID_TYPE',
    `sObject type '${name}' is not supported. If you are attempting to use a custom object, ` +
      "be sure to append the '__c' after the entity name. " +
      'Please reference your WSDL or the describe call for the appropriate names.',
  );
}

function malformed(soql: string, detail: string): SoqlError {
  return new SoqlError('MALFORMED_QUERY', `\n${soql}\n^\nERROR at Row:1:Column:1\n${detail}`);
}

interface ParentStep {
  field: FieldDef;
  name: string;
}

interface FieldPath {
  steps: ParentStep[];
  field: FieldDef;
  /** 'Account.Name' in describe casing: the Bulk CSV header (docs/salesforce.md#bulk-api-20-csv-format). */
  column: string;
  get: (rec: SfRecord) => FieldValue;
}

type JsonNode =
  | { kind: 'field'; field: FieldDef }
  | { kind: 'parent'; step: ParentStep; nodes: JsonNode[] }
  | { kind: 'child'; key: string; childObject: string; childField: string; part: QueryPart };

/** One SELECT level (top query or a parent-to-child subquery) bound to an object. */
interface QueryPart {
  def: ObjectDef;
  nodes: JsonNode[];
  paths: FieldPath[];
  where: Predicate | null;
  /** Cursor windows the WHERE clause implies (soqlWhere.ts). */
  bounds: CursorBound[];
  /** The WHERE clause is exactly this cursor window (soqlWhere.ts): COUNT() and ORDER BY may use the index. */
  window: CursorWindow | null;
  order: { path: FieldPath; desc: boolean; nullsFirst: boolean }[];
  limit: number | undefined;
  offset: number;
  hasCompound: boolean;
  hasBase64: boolean;
  hasSubquery: boolean;
  usesFieldsFn: boolean;
}

/** Field by case-insensitive name; an ObjectDef is immutable (schema drift replaces it), so its map is cached. */
const fieldMaps = new WeakMap<ObjectDef, Map<string, FieldDef>>();
function fieldOf(def: ObjectDef, name: string): FieldDef | undefined {
  let byName = fieldMaps.get(def);
  if (!byName) {
    byName = new Map();
    for (const f of def.fields) if (!byName.has(f.name.toLowerCase())) byName.set(f.name.toLowerCase(), f);
    fieldMaps.set(def, byName);
  }
  return byName.get(name.toLowerCase());
}

interface Binder {
  store: OrgStore;
  soql: string;
  typeOfId: (id: string) => string | undefined;
}

/** Resolves 'Name', 'Account.Name', 'Account.Owner.Alias' against def; throws INVALID_FIELD. */
function resolvePath(b: Binder, def: ObjectDef, path: string): FieldPath {
  const parts = path.split('.');
  const steps: ParentStep[] = [];
  let cur = def;
  for (const rel of parts.slice(0, -1)) {
    const lower = rel.toLowerCase();
    const ref = cur.fields.find((f) => f.type === 'reference' && f.relationshipName?.toLowerCase() === lower);
    const target = ref && b.store.object(ref.referenceTo?.[0] ?? '');
    if (!ref || !target)
      throw new SoqlError(
        'INVALID_FIELD',
        `Didn't understand relationship '${rel}' in field path. If you are attempting to use a custom relationship, ` +
          "be sure to append the '__r' after the custom relationship name. " +
          'Please reference your WSDL or the describe call for the appropriate names.',
      );
    steps.push({ field: ref, name: ref.relationshipName as string });
    cur = target;
  }
  const last = parts[parts.length - 1] as string;
  const field = fieldOf(cur, last);
  if (!field) throw invalidField(last, cur.name);
  const name = field.name;
  const get =
    steps.length === 0
      ? (rec: SfRecord) => rec[name] ?? null
      : (rec: SfRecord) => {
          let r: SfRecord | undefined = rec;
          for (const s of steps) {
            const id: FieldValue | undefined = r[s.field.name];
            r = typeof id === 'string' ? b.store.get(id) : undefined;
            if (!r) return null;
          }
          return r[name] ?? null;
        };
  return { steps, field, column: [...steps.map((s) => s.name), field.name].join('.'), get };
}

function addToTree(nodes: JsonNode[], path: FieldPath): void {
  let level = nodes;
  for (const step of path.steps) {
    let parent = level.find(
      (n): n is Extract<JsonNode, { kind: 'parent' }> => n.kind === 'parent' && n.step.name === step.name,
    );
    if (!parent) {
      parent = { kind: 'parent', step, nodes: [] };
      level.push(parent);
    }
    level = parent.nodes;
  }
  if (!level.some((n) => n.kind === 'field' && n.field.name === path.field.name))
    level.push({ kind: 'field', field: path.field });
}

function bindPart(b: Binder, def: ObjectDef, q: Query, isSub: boolean, unsupported: string[]): QueryPart {
  const part: QueryPart = {
    def,
    nodes: [],
    paths: [],
    where: null,
    bounds: [],
    window: null,
    order: [],
    limit: q.limit,
    offset: q.offset ?? 0,
    hasCompound: false,
    hasBase64: false,
    hasSubquery: false,
    usesFieldsFn: false,
  };
  for (const f of q.fields ?? []) bindField(b, part, f, unsupported);
  const where = compileWhere(q.where, (p) => resolvePath(b, def, p), b.store.now());
  part.where = where?.predicate ?? null;
  part.bounds = where?.bounds ?? [];
  part.window = where?.window ?? null;
  const orderBy = (q.orderBy ? (Array.isArray(q.orderBy) ? q.orderBy : [q.orderBy]) : []) as {
    field?: string;
    order?: string;
    nulls?: string;
  }[];
  for (const o of orderBy) {
    if (!o.field) throw malformed(b.soql, 'ORDER BY a function is not supported by the emulator');
    const path = resolvePath(b, def, o.field);
    if (path.field.sortable === false)
      throw new SoqlError('INVALID_FIELD', `field '${path.field.name}' can not be sorted in a query call`);
    const desc = o.order === 'DESC';
    part.order.push({ path, desc, nullsFirst: o.nulls ? o.nulls === 'FIRST' : !desc });
  }
  if (q.offset !== undefined) {
    if (isSub) throw malformed(b.soql, 'OFFSET is not allowed in a subquery');
    if (q.offset > MAX_OFFSET)
      throw new SoqlError('NUMBER_OUTSIDE_VALID_RANGE', `Maximum SOQL offset allowed is ${MAX_OFFSET}`);
  }
  if (q.groupBy || q.having) unsupported.push('GROUP BY');
  return part;
}

function bindField(b: Binder, part: QueryPart, f: FieldType, unsupported: string[]): void {
  const def = part.def;
  switch (f.type) {
    case 'Field':
    case 'FieldRelationship': {
      const path = resolvePath(b, def, f.type === 'Field' ? f.field : `${f.relationships.join('.')}.${f.field}`);
      if (path.field.type === 'address' || path.field.type === 'location') part.hasCompound = true;
      if (path.field.type === 'base64') part.hasBase64 = true;
      if (!part.paths.some((p) => p.column.toLowerCase() === path.column.toLowerCase())) part.paths.push(path);
      else throw malformed(b.soql, `duplicate field selected: ${path.column}`);
      addToTree(part.nodes, path);
      return;
    }
    case 'FieldSubquery': {
      const sq = f.subquery;
      const rel = def.childRelationships.find(
        (c) => c.relationshipName?.toLowerCase() === sq.relationshipName.toLowerCase(),
      );
      const childDef = rel && b.store.object(rel.childSObject);
      if (!rel || !childDef)
        throw new SoqlError(
          'INVALID_TYPE',
          `Didn't understand relationship '${sq.relationshipName}' in FROM part of query call. ` +
            'If you are attempting to use a custom relationship, ' +
            "be sure to append the '__r' after the custom relationship name. " +
            'Please reference your WSDL or the describe call for the appropriate names.',
        );
      const child = bindPart(b, childDef, sq as Query, true, unsupported);
      part.hasSubquery = true;
      part.nodes.push({
        kind: 'child',
        key: rel.relationshipName as string,
        childObject: childDef.name,
        childField: rel.field,
        part: child,
      });
      return;
    }
    case 'FieldFunctionExpression': {
      const name = f.functionName.toUpperCase();
      if (name === 'COUNT' && (f.parameters ?? []).length === 0) unsupported.push('COUNT()');
      else if (name === 'FIELDS') expandFields(b, part, String(f.parameters?.[0] ?? ''), unsupported);
      else unsupported.push(`${name}()`);
      return;
    }
    case 'FieldTypeof':
      unsupported.push('TYPEOF');
      return;
  }
}

/**
 * FIELDS(ALL|STANDARD|CUSTOM) (docs/salesforce.md#soql-limits-and-errors): every matching field; Bulk refuses it
 * (docs/salesforce.md#bulk-api-20-soql-restrictions).
 */
function expandFields(b: Binder, part: QueryPart, which: string, unsupported: string[]): void {
  const kind = which.toUpperCase();
  if (kind !== 'ALL' && kind !== 'STANDARD' && kind !== 'CUSTOM')
    throw malformed(b.soql, `unknown FIELDS() argument: ${which}`);
  if (kind !== 'STANDARD' && (part.limit === undefined || part.limit > 200))
    throw malformed(b.soql, 'The SOQL FIELDS function must have a LIMIT of at most 200');
  part.usesFieldsFn = true;
  for (const f of part.def.fields) {
    if (kind === 'ALL' || (kind === 'CUSTOM') === (f.custom === true))
      bindField(b, part, { type: 'Field', field: f.name }, unsupported);
  }
}

/** docs/salesforce.md#rest-record-json: a datetime as REST prints it ('...000+0000'). */
function restDatetime(text: string): string {
  return text.endsWith('Z') ? `${text.slice(0, -1)}+0000` : text;
}

/** Key of a compound component in the JSON object: BillingPostalCode -> postalCode, Addr__StateCode__s -> stateCode. */
function componentKey(component: FieldDef, compound: FieldDef): string {
  const stem = compound.name.endsWith('__c')
    ? component.name.slice(compound.name.length - 1, -3) // 'Addr__c' -> 'Addr__' + stem + '__s'
    : component.name.slice(compound.name.length - 'Address'.length); // 'BillingAddress' -> 'Billing' + stem
  return stem.charAt(0).toLowerCase() + stem.slice(1);
}

function compoundJson(def: ObjectDef, compound: FieldDef, rec: SfRecord): Record<string, unknown> | null {
  const parts = def.fields.filter((f) => f.compoundFieldName === compound.name);
  const out: Record<string, unknown> =
    compound.type === 'address'
      ? {
          city: null,
          country: null,
          geocodeAccuracy: null,
          latitude: null,
          longitude: null,
          postalCode: null,
          state: null,
          street: null,
        }
      : { latitude: null, longitude: null };
  let any = false;
  for (const p of parts) {
    const v = rec[p.name] ?? null;
    if (v !== null) any = true;
    out[componentKey(p, compound)] = v === null ? null : NUMERIC_TYPES.has(p.type) ? new RawJson(String(v)) : v;
  }
  if (!any) return null;
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

function jsonValue(def: ObjectDef, f: FieldDef, rec: SfRecord, ctx: JsonRenderContext): unknown {
  if (f.type === 'address' || f.type === 'location') return compoundJson(def, f, rec);
  const v = rec[f.name] ?? null;
  if (v === null || typeof v === 'boolean') return v;
  // A json field's value is JSON text: REST nests it as is (docs/salesforce.md#field-types).
  if (NUMERIC_TYPES.has(f.type) || f.type === 'json') return new RawJson(v);
  if (f.type === 'datetime') return restDatetime(v);
  // docs/salesforce.md#field-types: base64 bodies are not inlined; REST gives the blob's relative URL.
  if (f.type === 'base64') return `/services/data/v${ctx.apiVersion}/sobjects/${def.name}/${rec.Id}/${f.name}`;
  return v;
}

/** A string as JSON.stringify writes it: most values need no escape, so they are only quoted. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;
function jsonString(v: string): string {
  return NEEDS_ESCAPE.test(v) ? JSON.stringify(v) : `"${v}"`;
}

/** How flatJsonText writes a non-null, non-boolean value (a code, not a function per field: one call site inlines). */
const TEXT = 0;
const RAW = 1;
const DATETIME = 2;
const BLOB = 3;

function textKindOf(f: FieldDef): number {
  if (NUMERIC_TYPES.has(f.type) || f.type === 'json') return RAW;
  if (f.type === 'datetime') return DATETIME;
  return f.type === 'base64' ? BLOB : TEXT;
}

/**
 * toJsonText for a flat SELECT (jsonValue's text as serializeJson writes it); undefined for parents, subqueries,
 * compounds.
 */
function flatJsonText(def: ObjectDef, nodes: JsonNode[]): QueryPlan['toJsonText'] {
  const fields: FieldDef[] = [];
  for (const n of nodes) {
    if (n.kind !== 'field' || n.field.type === 'address' || n.field.type === 'location') return undefined;
    fields.push(n.field);
  }
  const names = fields.map((f) => f.name);
  const keys = fields.map((f) => `,${JSON.stringify(f.name)}:`);
  const kinds = fields.map(textKindOf);
  const head = `{"attributes":{"type":${JSON.stringify(def.name)},"url":`;
  return (rec, ctx) => {
    const url = `/services/data/v${ctx.apiVersion}/sobjects/${def.name}/${rec.Id}`;
    let out = `${head}${jsonString(url)}}`;
    for (let i = 0; i < names.length; i++) {
      const v = rec[names[i]!] ?? null;
      const kind = kinds[i];
      out += keys[i]!;
      if (v === null) out += 'null';
      else if (typeof v === 'boolean') out += v ? 'true' : 'false';
      else if (kind === TEXT) out += jsonString(v);
      else if (kind === RAW) out += v;
      else if (kind === DATETIME) out += jsonString(restDatetime(v));
      else out += jsonString(`${url}/${names[i]}`);
    }
    return `${out}}`;
  };
}

function csvText(v: FieldValue): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return v === '' ? null : v;
}

type SortKey = string | number | { n: number; t: string } | null;

/** Sort keys extracted once per match: text case-insensitive, numbers as doubles with the exact text for ties. */
function sortKeyOf(f: FieldDef, v: FieldValue): SortKey {
  if (v === null) return null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (NUMERIC_TYPES.has(f.type)) return { n: Number(v), t: v };
  return CASE_INSENSITIVE_TYPES.has(f.type) ? v.toLowerCase() : v;
}

function compareKey(x: Exclude<SortKey, null>, y: Exclude<SortKey, null>): number {
  if (typeof x === 'object' && typeof y === 'object') return x.n < y.n ? -1 : x.n > y.n ? 1 : compareDecimal(x.t, y.t);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function planSoql(store: OrgStore, soql: string): QueryPlan {
  let q: Query;
  try {
    q = parseQuery(soql);
  } catch (err) {
    throw malformed(soql, (err as Error).message.split('\n')[0] ?? 'unexpected token');
  }
  const def = store.object(q.sObject ?? '');
  if (!def?.queryable) throw invalidType(q.sObject ?? '');
  const prefixes = new Map(store.objects().map((d) => [d.keyPrefix, d.name]));
  const b: Binder = { store, soql, typeOfId: (id) => prefixes.get(id.slice(0, 3)) };
  const unsupported: string[] = [];
  const top = bindPart(b, def, q, false, unsupported);
  const isCount =
    unsupported.length === 1 && unsupported[0] === 'COUNT()' && top.paths.length === 0 && !top.hasSubquery;
  const runnable = unsupported.length === 0 || isCount;
  const csvGetters = top.paths.map((p) => p.get);

  const renderRecord = (
    part: QueryPart,
    typeName: string,
    nodes: JsonNode[],
    rec: SfRecord,
    ctx: JsonRenderContext,
  ): Record<string, unknown> => {
    const typeDef = store.object(typeName) ?? part.def;
    const out: Record<string, unknown> = {
      attributes: { type: typeName, url: `/services/data/v${ctx.apiVersion}/sobjects/${typeName}/${rec.Id}` },
    };
    for (const n of nodes) {
      if (n.kind === 'field') {
        // Polymorphic parents (docs/salesforce.md#rest-record-json): the concrete object may lack the field; it reads
        // as null.
        const f = typeDef === part.def ? n.field : (fieldOf(typeDef, n.field.name) ?? n.field);
        out[f.name] = jsonValue(typeDef, f, rec, ctx);
      } else if (n.kind === 'parent') {
        const id = rec[n.step.field.name];
        const parent = typeof id === 'string' ? store.get(id) : undefined;
        const parentType = parent && b.typeOfId(parent.Id);
        out[n.step.name] = parent && parentType ? renderRecord(part, parentType, n.nodes, parent, ctx) : null;
      } else {
        const children = childRows(n.part, store.childrenOf(n.childObject, n.childField, rec.Id));
        out[n.key] =
          children.length === 0
            ? null
            : {
                totalSize: children.length,
                done: true,
                records: children.map((c) => renderRecord(n.part, n.childObject, n.part.nodes, c, ctx)),
              };
      }
    }
    return out;
  };

  return {
    object: def,
    isCount,
    columns: top.paths.map((p) => p.column),
    bulkRefusal() {
      // docs/salesforce.md#bulk-api-20-query-jobs / #bulk-api-20-soql-restrictions: what Bulk API 2.0 refuses at job
      // creation.
      if (!def.bulkQueryable)
        return { errorCode: 'INVALIDENTITY', message: `Entity '${def.name}' is not supported by the Bulk API.` };
      if (top.usesFieldsFn) return { errorCode: 'INVALIDJOB', message: 'FIELDS() is not supported in Bulk Query' };
      if (top.hasCompound)
        return { errorCode: 'INVALIDJOB', message: 'Selecting compound data not supported in Bulk Query' };
      if (top.hasSubquery)
        return {
          errorCode: 'INVALIDJOB',
          message: 'Nested queries (parent-to-child subqueries) are not supported in Bulk Query',
        };
      if (unsupported.length > 0)
        return { errorCode: 'INVALIDJOB', message: `${unsupported[0]} is not supported in Bulk Query` };
      if (q.offset !== undefined) return { errorCode: 'INVALIDJOB', message: 'OFFSET is not supported in Bulk Query' };
      if (top.hasBase64)
        return { errorCode: 'INVALIDJOB', message: 'Binary (base64) fields are not supported in Bulk Query' };
      return null;
    },
    run(snapshot: ObjectSnapshot, opts: { includeDeleted: boolean }): Iterable<number> {
      if (!runnable)
        throw new SoqlError('MALFORMED_QUERY', `${unsupported[0]} is not supported by the emulator's REST query`);
      return resultSlots(top, snapshot, opts.includeDeleted);
    },
    count(snapshot: ObjectSnapshot, opts: { includeDeleted: boolean }): number {
      if (!runnable)
        throw new SoqlError('MALFORMED_QUERY', `${unsupported[0]} is not supported by the emulator's REST query`);
      const fast =
        top.where === null || top.window ? snapshot.cursorCount?.(top.window, opts.includeDeleted) : undefined;
      if (fast === undefined) {
        let n = 0;
        for (const _ of resultSlots(top, snapshot, opts.includeDeleted)) n++;
        return n;
      }
      // As runPart: OFFSET skips, LIMIT caps.
      const left = top.limit ?? Number.POSITIVE_INFINITY;
      return left <= 0 ? 0 : Math.max(0, Math.min(left, fast - top.offset));
    },
    toJson: (rec, ctx) => renderRecord(top, def.name, top.nodes, rec, ctx),
    toJsonText: flatJsonText(def, top.nodes),
    toCsvValues: (rec) => csvGetters.map((get) => csvText(get(rec))),
  };
}

/** Children of one parent as a subquery sees them: live, filtered, ordered, limited. */
function childRows(part: QueryPart, rows: SfRecord[]): SfRecord[] {
  const where = part.where;
  let out = rows.filter((r) => !queryAllOnly(r) && (!where || where(r)));
  if (part.order.length > 0) {
    const keyed = out.map((rec, i) => ({
      rec,
      i,
      keys: part.order.map((o) => sortKeyOf(o.path.field, o.path.get(rec))),
    }));
    keyed.sort((x, y) => compareKeys(part, x.keys, y.keys) || x.i - y.i);
    out = keyed.map((k) => k.rec);
  }
  return part.limit === undefined ? out : out.slice(0, part.limit);
}

function compareKeys(part: QueryPart, a: SortKey[], b: SortKey[]): number {
  for (let i = 0; i < part.order.length; i++) {
    const o = part.order[i] as QueryPart['order'][number];
    const x = a[i] ?? null;
    const y = b[i] ?? null;
    if (x === null && y === null) continue;
    // ORDER BY (docs/salesforce.md#soql-limits-and-errors): nulls first ascending / last descending unless NULLS
    // FIRST|LAST says otherwise.
    if (x === null || y === null) return (x === null) === o.nullsFirst ? -1 : 1;
    const c = compareKey(x, y);
    if (c !== 0) return o.desc ? -c : c;
  }
  return 0;
}

/**
 * The slots worth reading, ascending, when the WHERE clause confines a cursor field the snapshot indexes (windows on
 * one field intersected; of several fields the narrowest); undefined = every slot. The predicate still decides each.
 */
export function candidateSlots(bounds: readonly CursorBound[], snap: ObjectSnapshot): Int32Array | undefined {
  if (bounds.length === 0 || !snap.cursorCandidates) return undefined;
  const windows = new Map<string, { from?: string; to?: string }>();
  for (const b of bounds) {
    const w = windows.get(b.field) ?? {};
    if (b.from !== undefined && (w.from === undefined || b.from > w.from)) w.from = b.from;
    if (b.to !== undefined && (w.to === undefined || b.to < w.to)) w.to = b.to;
    windows.set(b.field, w);
  }
  let best: ReturnType<NonNullable<ObjectSnapshot['cursorCandidates']>>;
  for (const [field, w] of windows) {
    const c = snap.cursorCandidates(field, w.from, w.to);
    if (c && (!best || c.estimate < best.estimate)) best = c;
  }
  return best?.slots();
}

/**
 * `ORDER BY <cursor field> [, Id] [LIMIT k]`, unfiltered or filtered by a window on that field alone (the oldest-cursor
 * probe and the delta query `WHERE SystemModstamp >= X ORDER BY SystemModstamp, Id`,
 * docs/salesforce.md#incremental-cursor-windows): the first offset+k slots (all without LIMIT) straight from the index,
 * in the order the sort below gives (Id follows slot order, ids.ts). undefined when the query or the snapshot does not
 * allow it.
 */
function indexedOrder(part: QueryPart, snap: ObjectSnapshot, includeDeleted: boolean): Int32Array | undefined {
  const [o, tie] = part.order;
  if (!o || part.order.length > 2 || o.path.steps.length > 0 || o.path.field.type !== 'datetime') return undefined;
  if (tie && (tie.path.steps.length > 0 || tie.path.field.name !== 'Id')) return undefined;
  if (part.where && part.window?.field !== o.path.field.name) return undefined;
  const take = part.limit === undefined ? Number.POSITIVE_INFINITY : part.offset + part.limit;
  const opts = { desc: o.desc, nullsFirst: o.nullsFirst, tieDesc: tie?.desc === true, includeDeleted, take };
  return snap.cursorOrder?.(o.path.field.name, part.where ? part.window : null, opts);
}

/** The matching slots in result order: a slice of indexedOrder's answer when there is one, else runPart's scan. */
function resultSlots(part: QueryPart, snap: ObjectSnapshot, includeDeleted: boolean): Iterable<number> {
  if (part.limit !== undefined && part.limit <= 0) return [];
  const first = indexedOrder(part, snap, includeDeleted);
  return first ? first.subarray(Math.min(part.offset, first.length)) : runPart(part, snap, includeDeleted);
}

function* runPart(part: QueryPart, snap: ObjectSnapshot, includeDeleted: boolean): Generator<number> {
  const accept = includeDeleted ? (s: string) => s !== 'gone' : (s: string) => s === 'live';
  const where = part.where;
  let skip = part.offset;
  let left = part.limit ?? Number.POSITIVE_INFINITY;
  if (left <= 0) return;
  // Result order is slot order (then ORDER BY), whichever way the slots are visited.
  const only = candidateSlots(part.bounds, snap);
  const n = only ? only.length : snap.size;
  if (part.order.length === 0) {
    for (let i = 0; i < n; i++) {
      const slot = only ? only[i]! : i;
      if (!accept(snap.slotState(slot))) continue;
      if (where) {
        const rec = snap.at(slot);
        if (!rec || !where(rec)) continue;
      }
      if (skip > 0) {
        skip--;
        continue;
      }
      yield slot;
      if (--left <= 0) return;
    }
    return;
  }
  // ORDER BY: one key tuple per match (never the records), then an index sort; ties keep slot order.
  const slots: number[] = [];
  const keys: SortKey[][] = [];
  for (let i = 0; i < n; i++) {
    const slot = only ? only[i]! : i;
    if (!accept(snap.slotState(slot))) continue;
    const rec = snap.at(slot);
    if (!rec || (where && !where(rec))) continue;
    slots.push(slot);
    keys.push(part.order.map((o) => sortKeyOf(o.path.field, o.path.get(rec))));
  }
  const order = Array.from(slots.keys());
  order.sort((i, j) => compareKeys(part, keys[i] as SortKey[], keys[j] as SortKey[]) || i - j);
  for (const i of order) {
    if (skip > 0) {
      skip--;
      continue;
    }
    yield slots[i] as number;
    if (--left <= 0) return;
  }
}
