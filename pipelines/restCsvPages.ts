// A REST delta (salesforce-api.md §4.1-4.3) as COPY-ready pages: each page's records are turned into CSV text as
// soon as the page arrives, while the previous page is being merged, so the load's COPY only sends bytes.
import { pagesFrom, type QueryPage } from '../extractors/restQuery.ts';
import { recordToRow } from '../extractors/recordToRow.ts';
import type { SalesforceHttp } from '../extractors/salesforceHttp.ts';
import type { ObjectSpec } from '../extractors/types.ts';
import { encodeCsvLine } from '../loaders/encodeCsv.ts';

export interface CsvPage {
  records: number;
  /** CSV records in spec.fields order, no header: what copyCsv reads. */
  csv: string;
}

export function csvPageOf(page: QueryPage, spec: ObjectSpec): CsvPage {
  let csv = '';
  for (const record of page.records) csv += encodeCsvLine(recordToRow(record, spec.fields));
  return { records: page.records.length, csv };
}

/** `first` and the rest of its query, the next page fetched and encoded ahead; onPage counts records as they come. */
export function restCsvPages(http: SalesforceHttp, spec: ObjectSpec, first: QueryPage, onPage?: (records: number) => void): AsyncGenerator<CsvPage> {
  const map = (page: QueryPage) => {
    onPage?.(page.records.length);
    return csvPageOf(page, spec);
  };
  return pagesFrom(http, first, { prefetch: true, map });
}
