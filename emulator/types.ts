// The emulator's internal contracts: the org's schema, its records, and the SOQL engine over them.
// emulator/ imports nothing from extractors/, loaders/ or pipelines/, so a misreading of Salesforce in the
// product cannot be mirrored here (and vice versa).

/** Field `type` values of sObject describe (docs/salesforce.md#field-types). */
export type SfFieldType =
  | 'id'
  | 'reference'
  | 'string'
  | 'textarea'
  | 'email'
  | 'phone'
  | 'url'
  | 'picklist'
  | 'multipicklist'
  | 'combobox'
  | 'encryptedstring'
  | 'boolean'
  | 'int'
  | 'long'
  | 'double'
  | 'currency'
  | 'percent'
  | 'date'
  | 'datetime'
  | 'time'
  | 'base64'
  | 'address'
  | 'location'
  /** History `OldValue`/`NewValue` (docs/salesforce.md#field-types). */
  | 'anyType';

/**
 * Every describe `type` the org serves: SfFieldType plus the rare ones only some profiles use. `json` (Apex
 * Schema.DisplayType.JSON): REST renders the value as nested JSON, Bulk CSV as its JSON text
 * (docs/salesforce.md#field-types).
 */
export type FieldType = SfFieldType | 'json';

export interface FieldDef {
  name: string;
  label: string;
  type: FieldType;
  length?: number;
  precision?: number;
  scale?: number;
  digits?: number;
  nillable: boolean;
  custom?: boolean;
  calculated?: boolean;
  calculatedFormula?: string | null;
  compoundFieldName?: string | null;
  referenceTo?: string[];
  relationshipName?: string | null;
  /** A bare string is an active entry labelled with its value, not the default. */
  picklistValues?: (string | PicklistEntryDef)[];
  externalId?: boolean;
  /** A unique index: Bulk ingest refuses a second record with the same value (DUPLICATE_VALUE), case-insensitively. */
  unique?: boolean;
  idLookup?: boolean;
  nameField?: boolean;
  createable?: boolean;
  updateable?: boolean;
  filterable?: boolean;
  sortable?: boolean;
  defaultedOnCreate?: boolean;
}

/** A picklist entry of describe (docs/salesforce.md#picklist-values); absent members read as in a bare string. */
export interface PicklistEntryDef {
  value: string;
  label?: string;
  active?: boolean;
  defaultValue?: boolean;
}

/** What an admin may change of an existing field (OrgStore.changeField). */
export type FieldChanges = Partial<Omit<FieldDef, 'name' | 'type'>>;

export interface ChildRelationshipDef {
  childSObject: string;
  field: string;
  relationshipName: string | null;
  cascadeDelete?: boolean;
}

export type ObjectFlag = 'deletable' | 'searchable' | 'layoutable' | 'triggerable' | 'feedEnabled' | 'mruEnabled';

export interface ObjectDef {
  name: string;
  label: string;
  labelPlural: string;
  keyPrefix: string;
  custom: boolean;
  queryable: boolean;
  replicateable: boolean;
  /** false for objects the Bulk API refuses (INVALIDENTITY at job creation). */
  bulkQueryable: boolean;
  /**
   * false for objects with no Recycle Bin: deletes are hard. Most of them (User, TaskStatus) have no IsDeleted field;
   * share rows (AccountShare) have one that is always false.
   */
  undeletable: boolean;
  /**
   * describeGlobal flags of a setup object where they differ from a data object's (absent = true): RecordType rows
   * cannot be deleted or searched through the API.
   */
  flags?: Partial<Record<ObjectFlag, boolean>>;
  fields: FieldDef[];
  childRelationships: ChildRelationshipDef[];
  /** Bumped whenever fields change (schema drift), for describe's Last-Modified / If-Modified-Since. */
  lastModified: string;
}

/**
 * A field value as the org stores it. Every value is text so nothing is lost to JS doubles:
 * numbers are decimal text ("-1234.5678", "1.2345678E7"), booleans true/false, dates "2024-01-02",
 * datetimes "2024-01-02T03:04:05.000Z" (UTC, millis: sorts lexicographically), times "13:45:00.000Z".
 * Compound address/location fields are not stored: they are derived from their components on output.
 */
