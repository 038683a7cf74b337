// jsforce (a real Bulk API 2.0 client) upserting through the emulator's ingest jobs: the successful and failed
// results it parses must match what the store now holds (docs/salesforce.md#bulk-api-20-ingest).
import { Connection } from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/index.ts';
import { assertion } from '../support/emulatorClient.ts';
import { orgRecords } from '../support/org.ts';

let em: Emulator;
let conn: Connection;

beforeAll(async () => {
  em = await createEmulator({ accounts: 200, seed: 13 });
  conn = new Connection({ loginUrl: em.loginUrl, version: '62.0' });
  await conn.authorize({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: await assertion(em) });
  conn.bulk2.pollInterval = 20;
  conn.bulk2.pollTimeout = 60_000;
});
afterAll(async () => {
  await em?.close();
});

describe('jsforce bulk2 upsert against the emulator', () => {
  it('gets the successful and failed results Salesforce would give', async () => {
    const target = orgRecords(em.store, 'Account', { includeDeleted: false })[5];
    if (!target) throw new Error('no account');
    em.admin.update(target.Id, { External_Id__c: 'JS-1' });
    em.admin.setValidationRule('Account', {
      name: 'Revenue_Not_Negative',
      message: 'Annual Revenue must not be negative',
      errorField: 'AnnualRevenue',
      condition: { field: 'AnnualRevenue', op: 'lt', value: 0 },
    });
    const res = await conn.bulk2.loadAndWaitForResults({
      object: 'Account',
      operation: 'upsert',
      externalIdFieldName: 'External_Id__c',
      input: [
        { External_Id__c: 'JS-1', Name: 'Updated by jsforce', AnnualRevenue: 10, NumberOfEmployees: 3 },
        { External_Id__c: 'JS-2', Name: 'Inserted by jsforce', AnnualRevenue: 20, NumberOfEmployees: 4 },
        { External_Id__c: 'JS-3', Name: 'Negative revenue', AnnualRevenue: -5, NumberOfEmployees: 5 },
        { External_Id__c: 'JS-4', Name: 'Bad employees', AnnualRevenue: 1, NumberOfEmployees: 'many' },
      ],
    });
    const ok = res.successfulResults as unknown as Record<string, string>[];
    expect(ok.map((r) => [r.sf__Created, r.External_Id__c])).toEqual([
      ['false', 'JS-1'],
      ['true', 'JS-2'],
    ]);
    expect(res.successfulResults[0]?.sf__Id).toBe(target.Id);
    expect(em.store.get(target.Id)).toMatchObject({ Name: 'Updated by jsforce', AnnualRevenue: '10' });
    const inserted = em.store.get(String(res.successfulResults[1]?.sf__Id));
    expect(inserted).toMatchObject({ Name: 'Inserted by jsforce', External_Id__c: 'JS-2' });
    const failed = new Map(
      (res.failedResults as unknown as Record<string, string>[]).map((r) => [r.External_Id__c, r]),
    );
    expect(failed.get('JS-3')).toMatchObject({
      sf__Id: '',
      sf__Error: 'FIELD_CUSTOM_VALIDATION_EXCEPTION:Annual Revenue must not be negative:AnnualRevenue --',
      Name: 'Negative revenue',
    });
    expect(String(failed.get('JS-4')?.sf__Error)).toMatch(
      /^INVALID_FIELD:Failed to deserialize field .*:NumberOfEmployees --$/,
    );
    expect(res.unprocessedRecords).toEqual([]);
    const soql = "SELECT Id FROM Account WHERE External_Id__c = 'JS-3'";
    expect((await conn.query(soql)).totalSize).toBe(0);
  });
});
