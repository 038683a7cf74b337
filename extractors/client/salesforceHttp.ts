// The one Salesforce API client (axios): Bearer auth, one re-auth on 401, retries per extractors/client/retry.ts,
// Sforce-Limit-Info on every response (docs/salesforce.md#sforce-limit-info-header), call counting for the API budget.
import type { Readable } from 'node:stream';
import axios, { type AxiosInstance, type AxiosResponse, type ResponseType } from 'axios';
import { DataError, SalesforceApiError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import { isLoopback } from '../../lib/loopback.ts';
import { type BackoffOptions, DEFAULT_BACKOFF, type Sleep, retryDelay, withRetry } from '../../lib/retry.ts';
import { apiErrorOf, classifyResponse, isRetryableNetworkError } from './retry.ts';
import type { TokenProvider } from './tokenProvider.ts';

export interface LimitInfo {
  used: number;
  max: number;
}

export interface HttpRetryOptions {
  /** Tries per call, including the first. */
  attempts: number;
  /** Stop retrying once this much time has passed since the call began. */
  maxTotalMs: number;
  backoff: BackoffOptions;
  sleep?: Sleep;
}

export const DEFAULT_HTTP_RETRY: HttpRetryOptions = { attempts: 5, maxTotalMs: 5 * 60_000, backoff: DEFAULT_BACKOFF };

export interface SalesforceHttpOptions {
  tokens: TokenProvider;
  /** e.g. '62.0' (docs/salesforce.md#api-versions). */
  apiVersion: string;
  log: Logger;
  retry?: Partial<HttpRetryOptions>;
  onLimitInfo?: (info: LimitInfo) => void;
  signal?: AbortSignal;
  /** Per-request timeout for JSON calls (docs/salesforce.md#limits: REST calls time out at 10 minutes server side). */
  timeoutMs?: number;
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
  data: Readable;
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
  /** A 2xx response whose body is not read yet; error statuses are classified and retried like any call. */
  getStream(path: string, opts?: RequestOptions): Promise<StreamResponse>;
}

/**
 * docs/salesforce.md#sforce-limit-info-header: `api-usage=18/5000` (other members such as api-bursts /
 * per-app-api-usage are ignored).
 */
export function parseLimitInfo(header: string | undefined): LimitInfo | undefined {
  const m = header ? /(?:^|[;,\s])api-usage=(\d+)\/(\d+)/.exec(header) : null;
  return m ? { used: Number(m[1]), max: Number(m[2]) } : undefined;
}

export function apiPath(apiVersion: string, path: string): string {
  return path.startsWith('/') ? path : `/services/data/v${apiVersion}/${path}`;
}

function headersOf(res: AxiosResponse): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(res.headers as Record<string, unknown>))
    out[k.toLowerCase()] = v == null ? undefined : String(v);
  return out;
}

async function readSmallBody(data: unknown): Promise<string> {
  if (typeof data === 'string') return data;
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (data && typeof (data as Readable)[Symbol.asyncIterator] === 'function') {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of data as Readable) {
      chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
      if (size > 64 * 1024) break; // an error body is small; never buffer a whole result
    }
    (data as Readable).destroy();
    return Buffer.concat(chunks).toString('utf8');
  }
  return '';
}

/** Axios errors carry the request config (Authorization header): never let one escape, keep only the code. */
function networkError(err: unknown, method: string, url: string): unknown {
  if (axios.isCancel(err) || (err as { code?: string }).code === 'ERR_CANCELED') return err;
  const code = (err as { code?: string }).code ?? 'NETWORK';
  const detail = (err as Error).message ?? code;
  return new SalesforceApiError(`Salesforce ${method} ${url} failed: ${code} (${detail})`, {
    status: 0,
    errorCode: code,
    method,
    url,
    retryable: isRetryableNetworkError(err),
  });
}

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
  lastLimitInfo: LimitInfo | undefined;
  /** Server clock minus local clock, from the newest response's Date header. */
  clockOffsetMs: number;
}

export function createSalesforceHttp(opts: SalesforceHttpOptions): SalesforceHttp {
  const retry: HttpRetryOptions = { ...DEFAULT_HTTP_RETRY, ...opts.retry };
  const client = axios.create({ validateStatus: () => true, maxRedirects: 0 });
  return buildClient(opts, { client, retry, lastLimitInfo: undefined, clockOffsetMs: 0 }, []);
}

