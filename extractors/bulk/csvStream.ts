// THE hot path: every Bulk API 2.0 result page (docs/salesforce.md#bulk-api-20-query-results) as ONE CSV byte stream
// without the per-page header rows, ready for COPY. No CSV parsing and no per-record JavaScript: bytes pass through
// untouched after each page's header line is checked. Pull-based, so memory stays flat. On API 58.0+ pages can be
// listed by resultPages (docs/salesforce.md#bulk-api-20-parallel-results) and downloaded several at once, still emitted
// strictly in page order. Over 300 lines because both orders share one page protocol (header check, same-URL retry,
// page joins, counters).
import { Readable } from 'node:stream';
import { DataError } from '../../lib/errors.ts';
import { retryDelay, sleep } from '../../lib/retry.ts';
import { PageDownload } from './pageDownload.ts';
import { type ResultPageList, openResultPages } from './resultPages.ts';
import { isTransient } from '../client/retry.ts';
import type { SalesforceApiError } from '../../lib/errors.ts';
import type { SalesforceHttp } from '../client/salesforceHttp.ts';

const NL = 0x0a;
const NL_BUF = Buffer.from('\n');
/** A header line is a list of API names; anything this long means the body is not what we asked for. */
const MAX_HEADER_BYTES = 1024 * 1024;

export interface BulkCsvOptions {
  /**
   * API names in SELECT order (docs/salesforce.md#bulk-api-20-csv-format: the header echoes them, each double-quoted).
   */
  expectedHeader: readonly string[];
  /** docs/salesforce.md#bulk-api-20-query-results: page size hint. */
  maxRecords?: number;
  signal?: AbortSignal;
  /** Send Accept-Encoding: gzip (docs/salesforce.md#bulk-api-20-query-results). */
  gzip?: boolean;
  /**
   * docs/salesforce.md#bulk-api-20-parallel-results (API 58.0+): pages downloaded at once, listed by resultPages; 1 =
   * the Sforce-Locator loop (docs/salesforce.md#bulk-api-20-query-results), which is also the fallback below API 58.0
   * or when resultPages answers 404. Default DEFAULT_BULK_PARALLEL.
   */
  parallel?: number;
  /** Per page downloading ahead of its turn: bytes queued before its download pauses. Default: 64 MiB. */
  pageBufferBytes?: number;
}

/**
 * One page at a time: locally, parallel pages did not speed the sync up (COPY is the bottleneck) and raised its peak
 * memory (docs/benchmarks.md#bulk-result-pages-sequential-by-default). Across a real network `parallel: 3` is worth
 * trying.
 */
export const DEFAULT_BULK_PARALLEL = 1;
const DEFAULT_PAGE_BUFFER_BYTES = 64 * 1024 * 1024;

export interface BulkCsvCounters {
  /** Pages completely read (emitted downstream): a progress figure. */
  readonly pages: number;
  /** Total pages, once known (the last resultPages listing arrived, or the last locator page was read). */
  readonly pagesTotal: number | undefined;
  /** Body bytes received (headers excluded); with parallel downloads this runs ahead of what was emitted. */
  readonly bytes: number;
  /** Sum of Sforce-NumberOfRecords over emitted pages: what COPY must count (a truncated body must fail). */
  readonly records: number;
}

/**
 * docs/salesforce.md#bulk-api-20-csv-format: `"Id","Name"` (tolerates unquoted names, a trailing CR and a UTF-8 BOM).
 */
export function parseHeaderLine(line: string): string[] {
  const text = line.replace(/^\uFEFF/, '').replace(/\r$/, '');
  return text.split(',').map((name) => name.replace(/^"(.*)"$/, '$1'));
}

/** SOQL names are case-insensitive, so the header is compared case-insensitively. */
export function checkHeader(line: string, expected: readonly string[], where: string): void {
  const got = parseHeaderLine(line);
  const same = got.length === expected.length && got.every((g, i) => g.toLowerCase() === expected[i]!.toLowerCase());
  if (!same)
    throw new DataError(
      `${where}: CSV header does not match the requested fields: expected ${expected.join(',')}; got ${got.join(',')}`,
    );
}

/** Collects bytes up to the first newline: the header line and whatever body bytes followed it in that chunk. */
export class HeaderSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  done = false;

  /** Returns undefined until the newline has arrived. */
  feed(chunk: Buffer): { header: string; rest: Buffer } | undefined {
    const at = chunk.indexOf(NL);
    if (at === -1) {
      this.parts.push(chunk);
      this.size += chunk.length;
      if (this.size > MAX_HEADER_BYTES)
        throw new DataError(`Bulk result page has no header line within ${MAX_HEADER_BYTES} bytes`);
      return undefined;
    }
    this.done = true;
    const header = Buffer.concat([...this.parts, chunk.subarray(0, at)]).toString('utf8');
    this.parts = [];
    return { header, rest: chunk.subarray(at + 1) };
  }

  /** At end of body: a header-only page may lack its final newline. */
  finish(): string | undefined {
    if (this.done || this.size === 0) return undefined;
    this.done = true;
    return Buffer.concat(this.parts).toString('utf8');
  }
}

