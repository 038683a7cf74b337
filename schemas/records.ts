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
  picklistValues: string[];
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
}

/**
 * One record: values in ObjectSpec.fields order, as text Postgres parses for the column type, or null.
 * (Booleans 'true'/'false', numbers as decimal text, datetimes ISO 8601 with offset.)
 */
export type Row = readonly (string | null)[];
