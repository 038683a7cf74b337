// `sfsync push`: rows of a PostgreSQL table, view or query -> Bulk API 2.0 ingest jobs
// (docs/salesforce.md#bulk-api-20-ingest).
// Rows stream through a cursor into CSV jobs of at most `jobBytes`, one PUT each, a few jobs in flight; each job's
// results are stored per row in sfsync.push_results as soon as it ends.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import {
  closeIngestJob,
  createIngestJob,
  type IngestJobInfo,
  type IngestOperation,
  type IngestResultKind,
  ingestResults,
  uploadJobData,
  waitForIngestJob,
} from '../../extractors/bulk/ingestJob.ts';
import { describeObject } from '../../extractors/describe.ts';
import { DEFAULT_ORG } from '../../lib/config.ts';
import { ConfigError } from '../../lib/errors.ts';
import {
  copyPushResults,
  type ErrorCount,
  failedRowKeys,
  finishPushRun,
  pushErrorSummary,
  pushRunExists,
  sourceColumns,
  sourceSql,
  startPushRun,
  streamSource,
} from '../../loaders/push.ts';
import { withClient } from '../../loaders/postgres.ts';
import { budgetSettings, createBudget } from '../runtime/apiBudget.ts';
import type { RunContext } from '../runtime/runContext.ts';
import { mapColumns, type PushMapping } from './mapping.ts';

/** docs/salesforce.md#bulk-api-20-ingest: 150 MB after base64 is about 100 MB of raw CSV per job. */
export const MAX_JOB_BYTES = 100 * 1024 * 1024;
export const DEFAULT_JOBS_IN_FLIGHT = 3;

export interface PushRequest {
  object: string;
  operation: IngestOperation;
  from?: string;
  sql?: string;
  externalId?: string;
  dryRun?: boolean;
  /** A push run id: send again only the rows that failed in it. */
  onlyFailed?: number;
  jobBytes?: number;
  jobsInFlight?: number;
}

export interface PushPlan {
  mapping: PushMapping;
  rows: number;
  jobs: number;
  /** The CSV header and the first few rows, as they would be sent. */
  sample: string;
}

export interface PushOutcome {
  runId: number;
  rows: number;
  jobs: string[];
  succeeded: number;
  failed: number;
  errors: ErrorCount[];
}

/** docs/salesforce.md#bulk-api-20-ingest: a null sets the field to null with `#N/A`; an Id is never `#N/A`. */
const NULL_CELL = '#N/A';

