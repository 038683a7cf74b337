// A REST delta (salesforce-api.md §4.1-4.3) as COPY-ready pages. The first page is parsed here: its totalSize
// decides between REST and Bulk, this thread is otherwise only checking the table, and most nightly deltas are one
// page. The bytes of every later page go to a worker thread (csvPageWorker.ts), started only when there is a second
// page (it boots while that page is fetched), which parses them with exact numbers and encodes CSV while this
// thread runs the COPY and merge of the page before: the load's statements are never held up by a page being parsed.
import { Worker } from 'node:worker_threads';
import { followPages, queryPath } from '../../extractors/rest/query.ts';
import type { SalesforceHttp } from '../../extractors/client/salesforceHttp.ts';
import type { FieldSpec } from '../../schemas/records.ts';
import { DataError, SfsyncError } from '../../lib/errors.ts';
import { type CsvPage, type EncodedPage, encodePage, ownBuffer } from '../../transforms/csvPage.ts';
import type { PageReply, PageRequest } from '../../transforms/csvPageWorker.ts';

export interface RestCsvReader {
  /** Runs the query (queryAll: deleted records too, §4.5) and returns its first page, encoded. */
  first(soql: string): Promise<EncodedPage>;
  /** `first` and the rest of its query, the next page fetched and encoded while the consumer loads this one. */
  pages(first: EncodedPage, onPage?: (records: number) => void): AsyncGenerator<CsvPage>;
  /** Cancels the requests in flight, stops the worker if one started (pages still being encoded are rejected) and
   * refuses new work. */
  close(): Promise<void>;
}

/**
 * §4.1: Salesforce writes totalSize, done and nextRecordsUrl before records, so the link is in a page's first bytes.
 * Only top-level keys come before the first `"records"` (a child subquery's own link lies inside the records), and
 * the link is a path with nothing to escape. A page laid out otherwise gives no guess.
 */
export function peekNextRecordsUrl(page: Uint8Array): string | undefined {
  const head = Buffer.from(page.buffer, page.byteOffset, Math.min(page.byteLength, 2048)).toString('latin1');
  const records = head.indexOf('"records"');
  if (records < 0) return undefined;
  return /"nextRecordsUrl"\s*:\s*"([^"\\]+)"/.exec(head.slice(0, records))?.[1];
}

/** The worker: the bundle's own file, or the TypeScript entry through bin/tsxWorker.js when running the sources. */
function startWorker(fields: readonly FieldSpec[]): Worker {
  const here = import.meta.url;
  const data = { fields: fields.map((f) => ({ name: f.name })) };
  if (!here.endsWith('.ts')) return new Worker(new URL('./csvPageWorker.js', here), { workerData: data });
  return new Worker(new URL('../../bin/tsxWorker.js', here), {
    workerData: { ...data, entry: new URL('../../transforms/csvPageWorker.ts', here).href },
  });
}

export function openRestCsvReader(http: SalesforceHttp, fields: readonly FieldSpec[]): RestCsvReader {
  let worker: Worker | undefined;
  const pending = new Map<number, { resolve: (page: EncodedPage) => void; reject: (err: unknown) => void }>();
  let nextId = 0;
  let broken: unknown;
  let closed = false;
  // A closed reader's requests are cancelled: they would spend API calls on an object already finished or failed.
  const cancel = new AbortController();
  const signal = http.signal ? AbortSignal.any([http.signal, cancel.signal]) : cancel.signal;
  const failAll = (err: unknown) => {
    broken ??= err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
    worker?.unref();
  };
  const start = (): Worker => {
    const w = startWorker(fields);
    // Only a worker with pages in hand keeps the process alive.
    w.unref();
    w.on('message', (reply: PageReply) => {
      const p = pending.get(reply.id);
      pending.delete(reply.id);
      if (pending.size === 0) w.unref();
      if (!p) return;
      if ('error' in reply)
        p.reject(
          reply.error.name === 'DataError'
            ? new DataError(reply.error.message)
            : new SfsyncError('WORKER', reply.error.message),
        );
      // Transferred, the Buffer arrives as a plain Uint8Array view.
      else p.resolve({ ...reply, csv: Buffer.from(reply.csv.buffer, reply.csv.byteOffset, reply.csv.byteLength) });
    });
    w.on('error', (err) =>
      failAll(new SfsyncError('WORKER', `the REST page worker failed: ${err.message}`, { cause: err })),
    );
    w.on('exit', () => failAll(new SfsyncError('WORKER', 'the REST page worker stopped')));
    return w;
  };
  const encode = (body: Buffer, url: string): Promise<EncodedPage> => {
    if (broken) return Promise.reject(broken);
    worker ??= start();
    const id = nextId++;
    const request: PageRequest = { id, body, url };
    worker.ref();
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker!.postMessage(request, ownBuffer(body));
    });
  };
  const getBytes = (path: string) => {
    const bytes = http.getBytes(path, { signal });
    // A guess nobody asks for (below) is dropped; its failure must not go unhandled.
    bytes.catch(() => {});
    return bytes;
  };
  // The page after this one is requested as soon as this one's bytes are in (its link read from them), not once the
  // worker has parsed it: fetching and parsing overlap. Pages are still followed by the parsed link (followPages);
  // a guess it does not ask for is dropped.
  let guess: { path: string; bytes: Promise<Buffer> } | undefined;
  const fetchPage = async (path: string) => {
    const bytes = guess?.path === path ? guess.bytes : getBytes(path);
    guess = undefined;
    const body = await bytes;
    const next = peekNextRecordsUrl(body);
    if (next !== undefined && next !== path && !closed) guess = { path: next, bytes: getBytes(next) };
    return encode(body, path);
  };
  const refused = () => new SfsyncError('WORKER', 'the REST page reader is closed');
  return {
    async first(soql) {
      if (closed) throw refused();
      const path = queryPath(soql, true);
      const asked = performance.now();
      const text = await http.getText(path, { signal });
      const arrived = performance.now();
      const page = encodePage(text, path, fields);
      http.log.debug(
        {
          records: page.records,
          totalSize: page.totalSize,
          fetchMs: Math.round(arrived - asked),
          encodeMs: Math.round(performance.now() - arrived),
        },
        'first REST page',
      );
      return page;
    },
    pages(first, onPage) {
      // The worker boots (~50 ms) while the second page is on its way.
      if (!first.done && !closed && !broken) worker ??= start();
      const map = (page: EncodedPage): CsvPage => {
        onPage?.(page.records);
        return { records: page.records, csv: page.csv };
      };
      return followPages(fetchPage, first, { prefetch: true, map, records: (page) => page.records });
    },
    async close() {
      closed = true;
      cancel.abort(refused());
      failAll(refused());
      await worker?.terminate();
    },
  };
}
