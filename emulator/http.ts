// Tiny response/request helpers over node:http: Salesforce-shaped JSON errors (docs/salesforce.md#error-bodies) and
// body reading.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RawJson } from './types.ts';

export const JSON_TYPE = 'application/json;charset=UTF-8';

/** One routed request: the parsed URL plus the raw node objects. */
export interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  url: URL;
  /** Path split on '/', without the empty first segment. */
  parts: string[];
  /** The SOQL a request carried in its body (a Bulk query job), for the request log. */
  soql?: string;
}

/** A failure that the router renders as a Salesforce error array (docs/salesforce.md#error-bodies). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function sendText(
  res: ServerResponse,
  status: number,
  body: string,
  contentType = JSON_TYPE,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

export function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  sendText(res, status, JSON.stringify(value), JSON_TYPE, headers);
}

export function sendJsonText(
  res: ServerResponse,
  status: number,
  json: string,
  headers: Record<string, string> = {},
): void {
  sendText(res, status, json, JSON_TYPE, headers);
}

/** A JSON body already encoded (REST pages: utf8Parts). */
export function sendJsonBytes(res: ServerResponse, status: number, body: Buffer): void {
  res.writeHead(status, { 'Content-Type': JSON_TYPE, 'Content-Length': body.length });
  res.end(body);
}

/**
 * Text appended piece by piece straight into one growing UTF-8 buffer. A REST page is a few MB of record texts: one
 * string of them all cost a join (flattening every record's string), a byte count and an encode, each a full pass.
 */
export function utf8Parts(initialBytes: number): { add(text: string): void; bytes(): Buffer } {
  let buf = Buffer.allocUnsafe(initialBytes);
  let length = 0;
  return {
    add(text) {
      // A UTF-16 unit never takes more than 3 bytes of UTF-8.
      const need = length + 3 * text.length;
      if (need > buf.length) {
        const grown = Buffer.allocUnsafe(Math.max(need, 2 * buf.length));
        buf.copy(grown, 0, 0, length);
        buf = grown;
      }
      length += buf.write(text, length, 'utf8');
    },
    bytes: () => buf.subarray(0, length),
  };
}

/** docs/salesforce.md#error-bodies: REST and Bulk 2.0 errors are an array of {message, errorCode}. */
export function sendError(
  res: ServerResponse,
  status: number,
  errorCode: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, [{ message, errorCode }], headers);
}

export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  res.writeHead(status, headers);
  res.end();
}

export async function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes)
      throw new HttpError(413, 'REQUEST_ENTITY_TOO_LARGE', `Request body exceeds ${limitBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export async function readJson(req: IncomingMessage, limitBytes = 1 << 20): Promise<Record<string, unknown>> {
  const text = (await readBody(req, limitBytes)).toString('utf8');
  if (text.trim() === '') return {};
  try {
    const v: unknown = JSON.parse(text);
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through to the Salesforce-style error below
  }
  throw new HttpError(400, 'JSON_PARSER_ERROR', 'The request body is not a valid JSON object');
}

/**
 * Salesforce datetimes on the wire (REST, job info): `2024-01-02T03:04:05.000+0000`
 * (docs/salesforce.md#rest-record-json).
 */
export function restDateTime(iso: string): string {
  return iso.endsWith('Z') ? `${iso.slice(0, -1)}+0000` : iso;
}

/**
 * JSON text of a REST record. Like JSON.stringify, except that number values the org keeps as text (wrapped by the
 * SOQL renderer) are written verbatim, so `1.2345678E7` or a 20-digit decimal survive (docs/salesforce.md#field-types).
 */
export function serializeJson(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return Number.isFinite(v) ? String(v) : 'null';
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object':
      break;
    default:
      return 'null';
  }
  if (Array.isArray(v)) return `[${v.map(serializeJson).join(',')}]`;
  if (v instanceof RawJson) return v.text;
  let out = '';
  const obj = v as Record<string, unknown>;
  for (const k in obj) {
    const val = obj[k];
    if (val === undefined || !Object.hasOwn(obj, k)) continue;
    out += `${out ? ',' : ''}${quotedKey(k)}:${serializeJson(val)}`;
  }
  return `{${out}}`;
}

/** Keys are API names, a few hundred at most: quoted once (REST pages render them for every record). */
const keyCache = new Map<string, string>();
function quotedKey(k: string): string {
  let q = keyCache.get(k);
  if (q === undefined) {
    q = JSON.stringify(k);
    if (keyCache.size < 10_000) keyCache.set(k, q);
  }
  return q;
}
