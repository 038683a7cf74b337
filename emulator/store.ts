// The org's records: generated base slots (seed.ts) + a copy-on-write overlay of changed, inserted and hard-deleted
// records. A snapshot shares the overlay, which the next change copies first, so later changes never leak into it (Bulk
// jobs read one, docs/salesforce.md#bulk-api-20-query-results). Formula fields are computed on read, so a formula
// change moves results without touching any SystemModstamp. Cursor windows
// (docs/salesforce.md#incremental-cursor-windows) find generated slots through a sorted index per cursor field
// (cursorIndex.ts).
import {
  type CursorIndex,
  type IndexedSlots,
  buildCursorIndex,
  deletedPrefixOf,
  windowCandidates,
  windowCount,
  windowOrder,
  windowPositions,
} from './cursorIndex.ts';
import { makeId, normalizeId, numberOf } from './ids.ts';
import { type ProfileName, profileOf } from './profile.ts';
import { checkRecordTypeId, defaultRecordTypeId } from './recordTypes.ts';
import { isStored, withField } from './schema.ts';
import { type CursorField, type GeneratedLink, type Generator, type SeedOptions, generateOrg } from './seed.ts';
import {
  type DeletedEntry,
  type FieldDef,
  type FieldValue,
  type ObjectDef,
  type ObjectSnapshot,
  type OrgStore,
  type SfRecord,
  type SlotState,
  queryAllOnly,
} from './types.ts';
import { isoOf, multiplyDecimal } from './values.ts';

export interface StoreOptions extends SeedOptions {
  /** Which org: `demo` (default) or `enterprise` (profile.ts). */
  profile?: ProfileName;
  /** The org clock's start; generated timestamps all lie before its UTC midnight. Default: now. */
  clockStart?: Date;
}

type Compute = (rec: SfRecord) => FieldValue;
type Row = Record<string, FieldValue>;

interface Extra {
  name: string;
  compute: Compute;
}

interface Table {
  def: ObjectDef;
  gen: Generator | undefined;
  base: number;
  size: number;
  /** slot -> current version (without formula values); null = hard-deleted. */
  overlay: Map<number, SfRecord | null>;
  /** The current snapshot reads `overlay` itself: the next change copies it first (writableOverlay). */
  overlayShared: boolean;
  /** Fields added after seeding: generated records get them on read. */
  extras: readonly Extra[];
  formulas: ReadonlyMap<string, Compute>;
  log: DeletedEntry[];
  /** Reused until the next mutation of this object. */
  snapshot: ObjectSnapshot | undefined;
  /** Per cursor field, built on first use: generated values never change, so every snapshot shares them. */
  indexes: Map<string, CursorIndex>;
  /** Per cursor field, alongside its index (cursorIndex.ts deletedPrefixOf). */
  deletedPrefixes: Map<string, Int32Array>;
}

const DAY_MS = 86_400_000;

/** The seed formulas, matching schema.ts calculatedFormula texts. */
function seedFormulas(object: string): Map<string, Compute> {
  if (object !== 'Invoice__c') return new Map();
  return new Map<string, Compute>([
    ['Total_With_Tax__c', (r) => (typeof r.Amount__c === 'string' ? multiplyDecimal(r.Amount__c, '1.2', 2) : null)],
    ['Summary__c', (r) => `${r.Name ?? ''} - ${r.Status__c ?? ''}`],
  ]);
}

/** One record as a reader sees it: extras for generated rows, formulas always. */
function present(t: Pick<Table, 'extras' | 'formulas'>, stored: SfRecord, generated: boolean): SfRecord {
  if (t.formulas.size === 0 && (!generated || t.extras.length === 0)) return stored;
  const out: Row = generated ? (stored as Row) : { ...stored };
  if (generated) for (const e of t.extras) out[e.name] = e.compute(stored);
  for (const [name, compute] of t.formulas) out[name] = compute(out as SfRecord);
  return out as SfRecord;
}

