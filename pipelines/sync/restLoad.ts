// A REST load (docs/salesforce.md#rest-query-paging): the delta's query, page by page, into one commitLoad. The
// first page is parsed here: its totalSize decides between REST and Bulk, and most nightly deltas are one page. Every
// later page goes to a worker thread (transforms/restPage.ts), started only when there is a second page (it boots
// while that page is fetched), which parses it with exact numbers and encodes CSV while this thread runs the COPY
// and merge of the page before: the load's statements are never held up by a page being parsed.
import { Worker } from 'node:worker_threads';
import type pg from 'pg';
import { buildSelect } from '../../extractors/soql.ts';
import type { ObjectSpec } from '../../schemas/records.ts';
import type { RunContext } from '../runtime/runContext.ts';
import { type CommitRequest, type CommitResult, commitLoad, noTotals, type Source } from './commitLoad.ts';
import type { Plan } from './plan.ts';
import { followPages, pageBytesAhead, queryPath } from '../../extractors/rest/query.ts';
import type { SalesforceHttp } from '../../extractors/client/salesforceHttp.ts';
import type { FieldSpec } from '../../schemas/records.ts';
import { DataError, WorkerError } from '../../lib/errors.ts';
import {
  type CsvPage,
  type EncodedPage,
  encodePage,
  ownBuffer,
  PAGE_WORKER,
  type PageReply,
  type PageRequest,
} from '../../transforms/restPage.ts';

export interface RestCsvReader {
  /**
   * Runs the query (queryAll: deleted records too, docs/salesforce.md#queryall-and-deleted-records) and returns its
   * first page, encoded.
   */
  first(soql: string): Promise<EncodedPage>;
  /** `first` and the rest of its query, the next page fetched and encoded while the consumer loads this one. */
  pages(first: EncodedPage, onPage?: (records: number) => void): AsyncGenerator<CsvPage>;
  /** Cancels the requests in flight, stops the worker if one started (pages still being encoded are rejected) and
   * refuses new work. */
  close(): Promise<void>;
}

/** The worker: the bundle's own file, or the TypeScript entry through bin/tsxWorker.js when running the sources. */
function startWorker(fields: readonly FieldSpec[], hashKey: string | null): Worker {
  const here = import.meta.url;
  // Only what recordToRow reads: the name, the types that say whether a value may be nested JSON, whether it is
  // hashed, and then the key (only for an object that hashes columns).
  const hashes = fields.some((f) => f.hashed);
  const data = {
    role: PAGE_WORKER,
    fields: fields.map((f) => ({ name: f.name, sfType: f.sfType, pgType: f.pgType, hashed: f.hashed })),
    hashKey: hashes ? hashKey : null,
  };
  if (!here.endsWith('.ts')) return new Worker(new URL('./restPage.js', here), { workerData: data });
  return new Worker(new URL('../../bin/tsxWorker.js', here), {
    workerData: { ...data, entry: new URL('../../transforms/restPage.ts', here).href },
  });
}

/** `hashKey`: SFSYNC_HASH_KEY, for fields the config hashes (transforms/hashValue.ts). */
export function openRestCsvReader(
  http: SalesforceHttp,
  fields: readonly FieldSpec[],
  hashKey: string | null = null,
): RestCsvReader {
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
    const w = startWorker(fields, hashKey);
    // Only a worker with pages in hand keeps the process alive.
    w.unref();
    w.on('message', (reply: PageReply) => {
      const p = pending.get(reply.id);
      pending.delete(reply.id);
      if (pending.size === 0) w.unref();
      if (!p) return;
      if ('error' in reply)
        p.reject(
          reply.error.name === 'DataError' ? new DataError(reply.error.message) : new WorkerError(reply.error.message),
        );
      // Transferred, the Buffer arrives as a plain Uint8Array view.
      else p.resolve({ ...reply, csv: Buffer.from(reply.csv.buffer, reply.csv.byteOffset, reply.csv.byteLength) });
    });
    w.on('error', (err) => failAll(new WorkerError(`the REST page worker failed: ${err.message}`, { cause: err })));
    w.on('exit', () => failAll(new WorkerError('the REST page worker stopped')));
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
  const pageBytes = pageBytesAhead(http, signal);
  const fetchPage = async (path: string) => encode(await pageBytes(path), path);
  const refused = () => new WorkerError('the REST page reader is closed');
  return {
    async first(soql) {
      if (closed) throw refused();
      const path = queryPath(soql, true);
      const asked = performance.now();
      const text = await http.getText(path, { signal });
      const arrived = performance.now();
      const page = encodePage(text, path, fields, hashKey);
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

/**
 * docs/salesforce.md#queryall-and-deleted-records: queryAll (deleted records too) in cursor order, from the plan's
 * lower bound.
 */
export const restSoql = (spec: ObjectSpec, plan: Plan) =>
  buildSelect(spec, { window: { from: plan.from, delta: true }, orderByCursor: true });

/** `first`: the query's first page when load() already asked for it; used once (a second open re-runs the query). */
export async function loadRest(
  ctx: RunContext,
  client: pg.PoolClient,
  spec: ObjectSpec,
  plan: Plan,
  runId: number,
  extras: Pick<CommitRequest, 'serverNow' | 'overlapMinutes' | 'deletes'>,
  reader: RestCsvReader,
  first?: EncodedPage,
): Promise<CommitResult & { via: 'rest' }> {
  let opened = first;
  const open = (): Source => {
    const live = { records: 0 };
    ctx.progress?.update(spec.name, { phase: 'rest', records: 0, live });
    const onPage = (n: number) => {
      live.records += n;
    };
    const start = opened;
    opened = undefined;
    const pages = (async function* () {
      yield* reader.pages(start ?? (await reader.first(restSoql(spec, plan))), onPage);
    })();
    return { kind: 'pages', pages };
  };
  const result = await commitLoad(ctx, client, {
    spec,
    mode: plan.mode,
    runId,
    window: {},
    planFrom: plan.from,
    open,
    bulkJobIds: [],
    before: noTotals(),
    ...extras,
  });
  return { ...result, via: 'rest' };
}
