// One REST query page (JSON) -> the CSV that COPY reads: records to rows of Postgres-parsable text in field order,
// rows to CSV lines. Pure; it runs on the main thread for a delta's first page and in a worker thread for the pages
// after it (pipelines/sync/restLoad.ts), where this same file is the worker's entry.
import { Readable } from 'node:stream';
import { parentPort, workerData } from 'node:worker_threads';
import type { SalesforceHttp } from '../extractors/client/salesforceHttp.ts';
import { markedJsonText } from '../extractors/rest/exactJson.ts';
import { parseQueryPage, type QueryPage, queryPages } from '../extractors/rest/query.ts';
import { DataError } from '../lib/errors.ts';
import { mayNestJson } from '../schemas/fieldTypes.ts';
import type { FieldSpec, Row } from '../schemas/records.ts';
import { hashValue, requireHashKey } from './hashValue.ts';

export interface CsvPage {
  records: number;
  /** CSV records in `fields` order, no header, UTF-8. */
  csv: Buffer;
}

/** A page encoded, with what paging needs (docs/salesforce.md#rest-query-paging: totalSize sizes the delta). */
export interface EncodedPage extends CsvPage {
  totalSize: number;
  done: boolean;
  nextRecordsUrl?: string;
}

/** The fields of a page the page must be parsed with marked numbers for (extractors/rest/exactJson.ts). */
export function needsNumberMarks(fields: readonly Pick<FieldSpec, 'sfType'>[]): boolean {
  return fields.some((f) => mayNestJson(f.sfType));
}

/**
 * Values pass through as text: numbers keep their JSON source text (the page was parsed by exactJson.ts, so
 * `12345678901234567.89` arrives whole), datetimes keep `+0000` (timestamptz accepts it). `marker`: the page's
 * numberMarker, given when it was parsed with markNumbers, which fields that may hold nested JSON need. A hashed
 * field's text is replaced by its keyed hash (transforms/hashValue.ts) under `hashKey`.
 */
export function recordToRow(
  record: Record<string, unknown>,
  fields: readonly FieldSpec[],
  marker?: string,
  hashKey?: string | null,
): Row {
  const row: (string | null)[] = new Array(fields.length);
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!;
    const text = valueToText(valueAt(record, field.name), field, record, marker);
    row[i] = field.hashed && text !== null ? hashValue(requireHashKey(hashKey), text) : text;
  }
  return row;
}

/**
 * A field's value; a parent path (`Account.Owner.Email`, a relationship pipeline's) reads through the nested parent
 * records, and an empty lookup on the way (`"Account": null`) makes it null (docs/salesforce.md#rest-record-json).
 */
function valueAt(record: Record<string, unknown>, name: string): unknown {
  if (!name.includes('.')) return record[name];
  let at: unknown = record;
  for (const step of name.split('.')) {
    if (at === null) return null;
    if (typeof at !== 'object') return undefined;
    at = (at as Record<string, unknown>)[step];
  }
  return at;
}

function valueToText(
  v: unknown,
  field: FieldSpec,
  record: Record<string, unknown>,
  marker: string | undefined,
): string | null {
  if (v === null) return null;
  if (typeof v === 'string') {
    if (marker !== undefined && v.startsWith(marker)) return v.slice(marker.length);
    if (field.pgType !== 'jsonb') return v;
    // docs/salesforce.md#field-types: a json field's value is JSON, so a string is the JSON string, as Bulk CSV
    // writes it; only marked numbers tell it from a number.
    requireMarker(field, record, marker);
    return JSON.stringify(v);
  }
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  // Every selected field is present (null when empty); absence means the answer does not match the SOQL.
  if (v === undefined)
    throw new DataError(`A ${recordType(record)} record from Salesforce lacks the field ${field.name}`);
  // json, complexvalue and anyType values may be nested JSON (docs/salesforce.md#field-types): their JSON text, numbers
  // as sent, which PostgreSQL reads as jsonb the way it reads Bulk's CSV text of the same value.
  if (typeof v === 'object' && mayNestJson(field.sfType))
    return markedJsonText(v, requireMarker(field, record, marker));
  const kind = typeof v === 'object' ? 'object' : typeof v;
  throw new DataError(`Field ${field.name} of a ${recordType(record)} record holds a nested ${kind}, not a scalar`);
}

