// When Bulk API 2.0 refuses a query at job creation, REST can still run it (salesforce-api.md §6.1, §6.7).
import { SalesforceApiError } from '../../lib/errors.ts';

const BULK_REFUSAL_CODES = new Set([
  'INVALIDENTITY',
  'INVALIDJOB',
  'FEATURENOTENABLED',
  'FUNCTIONALITY_NOT_ENABLED',
  'API_ERROR',
]);
const BULK_REFUSAL_TEXT =
  /not supported by the Bulk API|compound data not supported|does not support query|Implementation restriction|not supported in Bulk/i;

export function bulkRefused(err: unknown): boolean {
  if (!(err instanceof SalesforceApiError) || err.status !== 400) return false;
  return BULK_REFUSAL_CODES.has(err.errorCode) || BULK_REFUSAL_TEXT.test(err.message);
}