interface Shared {
  pages: number;
  pagesTotal: number | undefined;
  bytes: number;
  records: number;
  /** Response bodies being read: destroying the stream destroys them all. */
  open: Set<Readable>;
  cancelled: boolean;
  /** Last byte handed downstream: a page that does not end in a newline gets one before the next page's rows. */
  lastByte: number;
}

function resultsPath(jobId: string, locator: string | null, maxRecords: number | undefined): string {
  const q = new URLSearchParams();
  if (locator !== null) q.set('locator', locator);
  if (maxRecords !== undefined) q.set('maxRecords', String(maxRecords));
  const qs = q.toString();
  return `jobs/query/${jobId}/results${qs ? `?${qs}` : ''}`;
}

interface PageResult {
  records: number;
  next: string | null;
  /** The server answered 2xx: a failure after this is in the body, which only a page-level retry can repair. */
  responded: boolean;
}

/**
 * One attempt at one page: the page's body bytes after its checked header, as sent (copyCsv strips NUL bytes).
 * `emitted` = body bytes of this page already taken by earlier attempts: docs/salesforce.md#bulk-api-20-query-results
 * locator pages are stable, so a re-request skips exactly those bytes and never duplicates a row.
 */
async function* readPage(
  http: SalesforceHttp,
  path: string,
  opts: BulkCsvOptions,
  s: Shared,
  where: string,
  emitted: { n: number },
  result: PageResult,
): AsyncGenerator<Buffer> {
  const headers = { Accept: 'text/csv', 'Accept-Encoding': opts.gzip === false ? 'identity' : 'gzip' };
  const res = await http.getStream(path, { headers, signal: opts.signal });
  s.open.add(res.data);
  let complete = false;
  try {
    result.responded = true;
    const splitter = new HeaderSplitter();
    let offset = 0;
    // docs/salesforce.md#timeouts: a page whose body stalls fails with ETIMEDOUT and is re-requested (pageBody).
    for await (const raw of res.chunks()) {
      let body = raw;
      if (!splitter.done) {
        const split = splitter.feed(raw);
        if (!split) continue;
        checkHeader(split.header, opts.expectedHeader, where);
        body = split.rest;
      }
      const start = Math.max(0, emitted.n - offset);
      offset += body.length;
      if (start >= body.length) continue;
      const out = start > 0 ? body.subarray(start) : body;
      emitted.n += out.length;
      s.bytes += out.length;
      yield out;
    }
    const lastHeader = splitter.finish();
    if (lastHeader !== undefined) checkHeader(lastHeader, opts.expectedHeader, where);
    const count = Number(res.headers['sforce-numberofrecords'] ?? Number.NaN);
    if (!Number.isInteger(count)) throw new DataError(`${where}: response lacks a valid Sforce-NumberOfRecords header`);
    if (!splitter.done && count > 0) throw new DataError(`${where}: empty body but Sforce-NumberOfRecords = ${count}`);
    result.records = count;
    const locator = res.headers['sforce-locator'];
    // docs/salesforce.md#bulk-api-20-query-results: the literal string "null" (or a missing header) ends the loop.
    result.next = locator === undefined || locator === '' || locator === 'null' ? null : locator;
    complete = true;
  } finally {
    s.open.delete(res.data);
    if (!complete) res.data.destroy();
  }
}

/** Every attempt at one page, retrying a transient failure at the same URL without repeating a byte. */
async function* pageBody(
  http: SalesforceHttp,
  path: string,
  opts: BulkCsvOptions,
  s: Shared,
  jobId: string,
  page: number,
  result: PageResult,
): AsyncGenerator<Buffer> {
  const where = `Bulk job ${jobId} page ${page}`;
  const emitted = { n: 0 };
  // Bounded like a call (DEFAULT_HTTP_RETRY): tries, and the waits between them; each try is bounded by the timeouts.
  let waited = 0;
  for (let attempt = 0; ; attempt++) {
    if (s.cancelled) throw new Error(`${where}: stream destroyed`);
    result.responded = false;
    try {
      yield* readPage(http, path, opts, s, where, emitted, result);
      return;
    } catch (err) {
      // A request that got no 2xx answer was already retried by SalesforceHttp: retrying it again here would
      // multiply the attempts (5 x 5) and the time bound.
      if (s.cancelled || !result.responded || !isTransient(err) || attempt + 1 >= http.retry.attempts) throw err;
      const delay = retryDelay(attempt, (err as SalesforceApiError).retryAfterMs, http.retry.backoff);
      if (waited + delay > http.retry.maxWaitMs) throw err;
      waited += delay;
      http.log.warn(
        { jobId, page, emitted: emitted.n, retry: attempt + 1, delayMs: delay, err: (err as Error).message },
        'Bulk result page failed; re-requesting the same locator',
      );
      await (http.retry.sleep ?? sleep)(delay, opts.signal);
    }
  }
}

