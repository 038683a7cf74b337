// The one Salesforce API client (axios): Bearer auth, re-auth on 401 (bounded), retries per extractors/client/retry.ts,
// timeouts per extractors/client/timeouts.ts, Sforce-Limit-Info on every response
// (docs/salesforce.md#sforce-limit-info-header), call counting for the API budget.
import type { Readable } from 'node:stream';
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import { DataError, SalesforceApiError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import { isLoopback } from '../../lib/loopback.ts';
import { type BackoffOptions, DEFAULT_BACKOFF, type Sleep, retryDelay, withRetry } from '../../lib/retry.ts';
import { apiErrorOf, classifyResponse, isRetryableNetworkError } from './retry.ts';
import { DEFAULT_HTTP_TIMEOUTS, type HttpTimeouts, bodyStalled, idleChunks, noAnswer } from './timeouts.ts';
import { MAX_REFRESHES_PER_MINUTE, type TokenProvider } from './tokenProvider.ts';
import { apiPath, fitsInUri, shortUrl, uriTooLong } from './uriLength.ts';

export interface LimitInfo {
  used: number;
  max: number;
}

export interface HttpRetryOptions {
  /** Tries per call, including the first. */
  attempts: number;
  /**
   * Stop retrying once the waits between tries would add up to more than this. Each try is bounded by the timeouts
   * (extractors/client/timeouts.ts), so a try that timed out leaves the next ones their turn.
   */
  maxWaitMs: number;
  backoff: BackoffOptions;
  sleep?: Sleep;
}

export const DEFAULT_HTTP_RETRY: HttpRetryOptions = { attempts: 5, maxWaitMs: 5 * 60_000, backoff: DEFAULT_BACKOFF };

/**
 * docs/salesforce.md#oauth-session-expiry: a call replays with each new session at most this often; together with
 * the token provider's re-logins per minute this makes a revoked session an error, never a loop.
 */
export const MAX_REAUTHS_PER_CALL = MAX_REFRESHES_PER_MINUTE;

export interface SalesforceHttpOptions {
  tokens: TokenProvider;
  /** e.g. '62.0' (docs/salesforce.md#api-versions). */
  apiVersion: string;
  log: Logger;
  retry?: Partial<HttpRetryOptions>;
  onLimitInfo?: (info: LimitInfo) => void;
  signal?: AbortSignal;
  /** docs/salesforce.md#timeouts: response-header and body-idle bounds of every call; default DEFAULT_HTTP_TIMEOUTS. */
  timeouts?: Partial<HttpTimeouts>;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /**
   * false for calls that create something (Bulk job create): retried only when the server certainly did not act
   * (429/503), never after a dropped connection or a 500, which could leave a duplicate job.
   */
  idempotent?: boolean;
}

export interface JsonResponse<T> {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string | undefined>;
  /** Undefined for an empty body (304 Not Modified). */
  body: T | undefined;
}

export interface StreamResponse {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string | undefined>;
  /** The body; destroy it to stop early. */
  data: Readable;
  /**
   * The body's chunks, each wait bounded by the idle timeout (docs/salesforce.md#timeouts): read through this, a
   * body that stalls fails with ETIMEDOUT instead of hanging. Read it once.
   */
  chunks(): AsyncGenerator<Buffer>;
}

export interface SalesforceHttp {
  readonly apiVersion: string;
  readonly log: Logger;
  /**
   * HTTP calls sent so far (each one counts against the daily allowance, docs/salesforce.md#limits), retries included.
   */
  readonly calls: number;
  readonly lastLimitInfo: LimitInfo | undefined;
  readonly retry: HttpRetryOptions;
  readonly timeouts: HttpTimeouts;
  readonly signal: AbortSignal | undefined;
  /**
   * Salesforce's clock: the local clock corrected by the `Date` header of the newest response (whole seconds, so
   * it may lag by up to one second, which is the safe side for a watermark cap). The local clock before any call.
   */
  serverNow(): Date;
  /**
   * A client sharing this one's session, settings and limit info with its own `calls` counter (this client still
   * counts every call too): one per object, so each run records the calls it spent.
   */
  fork(): SalesforceHttp;
  /**
   * The instance the calls go to (docs/salesforce.md#login-hosts-and-instance-url): one org per instance URL, e.g. to
   * key an in-process cache.
   */
  instanceUrl(): Promise<string>;
  /** `path` is relative to /services/data/vXX.X/ unless it starts with '/' (e.g. a nextRecordsUrl). */
  get<T = unknown>(path: string, opts?: RequestOptions): Promise<T>;
  /**
   * A GET that also returns status and headers, for conditional requests whose 304 is an answer
   * (docs/salesforce.md#rest-request-conventions).
   */
  getResponse<T = unknown>(path: string, opts?: RequestOptions): Promise<JsonResponse<T>>;
  /** The raw body, for callers that parse JSON themselves (REST query keeps number precision). */
  getText(path: string, opts?: RequestOptions): Promise<string>;
  /** The raw body as bytes, for callers that parse it elsewhere (a worker thread). */
  getBytes(path: string, opts?: RequestOptions): Promise<Buffer>;
  post<T = unknown>(path: string, body: unknown, opts?: RequestOptions): Promise<T>;
  patch<T = unknown>(path: string, body: unknown, opts?: RequestOptions): Promise<T>;
  delete(path: string, opts?: RequestOptions): Promise<void>;
  /**
   * PUT raw bytes (a Bulk ingest job's one CSV upload, docs/salesforce.md#bulk-api-20-ingest); the buffer is kept, so
   * a retry sends it again.
   */
  putBytes(path: string, body: Buffer, contentType: string, opts?: RequestOptions): Promise<void>;
  /** A body too large to hold in memory (an ingest job's CSV), opened again for every attempt. */
  putStream(path: string, body: UploadBody, contentType: string, opts?: RequestOptions): Promise<void>;
  /** A 2xx response whose body is not read yet; error statuses are classified and retried like any call. */
  getStream(path: string, opts?: RequestOptions): Promise<StreamResponse>;
}

/** A request body read from elsewhere (a file) each time it is sent, with its length in bytes. */
export interface UploadBody {
  open(): Readable;
  length: number;
}

const isUpload = (body: unknown): body is UploadBody =>
  typeof body === 'object' && body !== null && typeof (body as UploadBody).open === 'function';

/**
 * docs/salesforce.md#sforce-limit-info-header: `api-usage=18/5000` (other members such as api-bursts /
 * per-app-api-usage are ignored).
 */
export function parseLimitInfo(header: string | undefined): LimitInfo | undefined {
  const m = header ? /(?:^|[;,\s])api-usage=(\d+)\/(\d+)/.exec(header) : null;
  return m ? { used: Number(m[1]), max: Number(m[2]) } : undefined;
}

export { apiPath };

function headersOf(res: AxiosResponse): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(res.headers as Record<string, unknown>))
    out[k.toLowerCase()] = v == null ? undefined : String(v);
  return out;
}