/** `counters` of the ancestors: a call through a fork counts for the fork and every client above it. */
function buildClient(opts: SalesforceHttpOptions, shared: Shared, ancestors: { calls: number }[]): SalesforceHttp {
  const { client, retry } = shared;
  const own = { calls: 0 };
  const counters = [own, ...ancestors];

  async function sendOnce(
    method: string,
    url: string,
    body: unknown,
    responseType: ResponseType,
    ro: RequestOptions,
  ): Promise<AxiosResponse> {
    let reauthed = false;
    for (;;) {
      const session = await opts.tokens.get();
      for (const c of counters) c.calls++;
      let res: AxiosResponse;
      try {
        res = await client.request({
          method,
          baseURL: session.instanceUrl,
          url,
          data: body === undefined ? undefined : JSON.stringify(body),
          headers: {
            Accept: responseType === 'stream' ? 'text/csv' : 'application/json',
            ...(body === undefined ? {} : { 'Content-Type': 'application/json; charset=utf-8' }),
            ...ro.headers,
            ...compressionFor(session.instanceUrl, ro.headers),
            Authorization: `Bearer ${session.accessToken}`,
          },
          responseType,
          transformResponse: [(d: unknown) => d],
          timeout: responseType === 'stream' ? 0 : (opts.timeoutMs ?? 600_000),
          signal: ro.signal ?? opts.signal,
        });
      } catch (err) {
        throw networkError(err, method, url);
      }
      noteServerDate(shared, headersOf(res).date);
      const info = parseLimitInfo(headersOf(res)['sforce-limit-info']);
      if (info) {
        shared.lastLimitInfo = info;
        opts.onLimitInfo?.(info);
      }
      // 304 answers a conditional request (If-Modified-Since on describe, docs/salesforce.md#rest-request-conventions,
      // #http-statuses): not an error.
      if ((res.status >= 200 && res.status < 300) || res.status === 304) return res;
      const headers = headersOf(res);
      const err = apiErrorOf({
        status: res.status,
        method,
        url,
        body: await readSmallBody(res.data),
        contentType: headers['content-type'],
        retryAfter: headers['retry-after'],
      });
      // docs/salesforce.md#oauth-session-expiry: re-mint once (shared by every caller holding the same stale token),
      // replay once, then fail.
      if (!reauthed && classifyResponse(err.status, err.errorCode) === 'reauth') {
        reauthed = true;
        await opts.tokens.refresh(session.accessToken);
        continue;
      }
      throw err;
    }
  }

  function send(
    method: string,
    path: string,
    body: unknown,
    responseType: ResponseType,
    ro: RequestOptions = {},
  ): Promise<AxiosResponse> {
    const url = apiPath(opts.apiVersion, path);
    return withRetry(() => sendOnce(method, url, body, responseType, ro), {
      attempts: retry.attempts,
      maxTotalMs: retry.maxTotalMs,
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

  const json = <T>(res: AxiosResponse): T => {
    const text = res.data as string;
    if (text === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new DataError(
        `Salesforce answered ${res.config.method?.toUpperCase()} ${res.config.url} with a body that is not JSON`,
      );
    }
  };

  return {
    apiVersion: opts.apiVersion,
    log: opts.log,
    retry,
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
      return { status: res.status, headers: headersOf(res), body: json(res) };
    },
    getText: async (path, ro) => (await send('GET', path, undefined, 'text', ro)).data as string,
    getBytes: async (path, ro) => (await send('GET', path, undefined, 'arraybuffer', ro)).data as Buffer,
    post: async (path, body, ro) => json(await send('POST', path, body, 'text', ro)),
    patch: async (path, body, ro) => json(await send('PATCH', path, body, 'text', ro)),
    delete: async (path, ro) => {
      await send('DELETE', path, undefined, 'text', ro);
    },
    getStream: async (path, ro) => {
      const res = await send('GET', path, undefined, 'stream', ro);
      return { status: res.status, headers: headersOf(res), data: res.data as Readable };
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