/** Without the page's number marks a JSON value's numbers read as strings: refused rather than loaded wrong. */
function requireMarker(field: FieldSpec, record: Record<string, unknown>, marker: string | undefined): string {
  if (marker === undefined)
    throw new DataError(
      `Field ${field.name} of a ${recordType(record)} record holds JSON, but its page was parsed without number marks`,
    );
  return marker;
}

function recordType(record: Record<string, unknown>): string {
  const attributes = record.attributes as { type?: unknown } | undefined;
  return typeof attributes?.type === 'string' ? attributes.type : 'Salesforce';
}

/** A CSV field: NULL unquoted and empty, every other value quoted (NUL bytes are dropped by loaders/copyCsv.ts). */
function encodeValue(value: string | null): string {
  return value === null ? '' : `"${value.replaceAll('"', '""')}"`;
}

/**
 * One CSV record with a trailing LF: null -> unquoted empty field, '' -> `""`. COPY's FORCE_NULL then loads `""`
 * as NULL too, so REST rows and Bulk CSV agree (docs/salesforce.md#bulk-api-20-csv-format).
 */
export function encodeCsvLine(row: Row): string {
  let line = '';
  for (let i = 0; i < row.length; i++) {
    if (i > 0) line += ',';
    line += encodeValue(row[i] ?? null);
  }
  return `${line}\n`;
}

export function csvTextOf(page: QueryPage, fields: readonly FieldSpec[], hashKey?: string | null): string {
  let csv = '';
  for (const record of page.records) csv += encodeCsvLine(recordToRow(record, fields, page.numberMarker, hashKey));
  return csv;
}

/** One page's JSON text, parsed with exact numbers and encoded (hashed fields hashed under `hashKey`). */
export function encodePage(
  text: string,
  url: string,
  fields: readonly FieldSpec[],
  hashKey?: string | null,
): EncodedPage {
  const page = parseQueryPage(text, url, { markNumbers: needsNumberMarks(fields) });
  const csv = Buffer.from(csvTextOf(page, fields, hashKey), 'utf8');
  const { totalSize, done, nextRecordsUrl } = page;
  return { totalSize, done, nextRecordsUrl, records: page.records.length, csv };
}

/**
 * A whole query as one CSV stream for COPY, encoded on this thread, the next page fetched while COPY takes this
 * one: for the narrow reads of reconciliation, formula refreshes and verify, where no worker pays for itself.
 */
export function queryCsv(
  http: SalesforceHttp,
  soql: string,
  fields: readonly FieldSpec[],
  opts: { all?: boolean; hashKey?: string | null } = {},
): Readable {
  return Readable.from(
    (async function* () {
      const markNumbers = needsNumberMarks(fields);
      for await (const page of queryPages(http, soql, { all: opts.all, prefetch: true, markNumbers }))
        yield Buffer.from(csvTextOf(page, fields, opts.hashKey), 'utf8');
    })(),
    { objectMode: false },
  );
}

/**
 * The ArrayBuffer to transfer with a message when the view owns all of it; none (the message copies) when it is
 * a slice of a larger one, which transferring would take from every other view of it.
 */
export function ownBuffer(view: Uint8Array): ArrayBuffer[] {
  const buffer = view.buffer as ArrayBuffer;
  return view.byteOffset === 0 && view.byteLength === buffer.byteLength ? [buffer] : [];
}

export interface PageRequest {
  id: number;
  body: Uint8Array;
  url: string;
}

export type PageReply = ({ id: number } & EncodedPage) | { id: number; error: { name: string; message: string } };

/** Marks the worker data of a page worker, so that importing this file anywhere else starts nothing. */
export const PAGE_WORKER = 'sfsync-rest-page-worker';

// As a worker: page bytes in, CSV out. Parsing and encoding cost about as much CPU as PostgreSQL's merge of a
// page, so they run beside the load's event loop instead of between the statements of the page before. The hash key
// arrives in the worker data (never in a message or a log) when the object hashes columns.
const data = workerData as { role?: string; fields: FieldSpec[]; hashKey?: string | null } | null;
if (parentPort && data?.role === PAGE_WORKER) {
  const port = parentPort;
  port.on('message', ({ id, body, url }: PageRequest) => {
    let reply: PageReply;
    try {
      const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
      reply = { id, ...encodePage(text, url, data.fields, data.hashKey) };
    } catch (err) {
      reply = { id, error: { name: (err as Error).name, message: (err as Error).message } };
    }
    port.postMessage(reply, 'csv' in reply ? ownBuffer(reply.csv) : []);
  });
}
