// Declarative fault injection (retry/timeout tests): the next N requests matching a route fail in a chosen way.
// Routes are matched against `METHOD /path?query`; a string matches as a substring, a RegExp is tested. `soql`
// narrows a fault to REST queries whose decoded `q` matches (e.g. only `SELECT COUNT()` times out).
import type { ServerResponse } from 'node:http';
import { sendError, sendText } from './http.ts';

export type FaultKind =
  | {
      kind: 'status';
      status: number;
      errorCode?: string;
      message?: string;
      retryAfter?: number | string;
      html?: boolean | string;
    }
  | { kind: 'reset' }
  | { kind: 'delay'; ms: number }
  | { kind: 'invalidSession' }
  | { kind: 'requestLimit' }
  | { kind: 'queryTimeout' }
  | { kind: 'bulkJobFailed'; message?: string }
  | { kind: 'truncate'; afterBytes?: number }
  /**
   * Sends the status line, headers and the first `afterBytes` of the body (default: half of the first chunk), then
   * goes silent without closing the connection: a client without a read timeout waits forever.
   */
  | { kind: 'stall'; afterBytes?: number };

/**
 * `times` defaults to 1; `route` defaults to every request except the admin API. `soql`, when set, is matched
 * against the decoded SOQL of a REST query/queryAll (its `q` parameter); requests without one never match.
 */
export type FaultSpec = FaultKind & { route?: RegExp | string; soql?: RegExp | string; times?: number };

interface ActiveFault {
  spec: FaultSpec;
  left: number;
}

export interface Faults {
  add(spec: FaultSpec): void;
  clear(): void;
  /** Takes one use of the first request-level fault matching this request. */
  takeForRequest(method: string, pathWithQuery: string): FaultSpec | undefined;
  /** Takes one use of a pending bulkJobFailed fault for a job being created by this request. */
  takeJobFailure(method: string, pathWithQuery: string): { message?: string } | undefined;
  list(): { spec: FaultSpec; left: number }[];
}

function matches(route: RegExp | string | undefined, line: string): boolean {
  if (route === undefined) return true;
  if (typeof route === 'string') return line.includes(route);
  route.lastIndex = 0;
  return route.test(line);
}

/** The decoded `q` parameter of a request line's path, or undefined. */
function soqlOf(line: string): string | undefined {
  const at = line.indexOf(' ');
  try {
    return new URL(line.slice(at + 1), 'http://emulator.invalid').searchParams.get('q') ?? undefined;
  } catch {
    return undefined;
  }
}

export function createFaults(): Faults {
  let active: ActiveFault[] = [];
  const take = (line: string, wanted: (f: FaultSpec) => boolean): FaultSpec | undefined => {
    let soql: string | undefined | null = null;
    const soqlMatches = (pattern: RegExp | string | undefined) => {
      if (pattern === undefined) return true;
      if (soql === null) soql = soqlOf(line);
      return soql !== undefined && matches(pattern, soql);
    };
    const hit = active.find((f) => wanted(f.spec) && matches(f.spec.route, line) && soqlMatches(f.spec.soql));
    if (!hit) return undefined;
    hit.left--;
    if (hit.left <= 0) active = active.filter((f) => f !== hit);
    return hit.spec;
  };
  return {
    add(spec) {
      active.push({ spec, left: spec.times ?? 1 });
    },
    clear() {
      active = [];
    },
    takeForRequest: (method, path) => take(`${method} ${path}`, (f) => f.kind !== 'bulkJobFailed'),
    takeJobFailure(method, path) {
      const f = take(`${method} ${path}`, (s) => s.kind === 'bulkJobFailed');
      return f?.kind === 'bulkJobFailed' ? { message: f.message } : undefined;
    },
    list: () => active.map((f) => ({ spec: f.spec, left: f.left })),
  };
}

