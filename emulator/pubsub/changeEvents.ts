// Change Data Capture: the store wrapped so that every write to an object selected for CDC publishes a change event
// on `/data/<Object>ChangeEvent` and `/data/ChangeEvents` when its transaction commits
// (docs/salesforce.md#change-event-channels, #change-event-header, #change-event-fields). Writes outside an explicit
// transaction are one transaction each; Bulk ingest runs each batch as one (OrgStore.transaction).
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { makeId, normalizeId } from '../ids.ts';
import type { FieldValue, ObjectDef, OrgStore, SfRecord } from '../types.ts';
import {
  type ChangeSchema,
  type ChangeType,
  type CompoundField,
  type SchemaField,
  avroValue,
  bitmapFields,
  changeSchemaOf,
  changeTopicOf,
} from './changeSchema.ts';
import type { EventBus } from './eventBus.ts';
import { textDiff } from './textDiff.ts';

/** Who is writing: set per API request (server.ts) so events carry changeOrigin and commitUser. */
export interface ChangeContext {
  origin: string;
  userId: string;
}

export const ALL_CHANGES_TOPIC = '/data/ChangeEvents';

/**
 * Event shapes Salesforce sends only sometimes, under conditions a subscriber cannot see (docs/salesforce.md
 * #change-event-header, #change-event-fields): each off by default, so that every change is an event of its own
 * record, with whole values, and a compound's parts come as `<parentPosition>-0x..` entries alone.
 */
export interface EventShapes {
  /**
   * Merged change events: within a transaction, the UPDATEs that make the same change (same fields, same values) and
   * the DELETEs of one object are sent as one event listing every record in recordIds. A transaction's updates then
   * share one LastModifiedDate and SystemModstamp, as the records of one DML statement do.
   */
  mergeRecordIds: boolean;
  /** An UPDATE of a long text area sent as a unified diff, listed in diffFields, where the documented rules allow. */
  longTextDiffs: boolean;
  /** A changed compound field's own bit set in changedFields beside its `<parentPosition>-0x..` entry. */
  compoundParentBits: boolean;
}

const NO_SHAPES: EventShapes = { mergeRecordIds: false, longTextDiffs: false, compoundParentBits: false };

export interface ChangeCapture {
  /** The store whose writes publish change events (every part of the emulator writes through it). */
  readonly store: OrgStore;
  enable(object: string): void;
  disable(object: string): void;
  enabled(): string[];
  /** Runs `fn` (synchronous) as one Salesforce transaction: its events share a transactionKey. */
  transaction<T>(fn: () => T, ctx?: Partial<ChangeContext>): T;
  /** Runs `fn` with the writer's identity for the events it causes (carried across awaits). */
  withContext<T>(ctx: ChangeContext, fn: () => T): T;
  /** A header-only gap event (GAP_OVERFLOW: no record ids), docs/salesforce.md#change-event-header. */
  injectGap(object: string, changeType: ChangeType, recordIds?: string[]): void;
  /** The schema of a change topic (`/data/ChangeEvents`: the first enabled object's), or undefined when not served. */
  topicSchema(topic: string): ChangeSchema | undefined;
  /** Turns event shapes on or off for the transactions that commit from now on. */
  setShapes(shapes: Partial<EventShapes>): void;
  shapes(): EventShapes;
}

interface PendingChange {
  schema: ChangeSchema;
  changeType: ChangeType;
  recordIds: string[];
  values: Record<string, unknown>;
  changed: string[];
  nulled: string[];
  diff: string[];
}

interface Tx {
  ctx: ChangeContext;
  changes: PendingChange[];
  /** The time the transaction's updates are stamped with, when they share one (EventShapes.mergeRecordIds). */
  stamp?: string;
}

type Row = Readonly<Record<string, FieldValue | undefined>>;

