// Bulk API 2.0 query jobs (docs/salesforce.md#bulk-api-20-query-jobs): create (validated with the SOQL planner), a
// timed lifecycle over a snapshot taken when processing starts, and result pages streamed as CSV with backpressure
// (plain or gzip).
import type { ServerResponse } from 'node:http';
import type { Writable } from 'node:stream';
import { createGzip } from 'node:zlib';
import {
  type BulkDeps,
  DELIMITERS,
  type JobState,
  LINE_ENDINGS,
  drained,
  isTerminal,
  jobFormat,
  jobJson,
  newJobId,
  quoteCsv,
  stateCode,
} from './bulkJobs.ts';
import { type Ctx, HttpError, readJson, restDateTime, sendEmpty, sendJsonText } from './http.ts';
import { collectSlots, soqlFailure } from './queryResults.ts';
import { planSoql } from './soql.ts';
import type { ObjectSnapshot, OrgStore, QueryPlan } from './types.ts';

/** Rows per write, in characters: 32 KiB streamed fastest (docs/benchmarks.md#emulator-bulk-csv-write-chunk). */
const CHUNK_CHARS = 32 * 1024;

interface QueryJob {
  id: string;
  operation: 'query' | 'queryAll';
  object: string;
  createdById: string;
  createdDate: string;
  systemModstamp: string;
  state: JobState;
  apiVersion: string;
  columnDelimiter: string;
  lineEnding: string;
  plan: QueryPlan;
  failure?: { message?: string };
  errorMessage?: string;
  snapshot?: ObjectSnapshot;
  slots?: Int32Array;
  count: number;
  startedAt: number;
  totalProcessingTime: number;
  timer?: NodeJS.Timeout;
}