/** An error body: small, so at most its first 64 KiB are read; never a whole result. */
async function readSmallBody(data: Readable, idle: AsyncGenerator<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of idle) {
    chunks.push(chunk);
    size += chunk.length;
    if (size > 64 * 1024) break;
  }
  data.destroy();
  return Buffer.concat(chunks).toString('utf8');
}

/** Axios errors carry the request config (Authorization header): never let one escape, keep only the code. */
function networkError(err: unknown, method: string, url: string): unknown {
  if (axios.isCancel(err) || (err as { code?: string }).code === 'ERR_CANCELED') return err;
  const code = (err as { code?: string }).code ?? 'NETWORK';
  const detail = (err as Error).message ?? code;
  return new SalesforceApiError(`Salesforce ${method} ${shortUrl(url)} failed: ${code} (${detail})`, {
    status: 0,
    errorCode: code,
    method,
    url,
    retryable: isRetryableNetworkError(err),
  });
}

/** What a call hands back: the body read (text, bytes) or still to read (stream). */
interface Reply {
  status: number;
  headers: Record<string, string | undefined>;
  method: string;
  url: string;
  data: string | Buffer | Readable;
  chunks?: () => AsyncGenerator<Buffer>;
}

type BodyKind = 'text' | 'bytes' | 'stream';

function retryableFor(idempotent: boolean) {
  return (err: unknown): boolean => {
    if (!(err instanceof SalesforceApiError) || !err.retryable) return false;
    return idempotent || err.status === 429 || err.status === 503;
  };
}

function noteServerDate(shared: Shared, header: string | undefined): void {
  const server = header ? Date.parse(header) : Number.NaN;
  if (!Number.isNaN(server)) shared.clockOffsetMs = server - Date.now();
}

/** What a client and its forks share. */
interface Shared {
  client: AxiosInstance;
  retry: HttpRetryOptions;
  timeouts: HttpTimeouts;
  lastLimitInfo: LimitInfo | undefined;
  /** Server clock minus local clock, from the newest response's Date header. */
  clockOffsetMs: number;
}

