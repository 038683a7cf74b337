// docs/salesforce.md#uri-length: every GET that carries SOQL stays under Salesforce's 16,384-byte URI limit. A wide
// object's delta does not fit (it goes through Bulk API 2.0: pipelines/sync/syncObject.ts), verify's sample is split
// into field groups that fit, and nothing over the limit is ever sent.
import { describe, expect, it } from 'vitest';
import { restQueryFits } from '../../extractors/rest/query.ts';
import { buildSelect } from '../../extractors/soql.ts';
import { URI_BUDGET_BYTES, apiPath, fitsInUri, uriTooLong } from '../../extractors/client/uriLength.ts';
import { sampleFieldGroups } from '../../pipelines/completeness/verify.ts';
import { restSoql } from '../../pipelines/sync/restLoad.ts';
import type { ObjectSpec } from '../../schemas/records.ts';
import { fieldSpec } from '../support/fieldSpec.ts';

const field = (name: string) => fieldSpec(name);

/** An Account with `n` namespaced custom fields of the length enterprise orgs have (about 40 characters). */
function account(n: number): ObjectSpec {
  const custom = Array.from(
    { length: n },
    (_, i) => `acme_ns__Revenue_Forecast_Field_${String(i).padStart(4, '0')}__c`,
  );
  return {
    name: 'Account',
    table: 'account',
    label: 'Account',
    fields: ['Id', 'Name', 'SystemModstamp', ...custom].map(field),
    cursorField: 'SystemModstamp',
    hasIsDeleted: true,
  };
}

const http = { apiVersion: '62.0' };
const delta = { mode: 'incremental' as const, from: '2026-01-01T00:00:00.000Z' };

describe('URI length', () => {
  it("fits a usual object's delta query in a GET, not an enterprise Account's 600 fields", () => {
    expect(restQueryFits(http, restSoql(account(40), delta), true)).toBe(true);
    const wide = restSoql(account(600), delta);
    expect(restQueryFits(http, wide, true)).toBe(false);
    // Well below the 100,000 characters a SOQL statement may have: only the GET's URI is the problem.
    expect(wide.length).toBeLessThan(100_000);
  });

  it('keeps a margin for the headers under the 16,384 bytes Salesforce accepts', () => {
    expect(URI_BUDGET_BYTES).toBeLessThan(16_384);
    expect(fitsInUri(`/services/data/v62.0/query?q=${'x'.repeat(URI_BUDGET_BYTES - 29)}`)).toBe(true);
    expect(fitsInUri(`/services/data/v62.0/query?q=${'x'.repeat(URI_BUDGET_BYTES - 28)}`)).toBe(false);
    expect(apiPath('62.0', 'query?q=x')).toBe('/services/data/v62.0/query?q=x');
  });

  it('reports a request that would be too long as 414 URI_TOO_LONG, not sent, with its size', () => {
    const err = uriTooLong('GET', `/services/data/v62.0/queryAll?q=${'SELECT%20'.repeat(3000)}`);
    expect(err.status).toBe(414);
    expect(err.errorCode).toBe('URI_TOO_LONG');
    expect(err.message).toMatch(/not sent: its URI would be 27032 bytes, more than the 16384 Salesforce accepts/);
    expect(err.message.length).toBeLessThan(400);
  });

  it("splits verify's sample query of a wide object into field groups that each fit, every field once", () => {
    expect(sampleFieldGroups(http, account(40))).toHaveLength(1);
    const spec = account(624);
    const groups = sampleFieldGroups(http, spec);
    expect(groups.length).toBeGreaterThan(1);
    for (const g of groups) {
      expect(g[0]!.name).toBe('Id');
      const ids = Array(50).fill(`'001000000000000AAA'`).join(', ');
      const soql = `${buildSelect(spec, { fields: g.map((f) => f.name) })} WHERE Id IN (${ids})`;
      expect(restQueryFits(http, soql, true)).toBe(true);
    }
    const names = groups.flatMap((g) => g.slice(1).map((f) => f.name));
    expect(names).toEqual(spec.fields.slice(1).map((f) => f.name));
  });
});
