// Source columns -> the object's fields for `sfsync push`, checked against describe before any job is created: a
// column Salesforce would refuse for the whole job (unknown, read-only, wrong type) stops the push with its name.
import type { IngestOperation } from '../../extractors/bulk/ingestJob.ts';
import type { DescribeField } from '../../extractors/describe.ts';
import { ConfigError } from '../../lib/errors.ts';
import type { SourceColumn } from '../../loaders/push.ts';
import { columnNameOf } from '../../schemas/pgNames.ts';

export interface MappedColumn {
  column: string;
  pgType: string;
  field: string;
  sfType: string;
}

export interface PushMapping {
  columns: MappedColumn[];
  /** Index of the column that names each row in push_results: Id or the external id; -1 = a hash of the row. */
  keyAt: number;
}

const TEXT = /^(text|character varying|character|varchar|char|name|citext|unknown)\b/;
const NUMBER = /^(smallint|integer|bigint|numeric|real|double precision)\b/;
const NUMERIC_FIELDS = new Set(['int', 'long', 'double', 'currency', 'percent']);

/** A text column suits any field (Salesforce checks each value); other types only fields that hold them. */
export function compatible(pgType: string, sfType: string): boolean {
  if (TEXT.test(pgType)) return true;
  if (sfType === 'boolean') return pgType === 'boolean';
  if (NUMERIC_FIELDS.has(sfType)) return NUMBER.test(pgType);
  if (sfType === 'date') return pgType === 'date' || pgType.startsWith('timestamp');
  if (sfType === 'datetime') return pgType.startsWith('timestamp') || pgType === 'date';
  if (sfType === 'time') return pgType.startsWith('time ') || pgType === 'time';
  if (sfType === 'base64' || sfType === 'location' || sfType === 'address') return false;
  // Text-like fields (string, picklist, reference, email, ...) take the text of any scalar.
  return !pgType.endsWith('[]') && pgType !== 'bytea' && pgType !== 'json' && pgType !== 'jsonb';
}

function fieldFor(fields: DescribeField[], column: string): DescribeField | undefined {
  const lower = column.toLowerCase();
  return fields.find((f) => f.name.toLowerCase() === lower) ?? fields.find((f) => columnNameOf(f.name) === lower);
}

export function mapColumns(
  object: string,
  fields: DescribeField[],
  columns: readonly SourceColumn[],
  operation: IngestOperation,
  externalId?: string,
): PushMapping {
  const fail = (message: string): never => {
    throw new ConfigError(`push ${object}: ${message}; nothing was sent`);
  };
  if (columns.length === 0) fail('the source has no columns');
  const extName = fields.find((f) => f.name.toLowerCase() === externalId?.toLowerCase())?.name;
  const mapped: MappedColumn[] = [];
  const seen = new Map<string, string>();
  for (const col of columns) {
    const f = fieldFor(fields, col.name);
    if (!f) fail(`column "${col.name}" matches no field of ${object}`);
    const field = f as DescribeField;
    const other = seen.get(field.name);
    if (other) fail(`columns "${other}" and "${col.name}" both map to ${object}.${field.name}`);
    seen.set(field.name, col.name);
    const isId = field.name === 'Id';
    if (operation === 'delete' || operation === 'hardDelete') {
      // docs/salesforce.md#bulk-api-20-ingest: delete files contain only Id.
      if (!isId) fail(`column "${col.name}": a ${operation} takes only an Id column`);
    } else if (isId) {
      if (operation === 'insert') fail(`column "${col.name}": an insert cannot set Id`);
    } else {
      const createable = field.createable !== false;
      const updateable = field.updateable !== false;
      const ok =
        operation === 'insert'
          ? createable
          : operation === 'update'
            ? updateable
            : field.name === extName || (createable && updateable);
      if (!ok || field.calculated === true)
        fail(`column "${col.name}": ${object}.${field.name} is read-only for ${operation}`);
    }
    if (!compatible(col.pgType, field.type))
      fail(`column "${col.name}" is ${col.pgType}, which cannot hold ${object}.${field.name} (${field.type})`);
    mapped.push({ column: col.name, pgType: col.pgType, field: field.name, sfType: field.type });
  }
  let keyField = 'Id';
  if (operation === 'upsert') {
    if (!externalId) fail('an upsert needs --external-id <field>');
    const ext = fields.find((f) => f.name.toLowerCase() === (externalId as string).toLowerCase());
    if (!ext) fail(`--external-id ${externalId}: no such field on ${object}`);
    if (ext!.name !== 'Id' && ext!.externalId !== true)
      fail(`--external-id ${externalId}: ${object}.${ext!.name} is not an External ID field`);
    keyField = ext!.name;
  }
  const keyAt = operation === 'insert' ? -1 : mapped.findIndex((m) => m.field === keyField);
  if (operation !== 'insert' && keyAt < 0) fail(`a ${operation} needs a column for ${object}.${keyField}`);
  return { columns: mapped, keyAt };
}