export function createSalesforceHttp(opts: SalesforceHttpOptions): SalesforceHttp {
  const retry: HttpRetryOptions = { ...DEFAULT_HTTP_RETRY, ...opts.retry };
  const timeouts: HttpTimeouts = { ...DEFAULT_HTTP_TIMEOUTS, ...opts.timeouts };
  const client = axios.create({ validateStatus: () => true, maxRedirects: 0 });
  return buildClient(opts, { client, retry, timeouts, lastLimitInfo: undefined, clockOffsetMs: 0 }, []);
}

/** `counters` of the ancestors: a call through a fork counts for the fork and every client above it. */
function buildClient(opts: SalesforceHttpOptions, shared: Shared, ancestors: { calls: number }[]): SalesforceHttp {
  const { client, retry, timeouts } = shared;
  const own = { calls: 0 };
  const counters = [own, ...ancestors];

  /** One HTTP exchange, connect to response headers bounded by `timeouts.responseMs` (docs/salesforce.md#timeouts). */
  async function exchange(
    method: string,
    url: string,
    body: unknown,
    kind: BodyKind,
    ro: RequestOptions,
    accessToken: string,
    instanceUrl: string,
  ): Promise<AxiosResponse<Readable>> {
    const outer = ro.signal ?? opts.signal;
    const answered = new AbortController();
    const signal = outer ? AbortSignal.any([outer, answered.signal]) : answered.signal;
    const timer = setTimeout(() => answered.abort(), timeouts.responseMs);
    try {
      return await client.request<Readable>({
        method,
        baseURL: instanceUrl,
        url,
        data: body === undefined || Buffer.isBuffer(body) ? body : isUpload(body) ? body.open() : JSON.stringify(body),
        // An ingest upload may be up to ~100 MB (docs/salesforce.md#bulk-api-20-ingest); axios caps bodies at 10 MB.
        maxBodyLength: Number.POSITIVE_INFINITY,
        headers: {
          Accept: kind === 'stream' ? 'text/csv' : 'application/json',
          ...(body === undefined || Buffer.isBuffer(body)
            ? {}
            : isUpload(body)
              ? { 'Content-Length': String(body.length) }
              : { 'Content-Type': 'application/json; charset=utf-8' }),
          ...ro.headers,
          ...compressionFor(instanceUrl, ro.headers),
          Authorization: `Bearer ${accessToken}`,
        },
        // Every body is read here or by the caller through the idle bound, never by axios without one.
        responseType: 'stream',
        signal,
      });
    } catch (err) {
      if (answered.signal.aborted && !outer?.aborted) throw noAnswer(method, url, timeouts.responseMs);
      throw networkError(err, method, url);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The body's chunks under the idle bound; a failure mid-body is a network error the table can retry. */
  async function* bodyChunks(data: Readable, method: string, url: string): AsyncGenerator<Buffer> {
    try {
      yield* idleChunks(data, timeouts.idleMs, () => bodyStalled(method, url, timeouts.idleMs));
    } catch (err) {
      throw err instanceof SalesforceApiError ? err : networkError(err, method, url);
    }
  }

  async function sendOnce(
    method: string,
    url: string,
    body: unknown,
    kind: BodyKind,
    ro: RequestOptions,
  ): Promise<Reply> {
    let reauths = 0;
    for (;;) {
      const session = await opts.tokens.get();
      for (const c of counters) c.calls++;
      const res = await exchange(method, url, body, kind, ro, session.accessToken, session.instanceUrl);
      const headers = headersOf(res);
      noteServerDate(shared, headers.date);
      const info = parseLimitInfo(headers['sforce-limit-info']);
      if (info) {
        shared.lastLimitInfo = info;
        opts.onLimitInfo?.(info);
      }
      // 304 answers a conditional request (If-Modified-Since on describe, docs/salesforce.md#rest-request-conventions,
      // #http-statuses): not an error.
      if ((res.status >= 200 && res.status < 300) || res.status === 304) {
        const reply = { status: res.status, headers, method, url };
        if (kind === 'stream') return { ...reply, data: res.data, chunks: () => bodyChunks(res.data, method, url) };
        const parts: Buffer[] = [];
        for await (const chunk of bodyChunks(res.data, method, url)) parts.push(chunk);
        const bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
        return { ...reply, data: kind === 'bytes' ? bytes : bytes.toString('utf8').replace(/^\uFEFF/, '') };
      }
      const err = apiErrorOf({
        status: res.status,
        method,
        url,
        body: await readSmallBody(res.data, bodyChunks(res.data, method, url)),
        contentType: headers['content-type'],
        retryAfter: headers['retry-after'],
      });
      if (classifyResponse(err.status, err.errorCode) !== 'reauth') throw err;
      // docs/salesforce.md#oauth-session-expiry: log in again (one login shared by every caller holding the same
      // stale token) and replay with the new session; bounded per call and per minute, so never a loop.
      const fresh = reauths < MAX_REAUTHS_PER_CALL ? await opts.tokens.refresh(session.accessToken) : null;
      if (fresh === null) {
        const why =
          reauths >= MAX_REAUTHS_PER_CALL
            ? `still refused after ${reauths} new sessions`
            : 'the session keeps being revoked: no further login this minute';
        throw new SalesforceApiError(`${err.message}; ${why}`, err);
      }
      reauths++;
    }
  }

  function send(method: string, path: string, body: unknown, kind: BodyKind, ro: RequestOptions = {}): Promise<Reply> {
    const url = apiPath(opts.apiVersion, path);
    // docs/salesforce.md#uri-length: a request Salesforce would refuse for its length is not sent at all.
    if (!fitsInUri(url)) return Promise.reject(uriTooLong(method, url));
    return withRetry(() => sendOnce(method, url, body, kind, ro), {
      attempts: retry.attempts,
      maxWaitMs: retry.maxWaitMs,
      isRetryable: retryableFor(ro.idempotent ?? method !== 'POST'),
      delayMs: (n, err) => retryDelay(n, (err as SalesforceApiError).retryAfterMs, retry.backoff),
      signal: ro.signal ?? opts.signal,
      sleep: retry.sleep,
      onRetry: (err, n, delayMs) =>
        opts.log.warn(
          { method, url, errorCode: (err as SalesforceApiError).errorCode, retry: n + 1, delayMs },
          'retrying Salesforce call',
        ),
    });
  }

  const json = <T>(res: Reply): T => {
    const text = res.data as string;
    if (text === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new DataError(`Salesforce answered ${res.method} ${res.url} with a body that is not JSON`);
    }
  };

  return {
    apiVersion: opts.apiVersion,
    log: opts.log,
    retry,
    timeouts,
    signal: opts.signal,
    get calls() {
      return own.calls;
    },
    get lastLimitInfo() {
      return shared.lastLimitInfo;
    },
    serverNow: () => new Date(Date.now() + shared.clockOffsetMs),
    fork: () => buildClient(opts, shared, counters),
    instanceUrl: async () => (await opts.tokens.get()).instanceUrl,
    get: async (path, ro) => json(await send('GET', path, undefined, 'text', ro)),
    getResponse: async (path, ro) => {
      const res = await send('GET', path, undefined, 'text', ro);
      return { status: res.status, headers: res.headers, body: json(res) };
    },
    getText: async (path, ro) => (await send('GET', path, undefined, 'text', ro)).data as string,
    getBytes: async (path, ro) => (await send('GET', path, undefined, 'bytes', ro)).data as Buffer,
    post: async (path, body, ro) => json(await send('POST', path, body, 'text', ro)),
    patch: async (path, body, ro) => json(await send('PATCH', path, body, 'text', ro)),
    delete: async (path, ro) => {
      await send('DELETE', path, undefined, 'text', ro);
    },
    putBytes: async (path, body, contentType, ro) => {
      await send('PUT', path, body, 'text', { ...ro, headers: { ...ro?.headers, 'Content-Type': contentType } });
    },
    putStream: async (path, body, contentType, ro) => {
      await send('PUT', path, body, 'text', { ...ro, headers: { ...ro?.headers, 'Content-Type': contentType } });
    },
    getStream: async (path, ro) => {
      const res = await send('GET', path, undefined, 'stream', ro);
      return { status: res.status, headers: res.headers, data: res.data as Readable, chunks: res.chunks! };
    },
  };
}

/**
 * Compression only spends CPU when the instance is on this machine (the local emulator), so loopback asks for identity
 * (docs/benchmarks.md#no-gzip-on-loopback). Across a real network gzip saves far more than it costs
 * (docs/salesforce.md#bulk-api-20-query-results), so it stays on everywhere else.
 */
function compressionFor(instanceUrl: string, headers: Record<string, string> | undefined): Record<string, string> {
  if (headers?.['Accept-Encoding'] !== 'gzip') return {};
  return isLoopback(new URL(instanceUrl)) ? { 'Accept-Encoding': 'identity' } : {};
}