/**
 * A page's bytes as they join the stream: a page that does not end in a newline gets one before the next page's rows.
 */
async function* joinPage(chunks: AsyncIterable<Buffer>, s: Shared): AsyncGenerator<Buffer> {
  let first = true;
  for await (const chunk of chunks) {
    if (first && s.lastByte !== NL) yield NL_BUF;
    first = false;
    s.lastByte = chunk[chunk.length - 1]!;
    yield chunk;
  }
}

function newResult(): PageResult {
  return { records: 0, next: null, responded: false };
}

/** docs/salesforce.md#bulk-api-20-query-results: page after page by Sforce-Locator. */
async function* sequentialPages(
  http: SalesforceHttp,
  jobId: string,
  opts: BulkCsvOptions,
  s: Shared,
): AsyncGenerator<Buffer> {
  let locator: string | null = null;
  for (let page = 1; ; page++) {
    const result = newResult();
    yield* joinPage(pageBody(http, resultsPath(jobId, locator, opts.maxRecords), opts, s, jobId, page, result), s);
    s.pages++;
    s.records += result.records;
    if (result.next === null) {
      s.pagesTotal = s.pages;
      return;
    }
    locator = result.next;
  }
}

/**
 * docs/salesforce.md#bulk-api-20-parallel-results: up to `width` pages downloading at once (the one being emitted
 * included); bytes leave strictly in page order. A page starts only when an earlier one has been emitted, so at most
 * `width` pages are held.
 */
async function* parallelPages(
  http: SalesforceHttp,
  jobId: string,
  opts: BulkCsvOptions,
  s: Shared,
  list: ResultPageList,
  width: number,
): AsyncGenerator<Buffer> {
  const inFlight: { download: PageDownload; result: PageResult }[] = [];
  let head: (typeof inFlight)[number] | undefined;
  const maxBytes = opts.pageBufferBytes ?? DEFAULT_PAGE_BUFFER_BYTES;
  let started = 0;
  try {
    for (;;) {
      while (inFlight.length < width) {
        const url = await list.next();
        if (url === null) break;
        const result = newResult();
        inFlight.push({
          download: new PageDownload(pageBody(http, url, opts, s, jobId, ++started, result), maxBytes),
          result,
        });
      }
      s.pagesTotal = list.total;
      head = inFlight.shift();
      if (!head) return;
      yield* joinPage(head.download.chunks(), s);
      s.pages++;
      s.records += head.result.records;
    }
  } finally {
    // Early exit (error, destroy): pages still downloading stop; their responses are destroyed with the stream.
    head?.download.cancel();
    for (const p of inFlight) p.download.cancel();
  }
}

async function* allPages(http: SalesforceHttp, jobId: string, opts: BulkCsvOptions, s: Shared): AsyncGenerator<Buffer> {
  const width = Math.max(1, Math.floor(opts.parallel ?? DEFAULT_BULK_PARALLEL));
  const list =
    width > 1 ? await openResultPages(http, jobId, { maxRecords: opts.maxRecords, signal: opts.signal }) : null;
  if (list === null) yield* sequentialPages(http, jobId, opts, s);
  else yield* parallelPages(http, jobId, opts, s, list, width);
}

class BulkCsvReadable extends Readable implements BulkCsvCounters {
  private readonly shared: Shared = {
    pages: 0,
    pagesTotal: undefined,
    bytes: 0,
    records: 0,
    open: new Set(),
    cancelled: false,
    lastByte: NL,
  };
  private readonly chunks: AsyncGenerator<Buffer>;
  private pulling = false;

  constructor(http: SalesforceHttp, jobId: string, opts: BulkCsvOptions) {
    super();
    this.chunks = allPages(http, jobId, opts, this.shared);
    opts.signal?.addEventListener('abort', () => this.destroy(opts.signal?.reason as Error), { once: true });
  }

  get pages(): number {
    return this.shared.pages;
  }
  get pagesTotal(): number | undefined {
    return this.shared.pagesTotal;
  }
  get bytes(): number {
    return this.shared.bytes;
  }
  get records(): number {
    return this.shared.records;
  }

  override _read(): void {
    if (this.pulling) return;
    this.pulling = true;
    this.chunks.next().then(
      (r) => {
        this.pulling = false;
        this.push(r.done ? null : r.value);
      },
      (err: Error) => {
        this.pulling = false;
        this.destroy(err);
      },
    );
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    this.shared.cancelled = true;
    for (const body of this.shared.open) body.destroy();
    this.chunks.return(undefined).catch(() => {});
    cb(err);
  }
}

export type BulkCsvStream = Readable & BulkCsvCounters;

/** All result pages of a JobComplete job as one headerless CSV stream (LF line endings, as the job was created). */
export function bulkCsvStream(http: SalesforceHttp, jobId: string, opts: BulkCsvOptions): BulkCsvStream {
  return new BulkCsvReadable(http, jobId, opts);
}
