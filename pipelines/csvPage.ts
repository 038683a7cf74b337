// A REST query page (salesforce-api.md §4.3) as COPY-ready CSV: what copyCsv reads for a REST load.
import type { QueryPage } from '../extractors/restQuery.ts';
import { recordToRow } from '../extractors/recordToRow.ts';
import type { FieldSpec } from '../extractors/types.ts';
import { encodeCsvLine } from '../loaders/encodeCsv.ts';

export interface CsvPage {
  records: number;
  /** CSV records in `fields` order, no header, UTF-8. */
  csv: Buffer;
}

export function csvTextOf(page: QueryPage, fields: readonly FieldSpec[]): string {
  let csv = '';
  for (const record of page.records) csv += encodeCsvLine(recordToRow(record, fields));
  return csv;
}

/** The ArrayBuffer to transfer with a message when the view owns all of it; none (the message copies) when it is
 * a slice of Node's shared pool, which transferring would take from every other Buffer in it. */
export function ownBuffer(view: Uint8Array): ArrayBuffer[] {
  const buffer = view.buffer as ArrayBuffer;
  return view.byteOffset === 0 && view.byteLength === buffer.byteLength ? [buffer] : [];
}