/** The Avro record of a compound field from a record's components; null when every component is null. */
function compoundValue(f: CompoundField, rec: Row, only?: Set<string>): Record<string, unknown> | null {
  const out: Record<string, unknown> = {};
  let any = false;
  for (const n of f.nested) {
    const v = n.source && (!only || only.has(n.name)) ? avroValue(n, rec[n.source.name]) : null;
    out[n.name] = v;
    if (v !== null) any = true;
  }
  return any ? out : null;
}

/**
 * The leaf a field is sent as: itself when simple; a person account org's Account Name, compound for a person account,
 * is a business account's plain string (personAccounts.ts).
 */
function leafOf(f: SchemaField, rec: Row): CompoundField['nested'][number] | undefined {
  if (f.kind === 'simple') return f;
  return f.plain && rec.IsPersonAccount !== true ? f.plain : undefined;
}

/** CREATE / UNDELETE: every non-null field, no bitmaps. */
function fullValues(schema: ChangeSchema, rec: Row): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const f of schema.fields) {
    const leaf = leafOf(f, rec);
    const v = leaf ? avroValue(leaf, rec[leaf.source?.name ?? leaf.name]) : compoundValue(f as CompoundField, rec);
    if (v !== null) values[f.name] = v;
  }
  return values;
}

/** A long text area (a Long or Rich Text Area): a textarea longer than a plain Text Area's 255 characters. */
const isLongText = (leaf: CompoundField['nested'][number]) =>
  leaf.source?.type === 'textarea' && (leaf.source.length ?? 0) > 255;

/**
 * UPDATE: changed fields only (LastModifiedDate among them), with the changedFields / nulledFields / diffFields
 * bitmaps.
 */
function diffValues(
  schema: ChangeSchema,
  before: Row,
  after: Row,
  shapes: EventShapes,
): Omit<PendingChange, 'schema' | 'recordIds'> {
  const values: Record<string, unknown> = {};
  const changedTop: number[] = [];
  const nulledTop: number[] = [];
  const diffTop: number[] = [];
  const changedNested = new Map<number, number[]>();
  const nulledNested = new Map<number, number[]>();
  for (const f of schema.fields) {
    const leaf = leafOf(f, after);
    if (leaf) {
      const name = leaf.source?.name ?? leaf.name;
      if (before[name] === after[name]) continue;
      const v = avroValue(leaf, after[name]);
      const old = avroValue(leaf, before[name]);
      const diff =
        shapes.longTextDiffs && isLongText(leaf) && typeof old === 'string' && typeof v === 'string'
          ? textDiff(old, v)
          : undefined;
      values[f.name] = diff ?? v;
      changedTop.push(f.position);
      if (v === null) nulledTop.push(f.position);
      if (diff !== undefined) diffTop.push(f.position);
      continue;
    }
    if (f.kind !== 'compound') continue;
    const changedNames = new Set<string>();
    for (const n of f.nested) {
      if (!n.source || before[n.source.name] === after[n.source.name]) continue;
      changedNames.add(n.name);
      changedNested.set(f.position, [...(changedNested.get(f.position) ?? []), n.position]);
      if (avroValue(n, after[n.source.name]) === null)
        nulledNested.set(f.position, [...(nulledNested.get(f.position) ?? []), n.position]);
    }
    if (!changedNames.size) continue;
    values[f.name] = compoundValue(f, after, changedNames) ?? emptyCompound(f);
    if (shapes.compoundParentBits) changedTop.push(f.position);
  }
  return {
    changeType: 'UPDATE',
    values,
    changed: bitmapFields(changedTop, changedNested),
    nulled: bitmapFields(nulledTop, nulledNested),
    diff: bitmapFields(diffTop, new Map()),
  };
}

/** A compound whose changed components were all nulled: the record is sent with null members. */
function emptyCompound(f: CompoundField): Record<string, unknown> {
  return Object.fromEntries(f.nested.map((n) => [n.name, null]));
}

/**
 * docs/salesforce.md#change-event-header: a transaction's events with the same change of one object (an UPDATE's
 * fields and values, a DELETE) as one event naming all their records, where the first of them was. A change is never
 * moved ahead of an earlier change of the same record.
 */
