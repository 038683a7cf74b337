// docs/salesforce.md#uri-length: Salesforce answers 414 to a request URI over 16,384 bytes and 431 when the URI and
// the headers together pass it (help.salesforce.com article 000386264). SOQL sent in a GET (`query?q=...`) grows
// with the SELECT list, so a wide object's query can pass the limit: every request is measured before it is sent.
import { SalesforceApiError } from '../../lib/errors.ts';

export const MAX_URI_BYTES = 16_384;
/** Kept free for the request headers (Authorization, Accept, ...), which the 431 limit counts with the URI. */
export const HEADER_ALLOWANCE_BYTES = 2_048;
/** The longest path-and-query sfsync sends. */
export const URI_BUDGET_BYTES = MAX_URI_BYTES - HEADER_ALLOWANCE_BYTES;

/** The request target of an API path: relative to /services/data/vXX.X/ unless it starts with '/'. */
export function apiPath(apiVersion: string, path: string): string {
  return path.startsWith('/') ? path : `/services/data/v${apiVersion}/${path}`;
}

/** Bytes of a request target (path and query, as sent: already percent-encoded). */
export function uriBytes(pathAndQuery: string): number {
  return Buffer.byteLength(pathAndQuery, 'utf8');
}

export function fitsInUri(pathAndQuery: string): boolean {
  return uriBytes(pathAndQuery) <= URI_BUDGET_BYTES;
}

/** A URL as an error line shows it: a query's can be kilobytes long (a wide SELECT list), so only its start. */
export function shortUrl(url: string, max = 300): string {
  return url.length > max ? `${url.slice(0, max)}...` : url;
}

/** A request refused before it was sent: Salesforce would answer 414 (or 431), so it is reported as that. */
export function uriTooLong(method: string, pathAndQuery: string): SalesforceApiError {
  const shown = shortUrl(pathAndQuery, 160);
  return new SalesforceApiError(
    `Salesforce ${method} ${shown} not sent: its URI would be ${uriBytes(pathAndQuery)} bytes, more than the ` +
      `${MAX_URI_BYTES} Salesforce accepts less ${HEADER_ALLOWANCE_BYTES} kept for the headers ` +
      '(docs/salesforce.md#uri-length)',
    { status: 414, errorCode: 'URI_TOO_LONG', method, url: shown },
  );
}