export function createBulkQuery(deps: BulkDeps) {
  const jobs = new Map<string, QueryJob>();

  const touch = (job: QueryJob, state: JobState) => {
    job.state = state;
    job.systemModstamp = restDateTime(deps.store.now());
  };

  const info = (job: QueryJob) => {
    const base: Record<string, unknown> = {
      id: job.id,
      operation: job.operation,
      object: job.object,
      createdById: job.createdById,
      createdDate: job.createdDate,
      systemModstamp: job.systemModstamp,
      state: job.state,
      concurrencyMode: 'Parallel',
      contentType: 'CSV',
      apiVersion: job.apiVersion,
      jobType: 'V2Query',
      lineEnding: job.lineEnding,
      columnDelimiter: job.columnDelimiter,
      numberRecordsProcessed: job.state === 'JobComplete' ? job.count : 0,
      retries: 0,
      totalProcessingTime: job.totalProcessingTime,
      isPkChunkingSupported: true,
    };
    if (job.errorMessage !== undefined) base.errorMessage = job.errorMessage;
    return base;
  };

  /**
   * docs/salesforce.md#bulk-api-20-job-states: UploadComplete -> InProgress (snapshot taken) -> JobComplete after the
   * configured processing time.
   */
  const process = (job: QueryJob) => {
    if (job.state !== 'UploadComplete') return;
    touch(job, 'InProgress');
    job.startedAt = deps.clock();
    job.snapshot = deps.store.snapshot(job.object);
    const { slots, count } = collectSlots(job.plan, job.snapshot, job.operation === 'queryAll');
    job.slots = slots;
    job.count = count;
    const delay = deps.settings.bulkLatencyMs + count * deps.settings.bulkMsPerRecord;
    job.timer = setTimeout(() => finish(job), delay);
    job.timer.unref();
  };

  const finish = (job: QueryJob) => {
    if (job.state !== 'InProgress') return;
    job.totalProcessingTime = deps.clock() - job.startedAt;
    if (job.failure) {
      job.errorMessage = job.failure.message;
      job.snapshot = undefined;
      job.slots = undefined;
      touch(job, 'Failed');
      return;
    }
    touch(job, 'JobComplete');
  };

  const create = async (ctx: Ctx, version: string, userId: string, org: OrgStore) => {
    const body = await readJson(ctx.req);
    if (typeof body.query === 'string') ctx.soql = body.query;
    const operation = body.operation;
    if (operation !== 'query' && operation !== 'queryAll')
      throw new HttpError(400, 'INVALIDJOB', `Invalid operation: ${String(operation)}`);
    if (typeof body.query !== 'string' || body.query.trim() === '')
      throw new HttpError(400, 'INVALIDJOB', 'A query is required');
    const format = jobFormat(body);
    let plan: QueryPlan;
    try {
      plan = planSoql(org, body.query);
    } catch (err) {
      soqlFailure(err);
    }
    if (!plan.object.bulkQueryable)
      throw new HttpError(400, 'INVALIDENTITY', `Entity '${plan.object.name}' is not supported by the Bulk API.`);
    const refusal = plan.bulkRefusal();
    if (refusal) throw new HttpError(400, refusal.errorCode, refusal.message);
    if (!deps.limits.countBulkQueryJob())
      throw new HttpError(400, 'LIMIT_EXCEEDED', 'Max bulk v2 query jobs per 24 hrs exceeded.');
    const now = restDateTime(deps.store.now());
    const job: QueryJob = {
      id: newJobId(),
      operation,
      object: plan.object.name,
      createdById: userId,
      createdDate: now,
      systemModstamp: now,
      state: 'UploadComplete',
      apiVersion: version,
      ...format,
      plan,
      failure: deps.faults.takeJobFailure(ctx.method, ctx.url.pathname + ctx.url.search),
      count: 0,
      startedAt: 0,
      totalProcessingTime: 0,
    };
    jobs.set(job.id, job);
    setImmediate(() => process(job));
    const { jobType, numberRecordsProcessed, retries, totalProcessingTime, isPkChunkingSupported, ...created } =
      info(job);
    sendJsonText(ctx.res, 200, jobJson(created));
  };

  const mustJob = (id: string) => {
    const job = jobs.get(id);
    if (!job) throw new HttpError(404, 'NOT_FOUND', 'The requested resource does not exist');
    return job;
  };

  /** docs/salesforce.md#bulk-api-20-query-results: results need JobComplete and the job's own API version. */
  const completedJob = (id: string, version: string) => {
    const job = mustJob(id);
    if (job.apiVersion !== version)
      throw new HttpError(
        409,
        'API_ERROR',
        `This job was created with API version ${job.apiVersion}; request its results with the same version`,
      );
    if (job.state !== 'JobComplete' || !job.snapshot || !job.slots) {
      throw new HttpError(
        412,
        'JOB_NOT_COMPLETE',
        'can only download query results of successfully completed bulk job with status: JOB_COMPLETE. ' +
          `Current status: ${stateCode(job.state)}`,
      );
    }
    return job as QueryJob & { snapshot: ObjectSnapshot; slots: Int32Array };
  };

  const offsetOf = (locator: string | null): number => {
    if (locator === null || locator === '') return 0;
    // docs/salesforce.md#bulk-api-20-query-results: base64 of a decimal offset; anything else (which Buffer would
    // decode leniently) is refused.
    const text = /^[A-Za-z0-9+/]+={0,2}$/.test(locator) ? Buffer.from(locator, 'base64').toString('utf8') : '';
    const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isInteger(n) || n < 0) throw new HttpError(400, 'INVALIDLOCATOR', `Invalid locator: ${locator}`);
    return n;
  };

  const pageSizeOf = (ctx: Ctx): number => {
    const raw = ctx.url.searchParams.get('maxRecords');
    if (raw === null) return deps.settings.bulkDefaultMaxRecords;
    const n = Number(raw);
    if (!Number.isInteger(n) || n <= 0) throw new HttpError(400, 'INVALIDMAXRECORDS', `Invalid maxRecords: ${raw}`);
    return n;
  };

  const results = async (ctx: Ctx, version: string, id: string) => {
    const job = completedJob(id, version);
    const offset = Math.min(offsetOf(ctx.url.searchParams.get('locator')), job.count);
    const end = Math.min(job.count, offset + pageSizeOf(ctx));
    const gzip = /\bgzip\b/i.test(String(ctx.req.headers['accept-encoding'] ?? ''));
    ctx.res.writeHead(200, {
      'Content-Type': 'text/csv; charset=UTF-8',
      'Sforce-NumberOfRecords': String(end - offset),
      // docs/salesforce.md#bulk-api-20-query-results: opaque base64 of the next offset, or the literal string null on
      // the last page.
      'Sforce-Locator': end < job.count ? Buffer.from(String(end)).toString('base64') : 'null',
      ...(gzip ? { 'Content-Encoding': 'gzip', Vary: 'Accept-Encoding' } : {}),
    });
    await streamCsv(ctx.res, job, offset, end, gzip);
  };

  const streamCsv = async (
    res: ServerResponse,
    job: QueryJob & { snapshot: ObjectSnapshot; slots: Int32Array },
    offset: number,
    end: number,
    gzip: boolean,
  ) => {
    const sep = DELIMITERS[job.columnDelimiter]!;
    const eol = LINE_ENDINGS[job.lineEnding]!;
    const nullText = deps.settings.bulkNullAs === 'quoted' ? '""' : '';
    const zipper = gzip ? createGzip({ level: 1 }) : undefined;
    zipper?.pipe(res);
    const out: Writable = zipper ?? res;
    // docs/salesforce.md#bulk-api-20-query-results: every page is a standalone CSV with its own header row.
    // Rows are collected as parts and joined once per chunk: one flat string per write, not a deep rope.
    const parts: string[] = [job.plan.columns.map(quoteCsv).join(sep) + eol];
    let pending = parts[0]!.length;
    let bytes = 0;
    const { snapshot, slots, plan } = job;
    for (let i = offset; i < end; i++) {
      const rec = snapshot.at(slots[i]!);
      if (!rec) continue;
      const values = plan.toCsvValues(rec);
      let line = '';
      for (let c = 0; c < values.length; c++) {
        const v = values[c];
        if (c > 0) line += sep;
        line +=
          v === null || v === undefined ? nullText : v.indexOf('"') === -1 ? `"${v}"` : `"${v.replaceAll('"', '""')}"`;
      }
      parts.push(line + eol);
      pending += line.length + eol.length;
      if (pending >= CHUNK_CHARS) {
        const chunk = parts.join('');
        parts.length = 0;
        pending = 0;
        bytes += Buffer.byteLength(chunk);
        const ok = out.write(chunk);
        if (res.destroyed || (!ok && !(await drained(out, res)))) {
          zipper?.destroy();
          return;
        }
      }
    }
    const chunk = parts.join('');
    bytes += Buffer.byteLength(chunk);
    deps.limits.addResultBytes(bytes);
    out.end(chunk);
  };

  /**
   * docs/salesforce.md#bulk-api-20-parallel-results (v58.0+): up to 5 result page URLs at a time, each a /results URL
   * with the page's locator and size; an empty result still has its one header-only first page, as /results does.
   * Before 58.0 the resource is unknown.
   */
  const resultPages = (ctx: Ctx, version: string, id: string) => {
    if (Number(version) < 58) throw new HttpError(404, 'NOT_FOUND', 'The requested resource does not exist');
    const job = completedJob(id, version);
    const size = pageSizeOf(ctx);
    const start = offsetOf(ctx.url.searchParams.get('locator'));
    const base = `/services/data/v${version}/jobs/query/${job.id}`;
    const pages: { resultUrl: string }[] = [];
    let at = start;
    while ((at < job.count || (at === 0 && job.count === 0 && pages.length === 0)) && pages.length < 5) {
      const loc = at === 0 ? '' : `locator=${Buffer.from(String(at)).toString('base64')}&`;
      pages.push({ resultUrl: `${base}/results?${loc}maxRecords=${size}` });
      at += size;
    }
    const done = at >= job.count;
    const next = done
      ? null
      : `${base}/resultPages?locator=${Buffer.from(String(at)).toString('base64')}&maxRecords=${size}`;
    sendJsonText(ctx.res, 200, JSON.stringify({ resultPages: pages, nextRecordsUrl: next, done }));
  };

  const patch = async (ctx: Ctx, id: string) => {
    const job = mustJob(id);
    const body = await readJson(ctx.req);
    if (body.state !== 'Aborted') throw new HttpError(400, 'INVALIDJOB', `Invalid state: ${String(body.state)}`);
    if (isTerminal(job.state))
      throw new HttpError(
        400,
        'API_ERROR',
        `Aborting already ${job.state === 'JobComplete' ? 'Completed' : job.state} Job not allowed`,
      );
    clearTimeout(job.timer);
    job.snapshot = undefined;
    job.slots = undefined;
    touch(job, 'Aborted');
    sendJsonText(ctx.res, 200, jobJson(info(job)));
  };

  const remove = (ctx: Ctx, id: string) => {
    const job = mustJob(id);
    if (!isTerminal(job.state))
      throw new HttpError(
        400,
        'API_ERROR',
        'Error encountered when deleting the job because the job is not terminated',
      );
    jobs.delete(id);
    sendEmpty(ctx.res, 204);
  };

  const list = (ctx: Ctx) => {
    const records = [...jobs.values()].map((j) => info(j));
    sendJsonText(ctx.res, 200, `{"done":true,"records":[${records.map(jobJson).join(',')}],"nextRecordsUrl":null}`);
  };

  return {
    /** `/services/data/v{version}/jobs/query/...` (rest = segments after `query`). */
    async handle(ctx: Ctx, version: string, rest: string[], userId: string, org: OrgStore = deps.store): Promise<void> {
      const [id, sub] = rest;
      const m = ctx.method;
      if (id === undefined && m === 'POST') return create(ctx, version, userId, org);
      if (id === undefined && m === 'GET') return list(ctx);
      if (id !== undefined && sub === undefined) {
        if (m === 'GET') return sendJsonText(ctx.res, 200, jobJson(info(mustJob(id))));
        if (m === 'PATCH') return patch(ctx, id);
        if (m === 'DELETE') return remove(ctx, id);
      }
      if (id !== undefined && sub === 'results' && m === 'GET') return results(ctx, version, id);
      if (id !== undefined && sub === 'resultPages' && m === 'GET') return resultPages(ctx, version, id);
      throw new HttpError(404, 'NOT_FOUND', 'The requested resource does not exist');
    },
    jobCount: () => jobs.size,
  };
}

export type BulkQuery = ReturnType<typeof createBulkQuery>;
