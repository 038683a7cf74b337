// Which Salesforce failures are retried, re-authenticated or fatal, classified as data (docs/salesforce.md#retries,
// #http-statuses, #error-codes), plus turning a failed HTTP response into a SalesforceApiError.
import { SalesforceApiError } from '../../lib/errors.ts';
import { callActionFor, callActionForResponse, type Stage } from '../../lib/errorActions.ts';
import { parseRetryAfter } from '../../lib/retry.ts';
import { shortUrl } from './uriLength.ts';

export type FailureAction = 'reauth' | 'retry' | 'fatal';

/**
 * What SalesforceHttp does with a failed answer, by status and errorCode only (never by message): the rows of
 * lib/errorActions.ts's table; 'fatal' = pass it on to the caller, which asks the table what to do next.
 */
export function classifyResponse(status: number, errorCode: string, at?: Stage): FailureAction {
  return callActionForResponse(status, errorCode, at) ?? 'fatal';
}

/** A socket-level failure (Node or axios error code) the table retries. */
export function isRetryableNetworkError(err: unknown): boolean {
  return callActionFor(err) === 'retry';
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

/**
 * docs/salesforce.md#error-bodies: `[{"message","errorCode"}]`; several elements -> MULTIPLE_API_ERRORS; HTML (wrong
 * host, org down) -> a plain description.
 */
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
  const url = shortUrl(res.url);
  return new SalesforceApiError(`Salesforce ${res.status} ${errorCode}: ${message.trim()} (${res.method} ${url})`, {
    status: res.status,
    errorCode,
    method: res.method,
    url: res.url,
    retryable: action === 'retry',
    retryAfterMs: parseRetryAfter(res.retryAfter),
  });
}
