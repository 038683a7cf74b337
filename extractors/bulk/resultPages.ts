// docs/salesforce.md#bulk-api-20-parallel-results (API 58.0+): the result page URLs of a JobComplete Bulk API 2.0 query
// job, listed up to 5 at a time by GET /jobs/query/{id}/resultPages and followed by nextRecordsUrl, so several pages
// can be downloaded at once.
import { DataError } from '../../lib/errors.ts';
import { actionFor } from '../../lib/errorActions.ts';
import type { SalesforceHttp } from '../client/salesforceHttp.ts';

/** docs/salesforce.md#bulk-api-20-parallel-results: resultPages exists from API 58.0 on. */
export const RESULT_PAGES_MIN_VERSION = 58;

export interface ResultPageList {
  /**
   * The next page's URL (a server-relative `resultUrl`, docs/salesforce.md#bulk-api-20-parallel-results), or null when
   * none remain; lists more when needed.
   */
  next(): Promise<string | null>;
  /** Number of pages, once the last listing has arrived. */
  readonly total: number | undefined;
}

interface Listing {
  urls: string[];
  nextUrl: string | null;
}

/**
 * The member names are not settled (docs/salesforce.md#bulk-api-20-parallel-results: doc table
 * `resultUrl`/`nextRecordUrl`, prose `nextRecordsUrl`, a third-party schema `resultLink`): all are accepted; anything
 * else is refused rather than guessed.
 */
function parseListing(body: unknown, where: string): Listing {
  const b = (body ?? {}) as {
    resultPages?: unknown;
    nextRecordsUrl?: unknown;
    nextRecordUrl?: unknown;
    done?: unknown;
  };
  if (!Array.isArray(b.resultPages)) throw new DataError(`${where}: resultPages reply has no resultPages array`);
  const urls = b.resultPages.map((p: { resultUrl?: unknown; resultLink?: unknown } | null) => {
    const url = p?.resultUrl ?? p?.resultLink;
    if (typeof url !== 'string' || url === '') throw new DataError(`${where}: resultPages entry without a resultUrl`);
    return url;
  });
  const next = b.nextRecordsUrl ?? b.nextRecordUrl;
  const nextUrl = b.done !== true && typeof next === 'string' && next !== '' ? next : null;
  if (urls.length === 0 && nextUrl !== null)
    throw new DataError(`${where}: resultPages reply lists no page but is not done`);
  return { urls, nextUrl };
}

/**
 * The page list of a job, or null when resultPages is unavailable (API < 58.0, 404 as from an org or proxy without it,
 * or a first reply of a shape the documentation does not describe): the caller then walks Sforce-Locator pages
 * (docs/salesforce.md#bulk-api-20-query-results), which relies on nothing unsettled. 409 (another API version), 412
 * (not complete) and the like are errors, as they would be for /results.
 */
export async function openResultPages(
  http: SalesforceHttp,
  jobId: string,
  opts: { maxRecords?: number; signal?: AbortSignal },
): Promise<ResultPageList | null> {
  if (!(Number(http.apiVersion) >= RESULT_PAGES_MIN_VERSION)) return null;
  const where = `Bulk job ${jobId}`;
  const query = opts.maxRecords === undefined ? '' : `?maxRecords=${opts.maxRecords}`;
  const first = `jobs/query/${jobId}/resultPages${query}`;
  let listing: Listing;
  try {
    listing = parseListing(await http.get(first, { signal: opts.signal }), where);
  } catch (err) {
    if (actionFor(err, 'resultPages') !== 'sequential-pages') throw err;
    if (err instanceof DataError)
      http.log.warn({ jobId, err: err.message }, 'resultPages reply not understood; reading result pages one by one');
    return null;
  }
  let listed = listing.urls.length;
  let total = listing.nextUrl === null ? listed : undefined;
  let at = 0;
  return {
    get total() {
      return total;
    },
    async next() {
      while (at >= listing.urls.length) {
        if (listing.nextUrl === null) return null;
        listing = parseListing(await http.get(listing.nextUrl, { signal: opts.signal }), where);
        at = 0;
        listed += listing.urls.length;
        if (listing.nextUrl === null) total = listed;
      }
      return listing.urls[at++] as string;
    },
  };
}