function csvCell(v: string): string {
  return /[",\n\r]/.test(v) || v.startsWith(' ') || v.endsWith(' ') ? `"${v.replaceAll('"', '""')}"` : v;
}

/** What names a row in push_results: its key column, else (insert) a hash of the cells as sent. */
function rowKeyOf(cells: readonly string[], keyAt: number): string {
  if (keyAt >= 0) return cells[keyAt] ?? '';
  return createHash('md5').update(cells.join('\u0001')).digest('hex');
}

/**
 * One job's CSV, spooled to a file as it is written and uploaded from it: a job holds up to 100 MB and several are in
 * flight, which memory must not hold (docs/benchmarks.md#push-jobs-spooled-to-files).
 */
interface Chunk {
  file: string;
  out: WriteStream;
  bytes: number;
  rows: number;
}

async function write(chunk: Chunk, data: string): Promise<void> {
  const bytes = Buffer.byteLength(data);
  chunk.bytes += bytes;
  if (!chunk.out.write(data)) await once(chunk.out, 'drain');
}

async function closeChunk(chunk: Chunk): Promise<void> {
  chunk.out.end();
  await once(chunk.out, 'finish');
}

export async function planOrPush(ctx: RunContext, req: PushRequest): Promise<PushPlan | PushOutcome> {
  const sql = sourceSql({ table: req.from, sql: req.sql });
  const columns = await withClient(ctx.pool, (c) => sourceColumns(c, sql));
  const described = await describeObject(ctx.sf, req.object);
  const mapping = mapColumns(req.object, described.raw, columns, req.operation, req.externalId);
  const header = `${mapping.columns.map((m) => m.field).join(',')}\n`;
  const idAt = mapping.columns.findIndex((m) => m.field === 'Id');
  const jobBytes = req.jobBytes ?? MAX_JOB_BYTES;

  let only: Set<string> | undefined;
  if (req.onlyFailed !== undefined) {
    const runId = req.onlyFailed;
    only = await withClient(ctx.pool, async (c) => {
      if (!(await pushRunExists(c, runId, ctx.config.schema)))
        throw new ConfigError(`--only-failed ${runId}: no such push run of org ${ctx.config.org ?? DEFAULT_ORG}`);
      return failedRowKeys(c, runId);
    });
  }

  /** Each source row as its cells and CSV line; rows --only-failed leaves out are skipped. */
  async function* lines(): AsyncGenerator<{ key: string; line: string }> {
    const client = await ctx.pool.connect();
    try {
      for await (const batch of streamSource(client, sql, columns)) {
        for (const raw of batch) {
          const cells = raw.map((v, i) => (v === null ? (i === idAt ? '' : NULL_CELL) : v));
          const key = rowKeyOf(cells, mapping.keyAt);
          if (only && !only.has(key)) continue;
          yield { key, line: `${cells.map(csvCell).join(',')}\n` };
        }
      }
    } finally {
      client.release();
    }
  }

  if (req.dryRun) {
    let rows = 0;
    let jobs = 0;
    let bytes = 0;
    const sample: string[] = [header];
    for await (const { line } of lines()) {
      const size = Buffer.byteLength(line);
      if (jobs === 0 || bytes + size > jobBytes) {
        jobs++;
        bytes = Buffer.byteLength(header);
      }
      bytes += size;
      if (rows < 5) sample.push(line);
      rows++;
    }
    return { mapping, rows, jobs, sample: sample.join('') };
  }

  const runId = await withClient(ctx.pool, (c) =>
    startPushRun(c, {
      object: req.object,
      operation: req.operation,
      externalId: req.externalId,
      source: req.sql ?? req.from ?? '',
      schema: ctx.config.schema,
    }),
  );
  const budget = createBudget(ctx.sf, budgetSettings(ctx.config), ctx.log);
  const jobIds: string[] = [];
  const inFlight = new Set<Promise<void>>();
  let firstError: unknown;
  let rows = 0;
  let succeeded = 0;
  let failed = 0;

  const runJob = async (chunk: Chunk): Promise<void> => {
    const job = await createIngestJob(ctx.sf, {
      object: req.object,
      operation: req.operation,
      externalIdFieldName: req.externalId,
    });
    jobIds.push(job.id);
    try {
      await uploadJobData(ctx.sf, job.id, { open: () => createReadStream(chunk.file), length: chunk.bytes });
    } finally {
      rmSync(chunk.file, { force: true });
    }
    await closeIngestJob(ctx.sf, job.id);
    const done = await waitForIngestJob(ctx.sf, job.id, { signal: ctx.signal });
    ctx.log.info(
      { jobId: job.id, state: done.state, processed: done.numberRecordsProcessed, failed: done.numberRecordsFailed },
      'push job ended',
    );
    const counts = await storeResults(ctx, runId, done, mapping.keyAt);
    succeeded += counts.succeeded;
    failed += counts.failed;
  };

  const dispatch = async (chunk: Chunk) => {
    while (inFlight.size >= (req.jobsInFlight ?? DEFAULT_JOBS_IN_FLIGHT)) await Promise.race(inFlight);
    if (firstError !== undefined) throw firstError;
    // docs/salesforce.md#limits: every job costs API calls; the guard decides before each one starts.
    await budget.check();
    const p: Promise<void> = runJob(chunk)
      .catch((err) => {
        budget.noteFailure(err);
        firstError ??= err;
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  };

  const spool = mkdtempSync(path.join(tmpdir(), 'sfsync-push-'));
  let jobNumber = 0;
  const fresh = async (): Promise<Chunk> => {
    const file = path.join(spool, `job-${++jobNumber}.csv`);
    const chunk = { file, out: createWriteStream(file, { mode: 0o600 }), bytes: 0, rows: 0 };
    await write(chunk, header);
    return chunk;
  };
  let chunk: Chunk | undefined;
  try {
    chunk = await fresh();
    for await (const { line } of lines()) {
      if (chunk.rows > 0 && chunk.bytes + Buffer.byteLength(line) > jobBytes) {
        await closeChunk(chunk);
        await dispatch(chunk);
        chunk = await fresh();
      }
      await write(chunk, line);
      chunk.rows++;
      rows++;
    }
    await closeChunk(chunk);
    if (chunk.rows > 0) await dispatch(chunk);
    await Promise.all(inFlight);
    if (firstError !== undefined) throw firstError;
  } catch (err) {
    chunk?.out.destroy();
    await Promise.allSettled(inFlight);
    await withClient(ctx.pool, (c) =>
      finishPushRun(c, runId, {
        status: 'failed',
        rowsSent: rows,
        rowsFailed: failed,
        jobIds,
        error: err instanceof Error ? err.message : String(err),
      }),
    );
    throw err;
  } finally {
    rmSync(spool, { recursive: true, force: true });
  }
  const errors = await withClient(ctx.pool, async (c) => {
    await finishPushRun(c, runId, {
      status: failed > 0 ? 'failed' : 'succeeded',
      rowsSent: rows,
      rowsFailed: failed,
      jobIds,
    });
    return pushErrorSummary(c, runId);
  });
  return { runId, rows, jobs: jobIds, succeeded, failed, errors };
}

/** The prefix columns each result file has before the uploaded ones (docs/salesforce.md#bulk-api-20-ingest). */
const PREFIX: Record<IngestResultKind, number> = { successfulResults: 2, failedResults: 2, unprocessedrecords: 0 };

function resultCsv(v: string | null): string {
  return v === null ? '' : `"${v.replaceAll('"', '""')}"`;
}

/** Streams the job's three result files into sfsync.push_results. */
async function storeResults(
  ctx: RunContext,
  runId: number,
  job: IngestJobInfo,
  keyAt: number,
): Promise<{ succeeded: number; failed: number }> {
  const counts = { succeeded: 0, failed: 0 };
  for (const kind of ['successfulResults', 'failedResults', 'unprocessedrecords'] as const) {
    const body = await ingestResults(ctx.sf, job.id, kind);
    const records = body.pipe(parse({ relax_column_count: true, bom: true, skip_empty_lines: true }));
    async function* csv(): AsyncGenerator<string> {
      let first = true;
      for await (const rec of records as AsyncIterable<string[]>) {
        if (first) {
          first = false;
          continue;
        }
        const uploaded = rec.slice(PREFIX[kind]);
        const key = rowKeyOf(uploaded, keyAt);
        let sfId: string | null = null;
        let created: string | null = null;
        let code: string | null = null;
        let message: string | null = null;
        if (kind === 'successfulResults') {
          sfId = rec[0] || null;
          created = rec[1] === 'true' ? 'true' : 'false';
          counts.succeeded++;
        } else if (kind === 'failedResults') {
          sfId = rec[0] || null;
          // `STATUS_CODE:message:fields --`
          const error = (rec[1] ?? '').replace(/ --$/, '');
          const colon = error.indexOf(':');
          code = colon > 0 ? error.slice(0, colon) : error || 'UNKNOWN';
          message = colon > 0 ? error.slice(colon + 1) : error;
          counts.failed++;
        } else {
          code = 'UNPROCESSED';
          message = job.errorMessage ?? `the job ended ${job.state} before this row`;
          counts.failed++;
        }
        const cells = [String(runId), key, job.id, sfId, created, code, message];
        yield `${cells.map(resultCsv).join(',')}\n`;
      }
    }
    await withClient(ctx.pool, (c) => copyPushResults(c, Readable.from(csv())));
  }
  return counts;
}