export type FieldValue = string | boolean | null;

/** One stored record version. Immutable: a change stores a new object (copy-on-write), which makes snapshots cheap. */
export type SfRecord = Readonly<Record<string, FieldValue>> & { readonly Id: string };

/** A consistent, immutable view of one object's records at an instant (Bulk jobs read from one). */
export interface ObjectSnapshot {
  readonly object: ObjectDef;
  /** Number of record slots (including hard-deleted ones, which read as undefined). */
  readonly size: number;
  /**
   * The record in slot i as of the snapshot; undefined when hard-deleted. Soft-deleted records have IsDeleted = true.
   */
  at(slot: number): SfRecord | undefined;
  /**
   * Whether slot i is live, seen by queryAll only (soft-deleted or archived, queryAllOnly) or hard-deleted, without
   * building the record (fast unfiltered scans).
   */
  slotState(slot: number): SlotState;
  /**
   * Slots whose `field` value may lie within [from, to] (stored datetime text, both inclusive, undefined = open): a
   * superset of the matches found without reading the other slots (a cursor window,
   * docs/salesforce.md#incremental-cursor-windows). undefined when no index covers the field; the caller then scans
   * every slot.
   */
  cursorCandidates?(field: string, from: string | undefined, to: string | undefined): CursorCandidates | undefined;
  /**
   * How many slots hold a visible record (live, or also soft-deleted with includeDeleted) whose window.field lies in
   * the window (null = every record), from the index alone (COUNT(), docs/salesforce.md#select-count). undefined when
   * no index covers the field.
   */
  cursorCount?(window: CursorWindow | null, includeDeleted: boolean): number | undefined;
  /**
   * The first `take` visible slots in `field` order, restricted to the window when given: nulls placed as nullsFirst
   * says, equal values by slot (descending when tieDesc). undefined when no index covers the field.
   */
  cursorOrder?(field: string, window: CursorWindow | null, opts: CursorOrderOptions): Int32Array | undefined;
}

/** A cursor field confined to stored datetime text bounds (inclusive unless marked exclusive; undefined = open). */
export interface CursorWindow {
  field: string;
  from?: string;
  fromExclusive?: boolean;
  to?: string;
  toExclusive?: boolean;
}

export interface CursorOrderOptions {
  desc: boolean;
  nullsFirst: boolean;
  tieDesc: boolean;
  includeDeleted: boolean;
  /** How many to return; Infinity = all (a query without LIMIT). */
  take: number;
}

export interface CursorCandidates {
  /** An upper bound of slots().length, known before building it. */
  readonly estimate: number;
  /** Ascending slot numbers. */
  slots(): Int32Array;
}

/** 'deleted': visible to queryAll only (soft-deleted or an archived activity, queryAllOnly). */
export type SlotState = 'live' | 'deleted' | 'gone';

/**
 * Records `query` never returns and `queryAll` does: soft-deleted ones, and archived Tasks/Events (SOAP API
 * queryAll(): "You cannot use query() as it automatically filters out all records where isArchived is set to true",
 * https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_calls_queryall.htm).
 */
export function queryAllOnly(rec: { readonly [field: string]: FieldValue | undefined }): boolean {
  return rec.IsDeleted === true || rec.IsArchived === true;
}

export interface DeletedEntry {
  id: string;
  deletedDate: string;
}

