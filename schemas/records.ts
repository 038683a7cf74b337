// The shapes that cross from extraction to loading. Extractors produce them; pipelines hand them to loaders.
import type { PgType } from './fieldTypes.ts';

/** A loadable field of an object, from sObject describe. */
export interface FieldSpec {
  /** API name as describe spells it, e.g. `AnnualRevenue`, `Loc__Latitude__s`. */
  name: string;
  /** Postgres column: the API name lowercased, shortened past 63 bytes (schemas/pgNames.ts). */
  column: string;
  label: string;
  sfType: string;
  pgType: PgType;
  /** Formula field (describe `calculated: true`). */
  calculated: boolean;
  calculatedFormula: string | null;
  /** The active picklist values, in describe order (column comments). */
  picklistValues: string[];
  /**
   * Every picklist entry describe lists, inactive ones too, in describe order (sfsync.picklist_values,
   * docs/salesforce.md#picklist-values). Absent for fields without entries.
   */
  picklistEntries?: PicklistEntry[];
  /**
   * describe `length` in characters, for the text types whose column is varchar(length) (schemas/fieldTypes.ts
   * sizedLengthOf, docs/salesforce.md#field-sizes). Absent = an unbounded text column.
   */
  length?: number;
  /** describe `precision` and `scale` of a double, currency or percent field; absent when describe gives none. */
  precision?: number;
  scale?: number;
  /**
   * The config hashes this field (columns.hash): its values are stored as HMAC-SHA256 hex under SFSYNC_HASH_KEY
   * (transforms/hashValue.ts), in a text column. Absent = stored as read.
   */
  hashed?: true;
}

/** One picklist entry of describe (docs/salesforce.md#picklist-values). */
export interface PicklistEntry {
  value: string;
  /** describe `label`; the value when describe gives none. */
  label: string;
  active: boolean;
  /** describe `defaultValue`: preselected on new records. */
  isDefault: boolean;
}

export type CursorField = 'SystemModstamp' | 'LastModifiedDate' | 'CreatedDate';

/** An object as sfsync loads it: only fields with a Postgres type (no base64, no compound parents). */
export interface ObjectSpec {
  name: string;
  /** Postgres table: the API name lowercased, shortened past 63 bytes (schemas/pgNames.ts). */
  table: string;
  label: string;
  fields: FieldSpec[];
  cursorField: CursorField | null;
  hasIsDeleted: boolean;
  /**
   * describe `replicateable` (docs/salesforce.md#describeglobal): false when getDeleted/getUpdated refuse the object,
   * so its deletes are found by Id reconciliation alone. Absent = true.
   */
  replicateable?: boolean;
  /**
   * The name the load's state (watermark, runs, lock, delete checks) is kept under; absent = `name`. A relationship
   * pipeline reads its object into a table of its own, with state of its own (pipelines/relationships/).
   */
  stateKey?: string;
  /** A relationship pipeline's read (pipelines/relationships/): what its SOQL adds to the object's. */
  relationship?: RelationshipRead;
  /**
   * The object's filter (config objects[].where), checked by extractors/soqlFilter.ts: every read of the object is
   * limited to it, but for the Id reconciliation's. Absent = the whole object.
   */
  where?: string;
  /**
   * The cursor of every parent the filter names a field of (`Account.SystemModstamp` for `Account.Industry = ...`):
   * a parent's change can move a record in or out of the filter without moving its own cursor, so a delta's lower
   * bound applies to each of them too (docs/salesforce.md#soql-filters).
   */
  whereParentCursors?: readonly string[];
}

/** What a relationship pipeline adds to the reads of its object (extractors/soql.ts). */
export interface RelationshipRead {
  /** A validated SOQL condition ANDed to every read. */
  where: string | null;
  /**
   * ANDed to full reads only: a delta must also see the rows that stopped matching it (a child whose lookup was
   * cleared or moved to another parent).
   */
  fullWhere: string | null;
  /**
   * The cursor of every parent the rows carry fields of (`Account.SystemModstamp`): a parent's change leaves the
   * child's own cursor as it was, so a delta's lower bound applies to each of them too.
   */
  parentCursors: readonly string[];
  /** Records a delta reads whatever their cursors: rows that carried fields of a parent since deleted. */
  changedIds?: readonly string[];
}

/**
 * One record: values in ObjectSpec.fields order, as text Postgres parses for the column type, or null.
 * (Booleans 'true'/'false', numbers as decimal text, datetimes ISO 8601 with offset.)
 */
export type Row = readonly (string | null)[];