interface View {
  gen: Generator | undefined;
  base: number;
  size: number;
  overlay: ReadonlyMap<number, SfRecord | null>;
  extras: readonly Extra[];
  formulas: ReadonlyMap<string, Compute>;
}

/** The generated slots' index of `field`; null when there are none; undefined when the generator cannot index it. */
function cursorIndexOf(t: Table, field: string): CursorIndex | null | undefined {
  if (!t.gen || t.base === 0) return null;
  const gen = t.gen;
  if (!gen.cursorFields.includes(field as CursorField)) return undefined;
  let index = t.indexes.get(field);
  if (!index) {
    index = buildCursorIndex(t.base, (slot) => gen.cursorMs(slot, field as CursorField));
    t.indexes.set(field, index);
  }
  return index;
}

/** Whether `query` hides generated slot s (soft-deleted or archived, types.ts queryAllOnly). */
function queryAllOnlyOf(gen: Generator): (slot: number) => boolean {
  const archived = gen.isArchived?.bind(gen);
  return archived ? (slot) => gen.isDeleted(slot) || archived(slot) : (slot) => gen.isDeleted(slot);
}

/** The generated slots of `field` for the exact COUNT() / ORDER BY paths; null / undefined as cursorIndexOf. */
function indexedSlotsOf(t: Table, field: string): IndexedSlots | null | undefined {
  // A formula's value is computed on read, never stored in the overlay the exact paths compare.
  if (t.formulas.has(field)) return undefined;
  const index = cursorIndexOf(t, field);
  if (!index) return index;
  const gen = t.gen as Generator;
  const hidden = queryAllOnlyOf(gen);
  return {
    index,
    deletedPrefix() {
      let prefix = t.deletedPrefixes.get(field);
      if (!prefix) {
        prefix = deletedPrefixOf(index, hidden);
        t.deletedPrefixes.set(field, prefix);
      }
      return prefix;
    },
    isDeleted: hidden,
    keyOf: (slot) => gen.cursorMs(slot, field as CursorField),
  };
}

/**
 * Seeded soft-deletions still untouched since seeding (put() logs the others), dated by SystemModstamp (CreatedDate
 * where there is none), in [from, to) and date order: read off that field's index, so a getDeleted window costs its
 * own size, not the object's. At most `limit`.
 */
function seededDeletions(t: Table, from: string | undefined, to: string | undefined, limit: number): DeletedEntry[] {
  const gen = t.gen;
  const field: CursorField = gen?.cursorFields.includes('SystemModstamp') ? 'SystemModstamp' : 'CreatedDate';
  const index = cursorIndexOf(t, field);
  const out: DeletedEntry[] = [];
  if (!gen || !index) return out;
  const [start, end] = windowPositions(index, { field, from, to, toExclusive: true });
  for (let p = start; p < end && out.length < limit; p++) {
    const slot = index.slots[p]!;
    if (gen.isDeleted(slot) && !t.overlay.has(slot))
      out.push({ id: makeId(t.def.keyPrefix, slot), deletedDate: isoOf(index.keys[p]!) });
  }
  return out;
}

/**
 * The overlay to change: copied first while a snapshot reads it, so snapshots cost O(1) and never see later changes.
 */
function writableOverlay(t: Table): Map<number, SfRecord | null> {
  if (t.overlayShared) {
    t.overlay = new Map(t.overlay);
    t.overlayShared = false;
  }
  return t.overlay;
}

function readSlot(v: View, slot: number): SfRecord | undefined {
  if (slot < 0 || slot >= v.size) return undefined;
  const o = v.overlay.size === 0 ? undefined : v.overlay.get(slot);
  if (o === null) return undefined;
  if (o !== undefined) return present(v, o, false);
  if (slot >= v.base || !v.gen) return undefined;
  return present(v, v.gen.record(slot) as SfRecord, true);
}