export interface OrgStore {
  objects(): ObjectDef[];
  /** Case-insensitive, as Salesforce resolves API names. */
  object(name: string): ObjectDef | undefined;
  snapshot(object: string): ObjectSnapshot;
  /** Current version of a record by 15- or 18-char id; undefined when unknown or hard-deleted. */
  get(id: string): SfRecord | undefined;
  /** Current time of the org's clock, ISO UTC with millis; strictly increasing between calls. */
  now(): string;
  insert(object: string, values: Record<string, FieldValue>): SfRecord;
  /** Bumps LastModifiedDate and SystemModstamp unless touch = false (a formula result changing). */
  update(id: string, values: Record<string, FieldValue>, opts?: { touch?: boolean; modstamp?: string }): SfRecord;
  softDelete(id: string): void;
  undelete(id: string): void;
  hardDelete(id: string): void;
  /**
   * The delete log (docs/salesforce.md#getdeleted) by deletedDate, restricted to [from, to) (canonical ISO text, either
   * open) and to its first `limit` entries.
   */
  deletedLog(object: string, window?: { from?: string; to?: string; limit?: number }): DeletedEntry[];
  addField(object: string, field: FieldDef, valueFor?: (rec: SfRecord) => FieldValue): void;
  /** Schema drift the other way: the field leaves describe and SOQL (an admin deleted it). */
  removeField(object: string, field: string): void;
  /**
   * Schema drift in place: the field's describe members change (length, precision, scale, picklist values, label),
   * stored values stay as they are (docs/salesforce.md#field-sizes). Name and type cannot change.
   */
  changeField(object: string, field: string, changes: FieldChanges): void;
  /**
   * Change what a formula field computes, for every record at once and WITHOUT touching any SystemModstamp (the
   * reason formula fields cannot be synced incrementally). null restores the seed formula. `formulaText` updates
   * describe's calculatedFormula (and the object's lastModified).
   */
  setFormula(
    object: string,
    field: string,
    compute: ((rec: SfRecord) => FieldValue) | null,
    formulaText?: string,
  ): void;
  /** Current live and soft-deleted children whose `field` points at parentId (parent-to-child subqueries). */
  childrenOf(childObject: string, field: string, parentId: string): SfRecord[];
  /**
   * Runs synchronous writes as one Salesforce transaction (their change events share a transactionKey,
   * docs/salesforce.md#change-event-header). Present when the emulator serves the Pub/Sub API.
   */
  transaction?<T>(fn: () => T): T;
}

/**
 * A SOQL failure, rendered by the HTTP layer as a 400 `[{"message","errorCode"}]` body
 * (docs/salesforce.md#soql-limits-and-errors).
 */
export class SoqlError extends Error {
  constructor(
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
  }
}

/** How a REST record is rendered: `attributes.url` needs the API version. */
export interface JsonRenderContext {
  apiVersion: string;
}

/** A parsed, validated SOQL statement bound to the org's schema (emulator/soql.ts builds it with soql-parser-js). */
export interface QueryPlan {
  readonly object: ObjectDef;
  /** `SELECT COUNT() FROM ...`: the result is only totalSize. */
  readonly isCount: boolean;
  /** Header names in SELECT order as Bulk CSV prints them: 'Id', 'Account.Name'. Subqueries are not columns. */
  readonly columns: readonly string[];
  /** Why Bulk API 2.0 refuses this query (compound fields, subqueries, aggregates, OFFSET, ...), or null. */
  bulkRefusal(): { errorCode: string; message: string } | null;
  /** Matching slots of the snapshot in result order, after WHERE, ORDER BY, OFFSET and LIMIT. */
  run(snapshot: ObjectSnapshot, opts: { includeDeleted: boolean }): Iterable<number>;
  /**
   * How many slots run() yields (COUNT()'s totalSize, docs/salesforce.md#select-count), answered from the cursor index
   * when it can be.
   */
  count(snapshot: ObjectSnapshot, opts: { includeDeleted: boolean }): number;
  /** The REST JSON record (attributes, parent objects or null, child subquery results). */
  toJson(rec: SfRecord, ctx: JsonRenderContext): Record<string, unknown>;
  /**
   * The same record as JSON text, written directly, for a SELECT of the object's own scalar fields (REST pages
   * render thousands of records: building each as an object first cost three times as much). Absent for a SELECT
   * with parents, subqueries or compound fields, which go through toJson.
   */
  readonly toJsonText?: (rec: SfRecord, ctx: JsonRenderContext) => string;
  /** Values in `columns` order for Bulk CSV: null for empty, text as stored (datetimes end in Z). */
  toCsvValues(rec: SfRecord): (string | null)[];
}

/** A JSON number whose source text must be written verbatim (decimal text never passes through a double). */
export class RawJson {
  constructor(readonly text: string) {}
}
