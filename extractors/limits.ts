// GET /limits (docs/salesforce.md#limits-resource): the org's daily allowances, for the API budget guard.
import { DataError } from '../lib/errors.ts';
import type { SalesforceHttp } from './client/salesforceHttp.ts';

export interface Limit {
  max: number;
  remaining: number;
}

/** Keyed by Salesforce's names: DailyApiRequests, DailyBulkV2QueryJobs, DailyBulkV2QueryFileStorageMB, ... */
export type Limits = Record<string, Limit>;

/**
 * docs/salesforce.md#limits-resource: every key is {Max, Remaining}; very old orgs sent the numbers as strings. Per-app
 * sub-objects are ignored.
 */
export function parseLimits(body: unknown): Limits {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw new DataError('/limits did not answer a JSON object');
  const out: Limits = {};
  for (const [name, v] of Object.entries(body as Record<string, unknown>)) {
    const { Max, Remaining } = (v ?? {}) as { Max?: unknown; Remaining?: unknown };
    const max = Number(Max);
    const remaining = Number(Remaining);
    if (Max !== undefined && Remaining !== undefined && Number.isFinite(max) && Number.isFinite(remaining))
      out[name] = { max, remaining };
  }
  return out;
}

export async function getLimits(http: SalesforceHttp): Promise<Limits> {
  return parseLimits(await http.get('limits/'));
}
