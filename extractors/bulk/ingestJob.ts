// Bulk API 2.0 ingest job lifecycle, the reverse of queryJob.ts (docs/salesforce.md#bulk-api-20-ingest): create an
// Open job, one PUT of CSV, close with UploadComplete, poll to a terminal state, stream the three result files.
import { Readable } from 'node:stream';
import { BulkJobError, DataError } from '../../lib/errors.ts';
import { sleep as realSleep } from '../../lib/retry.ts';
import type { SalesforceHttp, UploadBody } from '../client/salesforceHttp.ts';
import { pollDelay, type WaitOptions } from './queryJob.ts';

export type IngestOperation = 'insert' | 'update' | 'upsert' | 'delete' | 'hardDelete';
export const INGEST_OPERATIONS: readonly IngestOperation[] = ['insert', 'update', 'upsert', 'delete', 'hardDelete'];

export type IngestState = 'Open' | 'UploadComplete' | 'InProgress' | 'JobComplete' | 'Failed' | 'Aborted';

export interface IngestJobInfo {
  id: string;
  state: IngestState;
  numberRecordsProcessed?: number;
  numberRecordsFailed?: number;
  errorMessage?: string;
  [key: string]: unknown;
}

export type IngestResultKind = 'successfulResults' | 'failedResults' | 'unprocessedrecords';

function checkJob(body: unknown, what: string): IngestJobInfo {
  const j = body as Partial<IngestJobInfo> | undefined;
  if (!j || typeof j.id !== 'string' || typeof j.state !== 'string')
    throw new DataError(`Bulk API ingest ${what} answer lacks id/state`);
  return j as IngestJobInfo;
}

/** Not retried after a dropped connection: a second POST could open a duplicate job. */
export async function createIngestJob(
  http: SalesforceHttp,
  req: { object: string; operation: IngestOperation; externalIdFieldName?: string },
): Promise<IngestJobInfo> {
  const body = await http.post(
    'jobs/ingest',
    {
      object: req.object,
      operation: req.operation,
      ...(req.operation === 'upsert' ? { externalIdFieldName: req.externalIdFieldName } : {}),
      contentType: 'CSV',
      columnDelimiter: 'COMMA',
      lineEnding: 'LF',
    },
    { idempotent: false },
  );
  return checkJob(body, 'job create');
}

/**
 * docs/salesforce.md#bulk-api-20-ingest: exactly one PUT per job; a second one (a retry after a dropped connection)
 * makes the close fail, so only refusals where the server certainly did nothing are retried.
 */
export async function uploadJobData(http: SalesforceHttp, id: string, csv: UploadBody): Promise<void> {
  await http.putStream(`jobs/ingest/${id}/batches`, csv, 'text/csv', { idempotent: false });
}

export async function closeIngestJob(http: SalesforceHttp, id: string): Promise<IngestJobInfo> {
  return checkJob(await http.patch(`jobs/ingest/${id}`, { state: 'UploadComplete' }), 'job close');
}

export async function abortIngestJob(http: SalesforceHttp, id: string): Promise<IngestJobInfo> {
  return checkJob(await http.patch(`jobs/ingest/${id}`, { state: 'Aborted' }), 'job abort');
}

export async function getIngestJob(http: SalesforceHttp, id: string): Promise<IngestJobInfo> {
  return checkJob(await http.get(`jobs/ingest/${id}`), 'job info');
}

/**
 * Polls until JobComplete or Failed (a Failed job still has results: its unprocessed rows); Aborted or a timeout ->
 * BulkJobError.
 */
export async function waitForIngestJob(
  http: SalesforceHttp,
  id: string,
  opts: WaitOptions = {},
): Promise<IngestJobInfo> {
  const wait = opts.sleep ?? realSleep;
  const deadline = Date.now() + (opts.timeoutMs ?? 6 * 3_600_000);
  for (let poll = 0; ; poll++) {
    const job = await getIngestJob(http, id);
    if (job.state === 'JobComplete' || job.state === 'Failed') return job;
    if (job.state === 'Aborted') throw new BulkJobError(id, 'Aborted', `Bulk ingest job ${id} was aborted`);
    if (Date.now() >= deadline) {
      await abortIngestJob(http, id).catch(() => {});
      throw new BulkJobError(
        id,
        'Timeout',
        `Bulk ingest job ${id} still ${job.state} after the wait limit; aborted it`,
      );
    }
    await wait(pollDelay(poll, opts.schedule), opts.signal ?? http.signal);
  }
}

/** One result file as a byte stream (CSV with a header row): never read whole into memory. */
export async function ingestResults(http: SalesforceHttp, id: string, kind: IngestResultKind): Promise<Readable> {
  const res = await http.getStream(`jobs/ingest/${id}/${kind}/`);
  // Read through the idle bound (docs/salesforce.md#timeouts): a stalled body fails instead of hanging.
  return Readable.from(res.chunks());
}
