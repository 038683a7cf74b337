// A REST query page (salesforce-api.md §4.3) as COPY-ready CSV: what copyCsv reads for a REST load.
import { type QueryPage, parseQueryPage } from '../extractors/rest/query.ts';
import { recordToRow } from './recordToRow.ts';
import type { FieldSpec } from '../schemas/records.ts';
import { encodeCsvLine } from './encodeCsv.ts';

export interface CsvPage {
  records: number;
  /** CSV records in `fields` order, no header, UTF-8. */
  csv: Buffer;
}

/** A page encoded, with what paging needs (§4.3: totalSize sizes the delta). */
export interface EncodedPage extends CsvPage {
  totalSize: number;
  done: boolean;
  nextRecordsUrl?: string;
}

export function csvTextOf(page: QueryPage, fields: readonly FieldSpec[]): string {
  let csv = '';
  for (const record of page.records) csv += encodeCsvLine(recordToRow(record, fields));
  return csv;
}

/** One page's JSON text, parsed with exact numbers (restQuery.ts) and encoded: on the main thread or the worker. */
export function encodePage(text: string, url: string, fields: readonly FieldSpec[]): EncodedPage {
  const page = parseQueryPage(text, url);
  const csv = Buffer.from(csvTextOf(page, fields), 'utf8');
  return {
    totalSize: page.totalSize,
    done: page.done,
    nextRecordsUrl: page.nextRecordsUrl,
    records: page.records.length,
    csv,
  };
}

/** The ArrayBuffer to transfer with a message when the view owns all of it; none (the message copies) when it is
 * a slice of a larger one, which transferring would take from every other view of it. */
export function ownBuffer(view: Uint8Array): ArrayBuffer[] {
  const buffer = view.buffer as ArrayBuffer;
  return view.byteOffset === 0 && view.byteLength === buffer.byteLength ? [buffer] : [];
}
