// Bulk API 2.0 query job lifecycle (docs/salesforce.md#bulk-api-20-query-jobs, #bulk-api-20-job-states,
// #bulk-api-20-abort-and-delete): create, poll to JobComplete, abort, delete.
import { BulkJobError, DataError } from '../../lib/errors.ts';
import { type Sleep, sleep as realSleep } from '../../lib/retry.ts';
import type { SalesforceHttp } from '../client/salesforceHttp.ts';

export type JobState = 'UploadComplete' | 'InProgress' | 'JobComplete' | 'Failed' | 'Aborted';

export interface JobInfo {
  id: string;
  state: JobState;
  operation: string;
  object?: string;
  numberRecordsProcessed?: number;
  errorMessage?: string;
  [key: string]: unknown;
}

export interface CreateJobRequest {
  soql: string;
  /** docs/salesforce.md#bulk-api-20-query-jobs: queryAll also returns deleted/archived rows. */
  operation: 'queryAll' | 'query';
}

function checkJob(body: unknown, what: string): JobInfo {
  const j = body as Partial<JobInfo> | undefined;
  if (!j || typeof j.id !== 'string' || typeof j.state !== 'string')
    throw new DataError(`Bulk API ${what} answer lacks id/state`);
  return j as JobInfo;
}

/**
 * docs/salesforce.md#bulk-api-20-query-jobs: refusals (compound fields, unsupported object, INVALIDJOB,
 * LIMIT_EXCEEDED...) surface as SalesforceApiError so the pipeline can fall back to REST. Not retried after a dropped
 * connection: a second POST could start a duplicate job.
 */
export async function createQueryJob(http: SalesforceHttp, req: CreateJobRequest): Promise<JobInfo> {
  const body = await http.post(
    'jobs/query',
    { operation: req.operation, query: req.soql, contentType: 'CSV', columnDelimiter: 'COMMA', lineEnding: 'LF' },
    { idempotent: false },
  );
  return checkJob(body, 'job create');
}

export async function getJob(http: SalesforceHttp, id: string): Promise<JobInfo> {
  return checkJob(await http.get(`jobs/query/${id}`), 'job info');
}

export interface PollSchedule {
  firstMs: number;
  factor: number;
  maxMs: number;
  /** After this many polls the interval may grow to `slowMs`: a long job needs no 2-second polling. */
  slowAfter: number;
  slowMs: number;
}

/**
 * 500 ms, x1.5 up to 2 s for the first minute or so, then up to 10 s. A job's queue time on a real org is 10-15 s
 * (docs/salesforce.md#bulk-api-20-job-states), and a coarse interval adds up to a whole interval to every job (Airbyte:
 * 0.5 s -> 2 s); an hour-long job then costs a few hundred polls rather than thousands.
 */
export const DEFAULT_POLL: PollSchedule = { firstMs: 500, factor: 1.5, maxMs: 2_000, slowAfter: 40, slowMs: 10_000 };

export function pollDelay(poll: number, s: PollSchedule = DEFAULT_POLL): number {
  const cap = poll >= s.slowAfter ? s.slowMs : s.maxMs;
  return Math.min(cap, Math.round(s.firstMs * s.factor ** poll));
}

export interface WaitOptions {
  signal?: AbortSignal;
  schedule?: PollSchedule;
  /** Give up (and abort the job) after this long; default 6 h. */
  timeoutMs?: number;
  sleep?: Sleep;
  /** Called with every job info polled (a progress display shows the state). */
  onPoll?: (job: JobInfo) => void;
}

/** Polls until JobComplete; Failed/Aborted -> BulkJobError; a timeout aborts the job (BulkJobError, state Timeout). */
export async function waitForJob(http: SalesforceHttp, id: string, opts: WaitOptions = {}): Promise<JobInfo> {
  const wait = opts.sleep ?? realSleep;
  const deadline = Date.now() + (opts.timeoutMs ?? 6 * 3_600_000);
  for (let poll = 0; ; poll++) {
    const job = await getJob(http, id);
    opts.onPoll?.(job);
    if (job.state === 'JobComplete') return job;
    if (job.state === 'Failed' || job.state === 'Aborted') {
      const why = job.errorMessage ? `: ${job.errorMessage}` : ' (Salesforce gave no reason)';
      throw new BulkJobError(id, job.state, `Bulk query job ${id} ended ${job.state}${why}`);
    }
    if (Date.now() >= deadline) {
      await abortJob(http, id).catch(() => {});
      throw new BulkJobError(id, 'Timeout', `Bulk query job ${id} still ${job.state} after the wait limit; aborted it`);
    }
    await wait(pollDelay(poll, opts.schedule), opts.signal ?? http.signal);
  }
}

/** docs/salesforce.md#bulk-api-20-abort-and-delete: PATCH state Aborted. */
export async function abortJob(http: SalesforceHttp, id: string): Promise<JobInfo> {
  return checkJob(await http.patch(`jobs/query/${id}`, { state: 'Aborted' }), 'job abort');
}

/**
 * docs/salesforce.md#bulk-api-20-abort-and-delete: DELETE -> 204; frees result storage. Best effort: callers ignore its
 * failure.
 */
export async function deleteJob(http: SalesforceHttp, id: string): Promise<void> {
  await http.delete(`jobs/query/${id}`);
}
