// REST query/queryAll with nextRecordsUrl paging (docs/salesforce.md#rest-query-paging, #rest-record-json,
// #select-count), at most one page ahead of the consumer, parsed exactly so currency/double values keep every digit.
import { DataError } from '../../lib/errors.ts';
import { numberMarkerFor, parseJsonNumbersAsText, parseJsonNumbersMarked } from './exactJson.ts';
import type { SalesforceHttp } from '../client/salesforceHttp.ts';
import { apiPath, fitsInUri } from '../client/uriLength.ts';

export interface RestQueryOptions {
  /** queryAll (docs/salesforce.md#queryall-and-deleted-records: includes IsDeleted = true rows) instead of query. */
  all?: boolean;
  /** docs/salesforce.md#rest-query-paging: Sforce-Query-Options batchSize, 200..2000, a hint only. */
  batchSize?: number;
  /** Called with each page's record count as it arrives (a progress display; nothing per record). */
  onPage?: (records: number) => void;
  /** Records may hold nested JSON values (json, complexvalue, anyType fields): mark their numbers (numberMarker). */
  markNumbers?: boolean;
}

export interface QueryPage {
  totalSize: number;
  done: boolean;
  nextRecordsUrl?: string;
  records: Record<string, unknown>[];
  /**
   * With markNumbers: the character that leads every number's text in `records` (exactJson.ts numberMarkerFor), so
   * nested values can be written back as JSON with their numbers; the record's own values still carry it.
   */
  numberMarker?: string;
}

/**
 * Parses and validates one page; numbers inside records keep every digit (exactJson.ts), and with `markNumbers` stay
 * told apart from strings.
 */
export function parseQueryPage(text: string, url: string, opts: { markNumbers?: boolean } = {}): QueryPage {
  let body: unknown;
  const marker = opts.markNumbers ? numberMarkerFor(text) : undefined;
  try {
    body = marker === undefined ? parseJsonNumbersAsText(text) : parseJsonNumbersMarked(text, marker);
  } catch (err) {
    // The parser's reason without the text it quotes after it, which may be a record's value (one to be hashed).
    const reason = (err as Error).message.split(/,? \.\.\."|, "/)[0];
    throw new DataError(`Salesforce query page ${url} is not valid JSON (${reason})`);
  }
  const p = body as { totalSize?: unknown; done?: unknown; nextRecordsUrl?: unknown; records?: unknown } | null;
  const size =
    marker !== undefined && typeof p?.totalSize === 'string' ? p.totalSize.slice(marker.length) : p?.totalSize;
  const totalSize = typeof size === 'string' ? Number(size) : Number.NaN;
  if (!p || typeof p.done !== 'boolean' || !Array.isArray(p.records) || !Number.isInteger(totalSize)) {
    throw new DataError(`Salesforce query page ${url} is not shaped like a query result (totalSize, done, records[])`);
  }
  if (!p.done && typeof p.nextRecordsUrl !== 'string')
    throw new DataError(`Salesforce query page ${url} says done=false but has no nextRecordsUrl`);
  if (!p.records.every((r) => typeof r === 'object' && r !== null && !Array.isArray(r))) {
    throw new DataError(`Salesforce query page ${url} holds a record that is not a JSON object`);
  }
  return {
    totalSize,
    done: p.done,
    nextRecordsUrl: typeof p.nextRecordsUrl === 'string' ? p.nextRecordsUrl : undefined,
    records: p.records as Record<string, unknown>[],
    ...(marker === undefined ? {} : { numberMarker: marker }),
  };
}

/**
 * The path that runs a query (docs/salesforce.md#rest-query-paging): query, or queryAll with deleted records
 * (docs/salesforce.md#queryall-and-deleted-records).
 */
export function queryPath(soql: string, all: boolean | undefined): string {
  return `${all ? 'queryAll' : 'query'}?q=${encodeURIComponent(soql)}`;
}

/**
 * docs/salesforce.md#uri-length: the query fits in a GET's URI (a wide SELECT list may not; SalesforceHttp refuses
 * to send one that does not).
 */
export function restQueryFits(
  http: Pick<SalesforceHttp, 'apiVersion'>,
  soql: string,
  all: boolean | undefined,
): boolean {
  return fitsInUri(apiPath(http.apiVersion, queryPath(soql, all)));
}

async function fetchPage(http: SalesforceHttp, path: string, opts: RestQueryOptions): Promise<QueryPage> {
  const headers = opts.batchSize ? { 'Sforce-Query-Options': `batchSize=${opts.batchSize}` } : undefined;
  return parseQueryPage(await http.getText(path, { headers }), path, { markNumbers: opts.markNumbers });
}

/**
 * Runs the query and returns its first page; totalSize (docs/salesforce.md#rest-query-paging) tells the size of the
 * whole result.
 */
function firstPage(http: SalesforceHttp, soql: string, opts: RestQueryOptions = {}): Promise<QueryPage> {
  return fetchPage(http, queryPath(soql, opts.all), opts);
}