function merged(changes: readonly PendingChange[]): PendingChange[] {
  const out: { change: PendingChange; key: string | undefined }[] = [];
  for (const c of changes) {
    const key =
      c.changeType === 'UPDATE' || c.changeType === 'DELETE'
        ? JSON.stringify([c.schema.schemaId, c.changeType, c.values, c.changed, c.nulled, c.diff])
        : undefined;
    let into: PendingChange | undefined;
    for (let i = out.length - 1; key !== undefined && i >= 0; i--) {
      const o = out[i]!;
      const touches = o.change.recordIds.some((id) => c.recordIds.includes(id));
      if (o.key === key && !touches) into = o.change;
      if (into || touches) break;
    }
    if (into) into.recordIds = [...into.recordIds, ...c.recordIds];
    else out.push({ change: { ...c }, key });
  }
  return out.map((o) => o.change);
}

export function createChangeCapture(
  inner: OrgStore,
  bus: EventBus,
  opts: { enabled?: string[]; defaultUserId?: string; shapes?: Partial<EventShapes> } = {},
): ChangeCapture {
  const enabledSet = new Set<string>();
  let shapes: EventShapes = { ...NO_SHAPES, ...opts.shapes };
  const context = new AsyncLocalStorage<ChangeContext>();
  const defaultCtx = (): ChangeContext =>
    context.getStore() ?? { origin: '', userId: opts.defaultUserId ?? makeId('005', 0) };
  let current: Tx | undefined;
  // docs/salesforce.md#change-event-header: commitNumber grows with every commit, by uneven steps.
  let commitNumber = 10_650_000;

  const defOf = (id: string): ObjectDef | undefined => {
    const id15 = normalizeId(id);
    return id15 ? inner.objects().find((d) => d.keyPrefix === id15.slice(0, 3)) : undefined;
  };
  const isEnabled = (def: ObjectDef | undefined): def is ObjectDef =>
    def !== undefined && enabledSet.has(def.name.toLowerCase());

  const publish = (tx: Tx) => {
    if (tx.changes.length === 0) return;
    const changes = shapes.mergeRecordIds ? merged(tx.changes) : tx.changes;
    const transactionKey = randomUUID();
    commitNumber += 1 + (changes.length % 7);
    const commitTimestamp = Date.parse(inner.now());
    const perTopic = new Map<string, { id: string; schemaId: string; payload: Buffer }[]>();
    changes.forEach((c, i) => {
      const header = {
        entityName: c.schema.object,
        recordIds: c.recordIds,
        changeType: c.changeType,
        changeOrigin: tx.ctx.origin,
        transactionKey,
        sequenceNumber: i + 1,
        commitTimestamp,
        commitNumber,
        commitUser: tx.ctx.userId,
        nulledFields: c.nulled,
        diffFields: c.diff,
        changedFields: c.changed,
      };
      const payload = c.schema.type.toBuffer({ ChangeEventHeader: header, ...c.values });
      const event = { id: randomUUID(), schemaId: c.schema.schemaId, payload };
      for (const topic of [c.schema.topic, ALL_CHANGES_TOPIC]) {
        const list = perTopic.get(topic);
        if (list) list.push(event);
        else perTopic.set(topic, [event]);
      }
    });
    for (const [topic, events] of perTopic) bus.publish(topic, events);
  };

  const transaction = <T>(fn: () => T, ctx?: Partial<ChangeContext>): T => {
    if (current) return fn();
    const tx: Tx = { ctx: { ...defaultCtx(), ...ctx }, changes: [] };
    current = tx;
    try {
      return fn();
    } finally {
      current = undefined;
      publish(tx);
    }
  };

  const record = (def: ObjectDef, change: Omit<PendingChange, 'schema'>) => {
    const schema = changeSchemaOf(def);
    bus.registerSchema(schema.json);
    const pending = { schema, ...change };
    if (current) current.changes.push(pending);
    else publish({ ctx: defaultCtx(), changes: [pending] });
  };
  const header = (changeType: ChangeType, recordIds: string[]) => ({
    changeType,
    recordIds,
    values: {},
    changed: [],
    nulled: [],
    diff: [],
  });

  const store: OrgStore = {
    ...inner,
    transaction,
    insert(object, values) {
      if (current) current.stamp = undefined;
      const rec = inner.insert(object, values);
      const def = inner.object(object);
      if (isEnabled(def)) record(def, { ...header('CREATE', [rec.Id]), values: fullValues(changeSchemaOf(def), rec) });
      return rec;
    },
    update(id, values, o) {
      const def = defOf(id);
      const before = isEnabled(def) ? inner.get(id) : undefined;
      // One stamp for a transaction's updates, so that the same change makes identical events; taken afresh after
      // any other write, which the store stamps later.
      const shared = shapes.mergeRecordIds && current && o?.touch !== false && o?.modstamp === undefined;
      if (shared) current!.stamp ??= inner.now();
      const after = inner.update(id, values, shared ? { ...o, modstamp: current!.stamp } : o);
      if (before && isEnabled(def)) {
        const diff = diffValues(changeSchemaOf(def), before, after, shapes);
        if (diff.changed.length) record(def, { ...diff, recordIds: [after.Id] });
      }
      return after;
    },
    softDelete(id) {
      if (current) current.stamp = undefined;
      const def = defOf(id);
      const before = isEnabled(def) ? inner.get(id) : undefined;
      inner.softDelete(id);
      if (before && before.IsDeleted !== true && isEnabled(def)) record(def, header('DELETE', [before.Id]));
    },
    undelete(id) {
      if (current) current.stamp = undefined;
      const def = defOf(id);
      const before = isEnabled(def) ? inner.get(id) : undefined;
      inner.undelete(id);
      const after = before && (inner.get(id) as SfRecord | undefined);
      if (before?.IsDeleted === true && after && isEnabled(def))
        record(def, { ...header('UNDELETE', [after.Id]), values: fullValues(changeSchemaOf(def), after) });
    },
    hardDelete(id) {
      if (current) current.stamp = undefined;
      const def = defOf(id);
      const before = isEnabled(def) ? inner.get(id) : undefined;
      inner.hardDelete(id);
      // Emptying the Recycle Bin sends nothing more: the DELETE went out when the record was deleted.
      if (before && before.IsDeleted !== true && isEnabled(def)) record(def, header('DELETE', [before.Id]));
    },
  };

  return {
    store,
    enable(object) {
      const def = inner.object(object);
      if (!def) throw new Error(`Unknown object ${object}`);
      enabledSet.add(def.name.toLowerCase());
      bus.registerSchema(changeSchemaOf(def).json);
    },
    disable(object) {
      enabledSet.delete(object.toLowerCase());
    },
    enabled: () =>
      inner
        .objects()
        .filter((d) => isEnabled(d))
        .map((d) => d.name),
    transaction,
    withContext: (ctx, fn) => context.run(ctx, fn),
    injectGap(object, changeType, recordIds = []) {
      const def = inner.object(object);
      if (!isEnabled(def)) throw new Error(`${object} is not selected for Change Data Capture`);
      if (!changeType.startsWith('GAP_')) throw new Error(`${changeType} is not a gap event type`);
      record(def, header(changeType, changeType === 'GAP_OVERFLOW' ? [] : recordIds));
    },
    setShapes(next) {
      shapes = { ...shapes, ...next };
    },
    shapes: () => ({ ...shapes }),
    topicSchema(topic) {
      const defs = inner.objects().filter((d) => isEnabled(d));
      const def = topic === ALL_CHANGES_TOPIC ? defs[0] : defs.find((d) => changeTopicOf(d.name) === topic);
      if (!def) return undefined;
      const schema = changeSchemaOf(def);
      bus.registerSchema(schema.json);
      return schema;
    },
  };
}