/** Cuts the response body after `afterBytes` bytes (default: half of the first chunk) and drops the connection. */
function truncateBody(res: ServerResponse, afterBytes: number | undefined): void {
  const write = res.write.bind(res) as (chunk: unknown, cb?: () => void) => boolean;
  const end = res.end.bind(res) as (chunk?: unknown) => ServerResponse;
  let sent = 0;
  let cut = false;
  const pass = (chunk: unknown): boolean => {
    if (cut) return true;
    const buf =
      typeof chunk === 'string'
        ? Buffer.from(chunk)
        : Buffer.isBuffer(chunk)
          ? chunk
          : chunk instanceof Uint8Array
            ? Buffer.from(chunk)
            : Buffer.alloc(0);
    const limit = afterBytes ?? Math.max(1, Math.floor(buf.length / 2));
    if (sent + buf.length <= limit) {
      sent += buf.length;
      return write(buf);
    }
    cut = true;
    const part = buf.subarray(0, limit - sent);
    if (part.length === 0) res.socket?.destroy();
    else write(part, () => res.socket?.destroy());
    return true;
  };
  res.write = ((chunk: unknown) => pass(chunk)) as typeof res.write;
  res.end = ((chunk?: unknown) => {
    if (chunk !== undefined && typeof chunk !== 'function') pass(chunk);
    if (!cut) return end();
    return res;
  }) as typeof res.end;
}

/**
 * Lets the first `afterBytes` of the body through (default: half of the first chunk), then swallows the rest and never
 * ends the response. Writes after the cut report backpressure, so a streaming writer waits for 'drain' (which never
 * comes) until the client gives up and closes the connection.
 */
function stallBody(res: ServerResponse, afterBytes: number | undefined): void {
  const write = res.write.bind(res) as (chunk: unknown) => boolean;
  let sent = 0;
  let stalled = false;
  const pass = (chunk: unknown): boolean => {
    if (stalled) return false;
    const buf = toBuffer(chunk);
    const limit = afterBytes ?? Math.max(1, Math.floor(buf.length / 2));
    if (sent + buf.length <= limit) {
      sent += buf.length;
      return write(buf);
    }
    stalled = true;
    const part = buf.subarray(0, limit - sent);
    if (part.length > 0) write(part);
    return false;
  };
  res.write = ((chunk: unknown) => pass(chunk)) as typeof res.write;
  res.end = ((chunk?: unknown) => {
    if (chunk !== undefined && typeof chunk !== 'function') pass(chunk);
    // Never ends: the client sees headers and part of the body, then silence.
    return res;
  }) as typeof res.end;
}

function toBuffer(chunk: unknown): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk);
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk);
  return Buffer.alloc(0);
}

/**
 * Plays a fault on the response. 'handled' = a response was sent (or the socket dropped); 'continue' = serve the
 * request normally (after a delay, or with a body that will be cut).
 */
export async function playFault(f: FaultSpec, res: ServerResponse): Promise<'handled' | 'continue'> {
  switch (f.kind) {
    case 'delay':
      await new Promise((r) => setTimeout(r, f.ms));
      return 'continue';
    case 'truncate':
      truncateBody(res, f.afterBytes);
      return 'continue';
    case 'stall':
      stallBody(res, f.afterBytes);
      return 'continue';
    case 'reset':
      res.socket?.destroy();
      return 'handled';
    case 'invalidSession':
      sendError(res, 401, 'INVALID_SESSION_ID', 'Session expired or invalid');
      return 'handled';
    case 'requestLimit':
      sendError(res, 403, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.');
      return 'handled';
    case 'queryTimeout':
      sendError(res, 400, 'QUERY_TIMEOUT', 'Your query request was running for too long.');
      return 'handled';
    case 'status': {
      const headers: Record<string, string> = f.retryAfter !== undefined ? { 'Retry-After': String(f.retryAfter) } : {};
      if (f.html !== undefined && f.html !== false) {
        // docs/salesforce.md#http-statuses: an edge/maintenance page instead of JSON.
        const page =
          typeof f.html === 'string'
            ? f.html
            : `<html><head><title>${f.status}</title></head><body>${f.message ?? 'Service unavailable'}</body></html>`;
        sendText(res, f.status, page, 'text/html;charset=UTF-8', headers);
      } else {
        sendError(
          res,
          f.status,
          f.errorCode ?? 'SERVER_UNAVAILABLE',
          f.message ?? 'Server temporarily unavailable',
          headers,
        );
      }
      return 'handled';
    }
    case 'bulkJobFailed':
      return 'continue';
  }
}
