// REST query/queryAll with nextRecordsUrl paging (salesforce-api.md §4.1-4.4). Pages are fetched only when the
// consumer pulls the next row, and parsed exactly so currency/double values keep every digit.
import { DataError } from '../lib/errors.ts';
import { parseJsonNumbersAsText } from './exactJson.ts';
import { recordToRow } from './recordToRow.ts';
import type { SalesforceHttp } from './salesforceHttp.ts';
import type { ObjectSpec, Row } from './types.ts';

export interface RestQueryOptions {
  /** queryAll (§4.5: includes IsDeleted = true rows) instead of query. */
  all?: boolean;
  /** §4.2: Sforce-Query-Options batchSize, 200..2000, a hint only. */
  batchSize?: number;
  /** Called with each page's record count as it arrives (a progress display; nothing per record). */
  onPage?: (records: number) => void;
}

export interface QueryPage {
  totalSize: number;
  done: boolean;
  nextRecordsUrl?: string;
  records: Record<string, unknown>[];
}

/** Parses and validates one page; numbers inside records keep every digit (exactJson.ts). */
export function parseQueryPage(text: string, url: string): QueryPage {
  let body: unknown;
  try {
    body = parseJsonNumbersAsText(text);
  } catch (err) {
    throw new DataError(`Salesforce query page ${url} is not valid JSON (${(err as Error).message})`);
  }
  const p = body as { totalSize?: unknown; done?: unknown; nextRecordsUrl?: unknown; records?: unknown } | null;
  const totalSize = typeof p?.totalSize === 'string' ? Number(p.totalSize) : Number.NaN;
  if (!p || typeof p.done !== 'boolean' || !Array.isArray(p.records) || !Number.isInteger(totalSize)) {
    throw new DataError(`Salesforce query page ${url} is not shaped like a query result (totalSize, done, records[])`);
  }
  if (!p.done && typeof p.nextRecordsUrl !== 'string') throw new DataError(`Salesforce query page ${url} says done=false but has no nextRecordsUrl`);
  return { totalSize, done: p.done, nextRecordsUrl: typeof p.nextRecordsUrl === 'string' ? p.nextRecordsUrl : undefined, records: p.records as Record<string, unknown>[] };
}

function firstPath(soql: string, all: boolean | undefined): string {
  return `${all ? 'queryAll' : 'query'}?q=${encodeURIComponent(soql)}`;
}

/** Every page of a query, in order; follows nextRecordsUrl verbatim (§4.1) and stops on done. */
export async function* queryPages(http: SalesforceHttp, soql: string, opts: RestQueryOptions = {}): AsyncGenerator<QueryPage> {
  const headers = opts.batchSize ? { 'Sforce-Query-Options': `batchSize=${opts.batchSize}` } : undefined;
  let path: string | undefined = firstPath(soql, opts.all);
  while (path !== undefined) {
    const page = parseQueryPage(await http.getText(path, { headers }), path);
    yield page;
    path = page.done ? undefined : page.nextRecordsUrl;
  }
}

export async function* restQueryRows(http: SalesforceHttp, soql: string, spec: ObjectSpec, opts: RestQueryOptions = {}): AsyncGenerator<Row> {
  for await (const page of queryPages(http, soql, opts)) {
    opts.onPage?.(page.records.length);
    for (const record of page.records) yield recordToRow(record, spec.fields);
  }
}

/** §4.4: `SELECT COUNT() ...` -> totalSize. */
export async function countRecords(http: SalesforceHttp, soql: string, opts: { all?: boolean } = {}): Promise<number> {
  const path = firstPath(soql, opts.all);
  return parseQueryPage(await http.getText(path), path).totalSize;
}
