// Rows -> the CSV that COPY (FORMAT csv) reads: every non-null value quoted, NULL as an unquoted empty field.
import type { Row } from '../schemas/records.ts';
import { DataError } from '../lib/errors.ts';

/** Lines are batched into chunks of about this size: one COPY data message per row would cost more than the row. */
const CHUNK_CHARS = 64 * 1024;

function encodeValue(value: string | null): string {
  if (value === null) return '';
  // PostgreSQL text cannot hold NUL (salesforce-api.md §6.6 notes NULs seen in Salesforce data): drop it.
  const clean = value.includes('\0') ? value.replaceAll('\0', '') : value;
  return '"' + clean.replaceAll('"', '""') + '"';
}

/**
 * One CSV record with a trailing LF: null -> unquoted empty field, '' -> `""`. copyCsv's FORCE_NULL then loads
 * `""` as NULL too, so REST rows and Bulk CSV agree (§6.6: Salesforce cannot tell null from empty).
 */
export function encodeCsvLine(row: Row): string {
  let line = '';
  for (let i = 0; i < row.length; i++) {
    if (i > 0) line += ',';
    line += encodeValue(row[i] ?? null);
  }
  return line + '\n';
}

/** Encodes rows into ~64 KB chunks; a row of the wrong width is a DataError, not a COPY error at line N. */
export async function* encodeCsvChunks(
  rows: AsyncIterable<Row> | Iterable<Row>,
  width: number,
): AsyncGenerator<string> {
  let chunk = '';
  let n = 0;
  for await (const row of rows) {
    n++;
    if (row.length !== width) throw new DataError(`row ${n} has ${row.length} values, expected ${width}`);
    chunk += encodeCsvLine(row);
    if (chunk.length >= CHUNK_CHARS) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk.length > 0) yield chunk;
}