function stateOfSlot(v: View, slot: number): SlotState {
  if (slot < 0 || slot >= v.size) return 'gone';
  const o = v.overlay.size === 0 ? undefined : v.overlay.get(slot);
  if (o === null) return 'gone';
  if (o !== undefined) return queryAllOnly(o) ? 'deleted' : 'live';
  if (slot >= v.base || !v.gen) return 'gone';
  return v.gen.isDeleted(slot) || v.gen.isArchived?.(slot) === true ? 'deleted' : 'live';
}

/** Keys in describe casing; unknown or read-only-by-nature (compound, formula) fields are refused. */
function canonicalValues(def: ObjectDef, values: Record<string, FieldValue>): Row {
  const out: Row = {};
  for (const [key, value] of Object.entries(values)) {
    const f = fieldMap(def).get(key.toLowerCase());
    if (!f) throw new Error(`No such column '${key}' on sobject of type ${def.name}`);
    if (!isStored(f))
      throw new Error(`Unable to create/update fields: ${f.name}. Please check the security settings of this field`);
    out[f.name] = value;
  }
  return out;
}

/**
 * Fields Salesforce derives itself: full names (docs/salesforce.md#compound-fields) and Opportunity closed/won flags.
 */
function derive(def: ObjectDef, rec: Row): void {
  if ('LastName' in rec && (def.name === 'Contact' || def.name === 'Lead' || def.name === 'User')) {
    rec.Name = rec.FirstName ? `${rec.FirstName} ${rec.LastName ?? ''}` : (rec.LastName ?? null);
  }
  if (def.name === 'Opportunity' && typeof rec.StageName === 'string') {
    rec.IsClosed = rec.StageName.startsWith('Closed');
    rec.IsWon = rec.StageName === 'Closed Won';
  }
}

/** Per object definition (replaced on every schema change): lower-case field name -> field, for per-row lookups. */
const fieldMaps = new WeakMap<ObjectDef, Map<string, FieldDef>>();

function fieldMap(def: ObjectDef): Map<string, FieldDef> {
  let map = fieldMaps.get(def);
  if (!map) {
    map = new Map(def.fields.map((f) => [f.name.toLowerCase(), f]));
    fieldMaps.set(def, map);
  }
  return map;
}

function hasField(def: ObjectDef, name: string): boolean {
  return fieldMap(def).get(name.toLowerCase())?.name === name;
}

