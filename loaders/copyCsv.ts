// COPY ... FROM STDIN (FORMAT csv): Bulk CSV bytes straight through, or REST pages encoded as CSV by transforms/.
import { type Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { DataError } from '../lib/errors.ts';
import { qualified, quoteIdent } from './postgres.ts';

export interface CopyTarget {
  schema: string;
  table: string;
  /** Column order of the CSV records. */
  columns: readonly string[];
  signal?: AbortSignal;
}

export function copySql(schema: string, table: string, columns: readonly string[]): string {
  const cols = columns.map(quoteIdent).join(', ');
  // FORCE_NULL: a quoted empty value ("") is NULL, as Salesforce stores no empty strings
  // (docs/salesforce.md#bulk-api-20-csv-format).
  return `COPY ${qualified(schema, table)} (${cols}) FROM STDIN (FORMAT csv, FORCE_NULL (${cols}))`;
}

/**
 * NUL bytes have been seen in Salesforce results and PostgreSQL text cannot hold them. The one place they are dropped,
 * for Bulk bytes and encoded REST rows alike: one indexOf per chunk when absent.
 */
export function createNulStripper(): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
      if (chunk.indexOf(0) === -1) return done(null, chunk);
      done(null, Buffer.from(chunk.filter((byte) => byte !== 0)));
    },
  });
}

/** Streams CSV records (no header row) into the table; resolves with the row count COPY reports. */
export async function copyCsv(client: pg.ClientBase, target: CopyTarget & { source: Readable }): Promise<number> {
  const copy = client.query(copyFrom(copySql(target.schema, target.table, target.columns)));
  try {
    // pipeline() tears down both sides on error or abort; destroying the COPY stream sends CopyFail.
    await pipeline(target.source, createNulStripper(), copy, target.signal ? { signal: target.signal } : {});
  } catch (err) {
    throw asDataError(err, target.table);
  }
  return copy.rowCount;
}

/** Class 22 (data exception) and 23 (integrity): the data, not the connection, is at fault. */
function asDataError(err: unknown, table: string): unknown {
  if (!(err instanceof pg.DatabaseError) || !/^2[23]/.test(err.code ?? '')) return err;
  const where = err.where ? ` (${err.where})` : '';
  const hint = WIDER_THAN_COLUMN.has(err.code ?? '') ? WIDEN_HINT : '';
  return new DataError(`${table}: PostgreSQL rejected the data: ${err.message}${where}${hint}`, { cause: err });
}

/** string_data_right_truncation, numeric_value_out_of_range: a value wider than its column. */
const WIDER_THAN_COLUMN = new Set(['22001', '22003']);
/** docs/salesforce.md#field-sizes: Salesforce can hold values wider than describe says; sfsync never narrows back. */
const WIDEN_HINT =
  '; Salesforce holds a value wider than describe says: widen that column (ALTER TABLE ... ALTER COLUMN ... TYPE ' +
  'text, or numeric) and sync again; sfsync keeps a wider column';
