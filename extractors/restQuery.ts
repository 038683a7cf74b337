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

/**
 * Every page of a query, in order; follows nextRecordsUrl verbatim (§4.1) and stops on done. With `prefetch`, the
 * next page is requested as soon as a page arrives, so the server's time overlaps the consumer's (parse, COPY);
 * only for consumers that read to the end, since an early stop then wastes one API call.
 */
export async function* queryPages(http: SalesforceHttp, soql: string, opts: RestQueryOptions & { prefetch?: boolean } = {}): AsyncGenerator<QueryPage> {
  const headers = opts.batchSize ? { 'Sforce-Query-Options': `batchSize=${opts.batchSize}` } : undefined;
  const fetchPage = async (path: string) => parseQueryPage(await http.getText(path, { headers }), path);
  let path: string | undefined = firstPath(soql, opts.all);
  let ahead: Promise<QueryPage> | undefined;
  while (path !== undefined) {
    const page: QueryPage = await (ahead ?? fetchPage(path));
    path = page.done ? undefined : page.nextRecordsUrl;
    ahead = opts.prefetch && path !== undefined ? fetchPage(path) : undefined;
    // Its error surfaces when it is awaited; a consumer that stops first must not leave it unhandled.
    ahead?.catch(() => {});
    yield page;
  }
}

/** The rows of each page, one array per page, in spec.fields order; the next page is prefetched. */
export async function* restQueryRowPages(http: SalesforceHttp, soql: string, spec: ObjectSpec, opts: RestQueryOptions = {}): AsyncGenerator<Row[]> {
  for await (const page of queryPages(http, soql, { ...opts, prefetch: true })) {
    opts.onPage?.(page.records.length);
    yield page.records.map((record) => recordToRow(record, spec.fields));
  }
}

export async function* restQueryRows(http: SalesforceHttp, soql: string, spec: ObjectSpec, opts: RestQueryOptions = {}): AsyncGenerator<Row> {
  for await (const rows of restQueryRowPages(http, soql, spec, opts)) yield* rows;
}

/** §4.4: `SELECT COUNT() ...` -> totalSize. */
export async function countRecords(http: SalesforceHttp, soql: string, opts: { all?: boolean } = {}): Promise<number> {
  const path = firstPath(soql, opts.all);
  return parseQueryPage(await http.getText(path), path).totalSize;
}