export function createOrgStore(opts: StoreOptions = {}): OrgStore {
  const clockStartMs = (opts.clockStart ?? new Date()).getTime();
  const anchorMs = Math.floor(clockStartMs / DAY_MS) * DAY_MS;
  const profile = profileOf(opts.profile);
  const org = generateOrg(opts, anchorMs, profile.seed);
  const tables = new Map<string, Table>();
  const byPrefix = new Map<string, Table>();
  for (const def of profile.schema()) {
    const gen = org.generators.get(def.name);
    const base = gen?.count ?? 0;
    const t: Table = {
      def,
      gen,
      base,
      size: base,
      overlay: new Map(),
      overlayShared: false,
      extras: [],
      formulas: seedFormulas(def.name),
      log: [],
      snapshot: undefined,
      indexes: new Map(),
      deletedPrefixes: new Map(),
    };
    tables.set(def.name.toLowerCase(), t);
    byPrefix.set(def.keyPrefix, t);
  }
  const apiUserId = makeId('005', 0);

  // docs/salesforce.md#getdeleted / #incremental-cursor-windows: a strictly increasing clock that runs with real time
  // from clockStart.
  const realStart = Date.now();
  let lastMs = clockStartMs - 1;
  const now = (): string => {
    lastMs = Math.max(lastMs + 1, clockStartMs + (Date.now() - realStart));
    return new Date(lastMs).toISOString();
  };
  // A describe's Last-Modified is compared with the HTTP Date header (RFC 9110 section 8.8.2.2: a validator in the
  // second of its response is weak), so schema changes are stamped by that clock, not the record clock above, which may
  // start in the past (clockStart) or run ahead of real time (one ms per write).
  const schemaNow = (): string => new Date().toISOString();

  const table = (name: string): Table => {
    const t = tables.get(name.toLowerCase());
    if (!t) throw new Error(`sObject type '${name}' is not supported.`);
    return t;
  };
  const locate = (id: string): { t: Table; slot: number } | undefined => {
    const id15 = normalizeId(id);
    if (!id15) return undefined;
    const t = byPrefix.get(id15.slice(0, 3));
    const slot = numberOf(id15);
    if (!t || slot < 0 || makeId(t.def.keyPrefix, slot).slice(0, 15) !== id15) return undefined;
    return { t, slot };
  };
  const current = (id: string): { t: Table; slot: number; rec: SfRecord } => {
    const at = locate(id);
    const rec = at && readSlot(at.t, at.slot);
    if (!at || !rec) throw new Error(`entity is deleted or does not exist: ${id}`);
    return { ...at, rec };
  };
  /** Seeded deletions join the delete log when their slot is first overwritten (see deletedLog). */
  const put = (t: Table, slot: number, rec: SfRecord | null): void => {
    if (slot < t.base && !t.overlay.has(slot) && t.gen?.isDeleted(slot)) {
      const seeded = t.gen.record(slot);
      t.log.push({ id: seeded.Id, deletedDate: String(seeded.SystemModstamp ?? seeded.CreatedDate) });
    }
    writableOverlay(t).set(slot, rec);
    t.snapshot = undefined;
  };
  /** Stored form of a record: formula values are never stored. */
  const stored = (t: Table, rec: Row): SfRecord => {
    for (const f of t.def.fields) if (f.calculated) delete rec[f.name];
    return rec as SfRecord;
  };
  /** A new record's defaults, built once per schema version (Bulk ingest inserts many records in a row). */
  const templates = new WeakMap<ObjectDef, Row>();
  const newRecord = (t: Table): Row => {
    let rec = templates.get(t.def);
    if (!rec) {
      rec = {};
      for (const f of t.def.fields) if (isStored(f)) rec[f.name] = f.type === 'boolean' ? false : null;
      for (const e of t.extras) rec[e.name] = null;
      if (hasField(t.def, 'IsActive')) rec.IsActive = true;
      if (hasField(t.def, 'OwnerId')) rec.OwnerId = apiUserId;
      templates.set(t.def, rec);
    }
    return rec;
  };
  /** The RecordType row an id names, if any. */
  const recordTypeOf = (id: FieldValue | undefined): SfRecord | undefined => {
    const at = typeof id === 'string' ? locate(id) : undefined;
    return at && at.t.def.name === 'RecordType' ? readSlot(at.t, at.slot) : undefined;
  };
  /** Every RecordType row (a handful: read whole when a record of an object with record types is created). */
  const recordTypeRows = (): SfRecord[] => {
    const t = tables.get('recordtype');
    const out: SfRecord[] = [];
    for (let slot = 0; t && slot < t.size; slot++) {
      const rec = readSlot(t, slot);
      if (rec) out.push(rec);
    }
    return out;
  };
  /**
   * emulator/recordTypes.ts: a RecordTypeId set must be an active record type of the object; a create without one
   * gets the profile's default.
   */
  const applyRecordType = (t: Table, rec: Row, changes: Row, forCreate: boolean): void => {
    if (!hasField(t.def, 'RecordTypeId')) return;
    if ('RecordTypeId' in changes && changes.RecordTypeId !== null)
      checkRecordTypeId(t.def.name, changes.RecordTypeId, recordTypeOf(changes.RecordTypeId));
    else if (forCreate) rec.RecordTypeId = defaultRecordTypeId(t.def.name, recordTypeRows());
  };
  const touch = (t: Table, rec: Row, ts: string): void => {
    if (hasField(t.def, 'SystemModstamp')) rec.SystemModstamp = ts;
    if (hasField(t.def, 'LastModifiedDate')) {
      rec.LastModifiedDate = ts;
      rec.LastModifiedById = apiUserId;
    }
  };

  const store: OrgStore = {
    objects: () => [...tables.values()].map((t) => t.def),
    object: (name) => tables.get(name.toLowerCase())?.def,
    now,
    snapshot(object) {
      const t = table(object);
      if (!t.snapshot) {
        const view: View = {
          gen: t.gen,
          base: t.base,
          size: t.size,
          overlay: t.overlay,
          extras: t.extras,
          formulas: t.formulas,
        };
        t.overlayShared = true;
        t.snapshot = {
          object: t.def,
          size: view.size,
          at: (slot) => readSlot(view, slot),
          slotState: (slot) => stateOfSlot(view, slot),
          cursorCandidates(field, from, to) {
            const index = cursorIndexOf(t, field);
            return index === undefined ? undefined : windowCandidates(index, view.overlay, field, from, to);
          },
          cursorCount(window, includeDeleted) {
            // Without a window any indexed field will do: every generated slot lies in its open range.
            const field = window?.field ?? t.gen?.cursorFields[0];
            const gen = field !== undefined ? indexedSlotsOf(t, field) : t.gen && t.base > 0 ? undefined : null;
            return gen === undefined ? undefined : windowCount(gen, view.overlay, window, includeDeleted);
          },
          cursorOrder(field, window, o) {
            const gen = indexedSlotsOf(t, field);
            return gen === undefined ? undefined : windowOrder(gen, view.overlay, field, window, o);
          },
        };
      }
      return t.snapshot;
    },
    get(id) {
      const at = locate(id);
      return at && readSlot(at.t, at.slot);
    },
    insert(object, values) {
      const t = table(object);
      const ts = now();
      const rec: Row = { ...newRecord(t) };
      const changes = canonicalValues(t.def, values);
      Object.assign(rec, changes);
      applyRecordType(t, rec, changes, true);
      const slot = t.size++;
      rec.Id = makeId(t.def.keyPrefix, slot);
      if (hasField(t.def, 'CreatedDate')) {
        rec.CreatedDate = ts;
        rec.CreatedById = apiUserId;
      }
      if (hasField(t.def, 'IsDeleted')) rec.IsDeleted = false;
      touch(t, rec, ts);
      derive(t.def, rec);
      put(t, slot, stored(t, rec));
      return readSlot(t, slot) as SfRecord;
    },
    update(id, values, o = {}) {
      const { t, slot, rec } = current(id);
      const changes = canonicalValues(t.def, values);
      applyRecordType(t, {}, changes, false);
      const next: Row = { ...rec, ...changes };
      if (o.touch !== false) touch(t, next, o.modstamp ?? now());
      derive(t.def, next);
      put(t, slot, stored(t, next));
      return readSlot(t, slot) as SfRecord;
    },
    softDelete(id) {
      const { t, slot, rec } = current(id);
      if (!hasField(t.def, 'IsDeleted'))
        throw new Error(`${t.def.name} records cannot be deleted into the Recycle Bin`);
      if (rec.IsDeleted === true) return;
      const ts = now();
      const next: Row = { ...rec, IsDeleted: true };
      touch(t, next, ts);
      put(t, slot, stored(t, next));
      t.log.push({ id: rec.Id, deletedDate: ts });
    },
    undelete(id) {
      const { t, slot, rec } = current(id);
      if (rec.IsDeleted !== true) return;
      const next: Row = { ...rec, IsDeleted: false };
      touch(t, next, now());
      put(t, slot, stored(t, next));
      t.log = t.log.filter((e) => e.id !== rec.Id);
    },
    hardDelete(id) {
      const { t, slot, rec } = current(id);
      const ts = now();
      put(t, slot, null);
      t.log = t.log.filter((e) => e.id !== rec.Id);
      t.log.push({ id: rec.Id, deletedDate: ts });
    },
    deletedLog(object, w = {}) {
      const t = table(object);
      const limit = w.limit ?? Number.POSITIVE_INFINITY;
      const inside = (date: string) => (w.from === undefined || date >= w.from) && (w.to === undefined || date < w.to);
      const out = [...t.log.filter((e) => inside(e.deletedDate)), ...seededDeletions(t, w.from, w.to, limit)];
      out.sort((a, b) => (a.deletedDate < b.deletedDate ? -1 : a.deletedDate > b.deletedDate ? 1 : 0));
      return out.length > limit ? out.slice(0, limit) : out;
    },
    addField(object, f, valueFor) {
      const t = table(object);
      const compute: Compute = valueFor ?? (() => null);
      t.def = withField(t.def, f, schemaNow());
      byPrefix.set(t.def.keyPrefix, t);
      if (!isStored(f)) {
        if (f.calculated) t.formulas = new Map([...t.formulas, [f.name, compute]]);
      } else {
        t.extras = [...t.extras, { name: f.name, compute }];
        const overlay = writableOverlay(t);
        for (const [slot, rec] of overlay) if (rec) overlay.set(slot, { ...rec, [f.name]: compute(rec) } as SfRecord);
      }
      t.snapshot = undefined;
    },
    removeField(object, fieldName) {
      const t = table(object);
      const fields = t.def.fields.filter((f) => f.name.toLowerCase() !== fieldName.toLowerCase());
      if (fields.length === t.def.fields.length) throw new Error(`${t.def.name}.${fieldName} does not exist`);
      t.def = { ...t.def, fields, lastModified: schemaNow() };
      byPrefix.set(t.def.keyPrefix, t);
      t.snapshot = undefined;
    },
    changeField(object, fieldName, changes) {
      const t = table(object);
      const f = t.def.fields.find((x) => x.name.toLowerCase() === fieldName.toLowerCase());
      if (!f) throw new Error(`${t.def.name}.${fieldName} does not exist`);
      const { name: _name, type: _type, ...allowed } = changes as FieldDef;
      const changed: FieldDef = { ...f, ...allowed };
      t.def = { ...t.def, fields: t.def.fields.map((x) => (x === f ? changed : x)), lastModified: schemaNow() };
      byPrefix.set(t.def.keyPrefix, t);
      t.snapshot = undefined;
    },
    setFormula(object, fieldName, compute, formulaText) {
      const t = table(object);
      const f = t.def.fields.find((x) => x.name.toLowerCase() === fieldName.toLowerCase() && x.calculated);
      if (!f) throw new Error(`${t.def.name}.${fieldName} is not a formula field`);
      const fallback = seedFormulas(t.def.name).get(f.name) ?? (() => null);
      t.formulas = new Map([...t.formulas, [f.name, compute ?? fallback]]);
      if (formulaText !== undefined) {
        const changed: FieldDef = { ...f, calculatedFormula: formulaText };
        t.def = { ...t.def, fields: t.def.fields.map((x) => (x === f ? changed : x)), lastModified: schemaNow() };
      }
      t.snapshot = undefined;
    },
    childrenOf(childObject, fieldName, parentId) {
      const t = table(childObject);
      const parent = store.get(parentId);
      if (!parent) return [];
      const parentAt = locate(parent.Id) as { t: Table; slot: number };
      const slots = new Set<number>();
      for (const link of org.links as GeneratedLink[]) {
        if (link.child !== t.def.name || link.field !== fieldName || link.parent !== parentAt.t.def.name) continue;
        const [from, to] = link.candidates(parentAt.slot);
        for (let s = from; s < to && s < t.base; s++)
          if (!t.overlay.has(s) && t.gen?.record(s)[fieldName] === parent.Id) slots.add(s);
      }
      for (const [slot, rec] of t.overlay) if (rec && rec[fieldName] === parent.Id) slots.add(slot);
      return [...slots].sort((a, b) => a - b).map((s) => readSlot(t, s) as SfRecord);
    },
  };
  return store;
}
