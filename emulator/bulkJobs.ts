// Bulk API 2.0 job plumbing shared by query and ingest jobs: settings, job states, CSV dialects (delimiters, line
// endings, quoting), job info JSON and ids, and backpressure on result streams
// (docs/salesforce.md#bulk-api-20-query-jobs, #bulk-api-20-ingest).
import type { ServerResponse } from 'node:http';
import type { Writable } from 'node:stream';
import type { Faults } from './faults.ts';
import { HttpError } from './http.ts';
import { makeId } from './ids.ts';
import type { Limits } from './limits.ts';
import type { OrgStore } from './types.ts';

export interface BulkSettings {
  /** Base processing time of a job (ms). */
  bulkLatencyMs: number;
  /** Processing time per result record (ms). */
  bulkMsPerRecord: number;
  /** Page size when the client sends no maxRecords. */
  bulkDefaultMaxRecords: number;
  /** docs/salesforce.md#bulk-api-20-csv-format: how a null is written — a bare empty field or `""`. */
  bulkNullAs: 'empty' | 'quoted';
}

export interface BulkDeps {
  store: OrgStore;
  limits: Limits;
  faults: Faults;
  settings: BulkSettings;
  clock: () => number;
}

export type JobState = 'Open' | 'UploadComplete' | 'InProgress' | 'JobComplete' | 'Failed' | 'Aborted';

export const DELIMITERS: Record<string, string> = {
  COMMA: ',',
  TAB: '\t',
  PIPE: '|',
  SEMICOLON: ';',
  CARET: '^',
  BACKQUOTE: '`',
};
export const LINE_ENDINGS: Record<string, string> = { LF: '\n', CRLF: '\r\n' };
const TERMINAL = new Set<JobState>(['JobComplete', 'Failed', 'Aborted']);

export function isTerminal(state: JobState): boolean {
  return TERMINAL.has(state);
}

/** docs/salesforce.md#bulk-api-20-query-results: JOB_NOT_COMPLETE names the state in upper snake case. */
export function stateCode(state: JobState): string {
  return state.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();
}

/** Job info JSON; `apiVersion` is a JSON number written like `62.0` (docs/salesforce.md#bulk-api-20-query-jobs). */
export function jobJson(info: Record<string, unknown>): string {
  return JSON.stringify(info).replace(/"apiVersion":"(\d+\.\d)"/, '"apiVersion":$1');
}

/** docs/salesforce.md#bulk-api-20-csv-format: every value double-quoted, embedded quotes doubled. */
export function quoteCsv(v: string): string {
  return v.indexOf('"') === -1 ? `"${v}"` : `"${v.replaceAll('"', '""')}"`;
}

let jobSeq = 0;
export function newJobId(): string {
  return makeId('750', ++jobSeq + Math.floor(Math.random() * 1e6) * 1000);
}

export function jobFormat(body: Record<string, unknown>): { columnDelimiter: string; lineEnding: string } {
  const columnDelimiter = String(body.columnDelimiter ?? 'COMMA');
  const lineEnding = String(body.lineEnding ?? 'LF');
  if (!(columnDelimiter in DELIMITERS))
    throw new HttpError(400, 'INVALIDJOB', `Invalid column delimiter: ${columnDelimiter}`);
  if (!(lineEnding in LINE_ENDINGS)) throw new HttpError(400, 'INVALIDJOB', `Invalid line ending: ${lineEnding}`);
  if (body.contentType !== undefined && body.contentType !== 'CSV')
    throw new HttpError(400, 'INVALIDJOB', `Invalid content type: ${String(body.contentType)}`);
  return { columnDelimiter, lineEnding };
}

/** Resolves when the response can take more data, or false when the client went away. */
export function drained(stream: Writable, res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      stream.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    stream.on('drain', onDrain);
    res.on('close', onClose);
  });
}