/** What paging needs of a page (docs/salesforce.md#rest-query-paging). */
interface PageLink {
  totalSize: number;
  done: boolean;
  nextRecordsUrl?: string;
}

/**
 * `first` and the pages after it, in order, each passed through `map`; follows nextRecordsUrl verbatim
 * (docs/salesforce.md#rest-query-paging) and stops on done. With `prefetch`, the next page is requested, and mapped,
 * when the consumer takes a page, so the server's time and the mapping overlap the consumer's (COPY, merge); only for
 * consumers that read to the end, since an early stop then wastes one API call. `records` counts a page's records:
 * totalSize (docs/salesforce.md#rest-query-paging) is the total across all pages, so pages that hold more (a page
 * served twice) or, by done, fewer (a page skipped, which a watermark would then pass) are a DataError, not a load.
 */
export async function* followPages<P extends PageLink, T>(
  fetch: (path: string) => Promise<P>,
  first: P,
  opts: { prefetch?: boolean; map: (page: P) => T; records: (page: P) => number },
): AsyncGenerator<T> {
  let seen = 0;
  const check = (page: P, where: string) => {
    seen += opts.records(page);
    if (seen > first.totalSize || (page.done && seen !== first.totalSize)) {
      const held = page.done ? 'in all' : `up to ${where}`;
      throw new DataError(
        `Salesforce query pages hold ${seen} records ${held}, but the query's totalSize is ${first.totalSize}`,
      );
    }
  };
  // Only the link to the next page is kept, not the records: they are garbage once mapped.
  const load = async (path: string) => {
    const page = await fetch(path);
    check(page, `page ${path}`);
    return { next: page.done ? undefined : page.nextRecordsUrl, value: opts.map(page) };
  };
  check(first, 'the first page');
  let current = { next: first.done ? undefined : first.nextRecordsUrl, value: opts.map(first) };
  for (;;) {
    const { next } = current;
    const ahead = opts.prefetch && next !== undefined ? load(next) : undefined;
    // Its error surfaces when it is awaited; a consumer that stops first must not leave it unhandled.
    ahead?.catch(() => {});
    yield current.value;
    if (next === undefined) return;
    current = await (ahead ?? load(next));
  }
}

/** Every page of a query, in order; with `prefetch` the next page is fetched while the consumer holds this one. */
export async function* queryPages(
  http: SalesforceHttp,
  soql: string,
  opts: RestQueryOptions & { prefetch?: boolean } = {},
): AsyncGenerator<QueryPage> {
  const first = await firstPage(http, soql, opts);
  yield* followPages((path) => fetchPage(http, path, opts), first, {
    prefetch: opts.prefetch,
    map: (page) => {
      opts.onPage?.(page.records.length);
      return page;
    },
    records: (page) => page.records.length,
  });
}

/**
 * Salesforce writes totalSize, done and nextRecordsUrl before records, so the link is in a page's first bytes
 * (docs/salesforce.md#rest-query-paging). Only top-level keys come before the first `"records"` (a child
 * subquery's own link lies inside the records), and the link is a path with nothing to escape. A page laid out
 * otherwise gives no guess.
 */
export function peekNextRecordsUrl(page: Uint8Array): string | undefined {
  const head = Buffer.from(page.buffer, page.byteOffset, Math.min(page.byteLength, 2048)).toString('latin1');
  const records = head.indexOf('"records"');
  if (records < 0) return undefined;
  return /"nextRecordsUrl"\s*:\s*"([^"\\]+)"/.exec(head.slice(0, records))?.[1];
}

/**
 * Page bytes by path, the page after each one requested as soon as its bytes are in (its link read from them), so
 * fetching overlaps whatever the consumer does with a page (parsing, COPY, merge). The consumer still follows the
 * parsed link (followPages); a guess it does not ask for is dropped.
 */
export function pageBytesAhead(http: SalesforceHttp, signal: AbortSignal): (path: string) => Promise<Buffer> {
  const get = (path: string) => {
    const bytes = http.getBytes(path, { signal });
    // A guess nobody asks for is dropped; its failure must not go unhandled.
    bytes.catch(() => {});
    return bytes;
  };
  let guess: { path: string; bytes: Promise<Buffer> } | undefined;
  return async (path) => {
    const bytes = guess?.path === path ? guess.bytes : get(path);
    guess = undefined;
    const body = await bytes;
    const next = peekNextRecordsUrl(body);
    if (next !== undefined && next !== path && !signal.aborted) guess = { path: next, bytes: get(next) };
    return body;
  };
}

/** docs/salesforce.md#select-count: `SELECT COUNT() ...` -> totalSize. */
export async function countRecords(http: SalesforceHttp, soql: string, opts: { all?: boolean } = {}): Promise<number> {
  return (await firstPage(http, soql, opts)).totalSize;
}
