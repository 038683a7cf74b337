// Which Salesforce failures are retried, re-authenticated or fatal, classified as data (docs/salesforce.md#retries,
// #http-statuses, #error-codes), plus turning a failed HTTP response into a SalesforceApiError.
import { SalesforceApiError } from '../../lib/errors.ts';
import { parseRetryAfter } from '../../lib/retry.ts';

export type FailureAction = 'reauth' | 'retry' | 'fatal';

/** §2.4, §10: transient statuses the reference clients (Airbyte) retry with backoff. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([406, 420, 429, 500, 502, 503, 504]);

/** §2.5: transient by errorCode whatever the status. */
export const RETRYABLE_ERROR_CODES: ReadonlySet<string> = new Set(['SERVER_UNAVAILABLE', 'UNABLE_TO_LOCK_ROW']);

/** §10: retrying REQUEST_LIMIT_EXCEEDED only burns the org's quota; these win over any status rule. */
export const FATAL_ERROR_CODES: ReadonlySet<string> = new Set([
  'REQUEST_LIMIT_EXCEEDED',
  'MALFORMED_QUERY',
  'INVALID_FIELD',
  'INVALID_TYPE',
  'INVALID_QUERY_LOCATOR',
  'NOT_FOUND',
]);

/**
 * Socket-level failures (Node error codes; "socket hang up" and a body cut short are ECONNRESET). Z_BUF_ERROR is
 * a gzip body that ended early (§6.3 results are compressed): the same truncation seen through zlib.
 */
export const RETRYABLE_NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE',
  'Z_BUF_ERROR',
]);

/** §1.6: an expired session is the only 401 that a fresh token fixes. */
export function classifyResponse(status: number, errorCode: string): FailureAction {
  if (status === 401 && errorCode === 'INVALID_SESSION_ID') return 'reauth';
  if (FATAL_ERROR_CODES.has(errorCode)) return 'fatal';
  if (RETRYABLE_ERROR_CODES.has(errorCode) || RETRYABLE_STATUSES.has(status)) return 'retry';
  return 'fatal';
}

/** axios's name for a response body that broke off after the headers (the connection dropped mid-body). */
const BODY_ABORTED = /^stream has been aborted$/;

export function isRetryableNetworkError(err: unknown): boolean {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  if (code === 'ERR_BAD_RESPONSE') return typeof message === 'string' && BODY_ABORTED.test(message);
  return typeof code === 'string' && RETRYABLE_NETWORK_CODES.has(code);
}

/** Any error a caller may retry: a transient API response or a dropped connection. */
export function isTransient(err: unknown): boolean {
  if (err instanceof SalesforceApiError) return err.retryable;
  return isRetryableNetworkError(err);
}

export interface ErrorBody {
  errorCode: string;
  message: string;
}

/** §2.3: `[{"message","errorCode"}]`; several elements -> MULTIPLE_API_ERRORS; HTML (wrong host, org down) -> a plain description. */
export function parseErrorBody(status: number, body: string, contentType: string | undefined): ErrorBody {
  const fallback = { errorCode: `ERROR_HTTP_${status}`, message: `HTTP ${status}` };
  const trimmed = body.trim();
  if (trimmed === '') return fallback;
  if (/html/i.test(contentType ?? '') || trimmed.startsWith('<')) {
    return {
      ...fallback,
      message: `HTTP ${status} with an HTML page instead of JSON (wrong host, or the org is down for maintenance)`,
    };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    return { ...fallback, message: `HTTP ${status}: ${trimmed.slice(0, 200)}` };
  }
  const items = Array.isArray(parsed) ? parsed : [parsed];
  const first = items[0] as
    | { errorCode?: unknown; message?: unknown; error?: unknown; error_description?: unknown }
    | undefined;
  const code = first?.errorCode ?? first?.error;
  const message = first?.message ?? first?.error_description;
  if (typeof code !== 'string') return fallback;
  if (items.length > 1)
    return { errorCode: 'MULTIPLE_API_ERRORS', message: items.map((i) => `${i.errorCode}: ${i.message}`).join('; ') };
  return { errorCode: code, message: typeof message === 'string' ? message : code };
}

export interface FailedResponse {
  status: number;
  method: string;
  /** Already stripped of anything secret (the query string of SOQL is fine, tokens never travel in URLs). */
  url: string;
  body: string;
  contentType?: string;
  retryAfter?: string;
}

export function apiErrorOf(res: FailedResponse): SalesforceApiError {
  const { errorCode, message } = parseErrorBody(res.status, res.body, res.contentType);
  const action = classifyResponse(res.status, errorCode);
  return new SalesforceApiError(`Salesforce ${res.status} ${errorCode}: ${message.trim()} (${res.method} ${res.url})`, {
    status: res.status,
    errorCode,
    method: res.method,
    url: res.url,
    retryable: action === 'retry',
    retryAfterMs: parseRetryAfter(res.retryAfter),
  });
}
