// sObject getDeleted (docs/salesforce.md#getdeleted): ids deleted in a window, for hard-delete detection.
import { DataError } from '../lib/errors.ts';
import type { SalesforceHttp } from './client/salesforceHttp.ts';
import { assertSoqlName } from './soql.ts';

export interface DeletedRecords {
  ids: string[];
  deleted: { id: string; deletedDate: string }[];
  /**
   * Oldest entry still in the delete log; later than the last check means deletes were lost
   * (docs/salesforce.md#hard-delete-detection).
   */
  earliestDateAvailable: string | null;
  /** Use as the next window's start (docs/salesforce.md#getdeleted). */
  latestDateCovered: string | null;
}

/**
 * docs/salesforce.md#getdeleted: UTC with whole seconds (Salesforce ignores seconds anyway), e.g.
 * 2024-05-05T00:00:00+00:00.
 */
export function replicationDate(d: Date): string {
  if (Number.isNaN(d.getTime())) throw new DataError('getDeleted needs valid start and end dates');
  return d.toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

export async function getDeleted(
  http: SalesforceHttp,
  object: string,
  start: Date,
  end: Date,
): Promise<DeletedRecords> {
  assertSoqlName(object, 'Object');
  const query = `start=${encodeURIComponent(replicationDate(start))}&end=${encodeURIComponent(replicationDate(end))}`;
  const body = await http.get<{
    deletedRecords?: unknown;
    earliestDateAvailable?: unknown;
    latestDateCovered?: unknown;
  }>(`sobjects/${object}/deleted/?${query}`);
  if (!body || !Array.isArray(body.deletedRecords))
    throw new DataError(`getDeleted for ${object} lacks deletedRecords[]`);
  const deleted = (body.deletedRecords as { id?: unknown; deletedDate?: unknown }[]).map((r) => {
    if (typeof r?.id !== 'string') throw new DataError(`getDeleted for ${object} returned an entry without an id`);
    return { id: r.id, deletedDate: typeof r.deletedDate === 'string' ? r.deletedDate : '' };
  });
  const text = (v: unknown) => (typeof v === 'string' ? v : null);
  return {
    ids: deleted.map((d) => d.id),
    deleted,
    earliestDateAvailable: text(body.earliestDateAvailable),
    latestDateCovered: text(body.latestDateCovered),
  };
}
