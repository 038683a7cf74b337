// jsforce (a real Salesforce client, v3.10.16) against the emulator: where they disagree the emulator is wrong unless
// docs/salesforce.md says otherwise. Values are compared with the store's own data.
import { Connection } from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/index.ts';
import { assertion } from '../support/emulatorClient.ts';
import { orgRecords } from '../support/org.ts';

let em: Emulator;
let conn: Connection;

beforeAll(async () => {
  // 2,500 Accounts: REST query needs two pages of 2,000. Bulk results stay one page (default maxRecords 50,000):
  // jsforce 3.10.16 pipes every page into one parser and ends it with the first page ("write after end"), so it
  // cannot read multi-page Bulk results from any server; multi-page paging is covered in emulator-bulk.test.ts.
  em = await createEmulator({ accounts: 2500, seed: 9 });
  conn = new Connection({ loginUrl: em.loginUrl, version: '62.0' });
  await conn.authorize({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: await assertion(em) });
  conn.bulk2.pollInterval = 20;
  conn.bulk2.pollTimeout = 60_000;
});
afterAll(async () => {
  await em?.close();
});

const records = (object: string, includeDeleted: boolean) => orgRecords(em.store, object, { includeDeleted });

describe('jsforce against the emulator', () => {
  it('logs in with the JWT bearer flow and uses instance_url', async () => {
    expect(conn.instanceUrl).toBe(em.url);
    expect(conn.userInfo?.id).toBe(em.userId);
    expect(conn.userInfo?.organizationId).toBe(em.orgId);
  });

  it('query with autoFetch reads every page and matches the store', async () => {
    const res = await conn.query<{ Id: string; Name: string }>('SELECT Id, Name FROM Account', {
      autoFetch: true,
      maxFetch: 1_000_000,
    });
    const live = records('Account', false);
    expect(res.totalSize).toBe(live.length);
    expect(res.records.length).toBe(live.length);
    expect(new Map(res.records.map((r) => [r.Id, r.Name]))).toEqual(new Map(live.map((r) => [r.Id, r.Name])));
  });

  it('queryAll includes deleted rows', async () => {
    const victims = records('Account', false).slice(0, 4);
    for (const v of victims) em.admin.delete(v.Id);
    const res = await conn.query<{ Id: string; IsDeleted: boolean }>('SELECT Id, IsDeleted FROM Account', {
      scanAll: true,
      autoFetch: true,
      maxFetch: 1_000_000,
    });
    expect(res.records.length).toBe(records('Account', true).length);
    const deleted = new Set(
      res.records.filter((r: { IsDeleted: boolean }) => r.IsDeleted).map((r: { Id: string }) => r.Id),
    );
    for (const v of victims) expect(deleted.has(v.Id)).toBe(true);
  });

  it('bulk2.query reads every record of the object', async () => {
    const stream = await conn.bulk2.query('SELECT Id, Name, AnnualRevenue FROM Account', { scanAll: true });
    const rows: Record<string, string>[] = [];
    for await (const r of stream as AsyncIterable<Record<string, string>>) rows.push(r);
    // docs/salesforce.md#jsforce-and-multi-page-bulk-results: were there several pages, their header rows would come
    // out as records.
    const data = rows.filter((r) => !(r.Id === 'Id' && r.Name === 'Name'));
    const all = records('Account', true);
    expect(data.length).toBe(all.length);
    expect(new Map(data.map((r) => [r.Id, r.Name]))).toEqual(
      new Map(all.map((r) => [r.Id, (r.Name as string | null) ?? ''])),
    );
    expect(new Map(data.map((r) => [r.Id, r.AnnualRevenue ?? '']))).toEqual(
      new Map(all.map((r) => [r.Id, (r.AnnualRevenue as string | null) ?? ''])),
    );
  });

  it('parent paths: REST nests the parent record (null for an empty lookup), Bulk CSV a dotted column', async () => {
    const contacts = records('Contact', false).slice(0, 30);
    const orphan = contacts[0]!;
    em.admin.update(orphan.Id, { AccountId: null });
    const ids = contacts.map((c) => `'${c.Id}'`).join(', ');
    const soql = `SELECT Id, Account.Name, Account.Owner.Email FROM Contact WHERE Id IN (${ids})`;
    const expected = new Map(
      contacts.map((c) => {
        const account = c.Id === orphan.Id ? undefined : em.store.get(String(c.AccountId));
        const owner = account && em.store.get(String(account.OwnerId));
        return [c.Id, [account?.Name ?? null, owner?.Email ?? null]];
      }),
    );
    type Nested = {
      Id: string;
      Account: { attributes: { type: string }; Name: string; Owner: { Email: string } } | null;
    };
    const rest = await conn.query<Nested>(soql);
    expect(rest.records.find((r) => r.Id === orphan.Id)?.Account).toBeNull();
    expect(rest.records.find((r) => r.Id !== orphan.Id)?.Account?.attributes.type).toBe('Account');
    expect(new Map(rest.records.map((r) => [r.Id, [r.Account?.Name ?? null, r.Account?.Owner.Email ?? null]]))).toEqual(
      expected,
    );
    const stream = await conn.bulk2.query(soql);
    const rows: Record<string, string>[] = [];
    for await (const r of stream as AsyncIterable<Record<string, string>>) rows.push(r);
    expect(new Map(rows.map((r) => [r.Id, [r['Account.Name'] || null, r['Account.Owner.Email'] || null]]))).toEqual(
      expected,
    );
  });

  it('describes an object like the store defines it', async () => {
    const d = await conn.describe('Account');
    const def = em.store.object('Account');
    expect(d.name).toBe('Account');
    expect(d.fields.map((f: { name: string }) => f.name)).toEqual(def?.fields.map((f) => f.name));
    expect(d.fields.find((f: { name: string }) => f.name === 'BillingCity')?.compoundFieldName).toBe('BillingAddress');
  });

  it('reads /limits', async () => {
    const limits = (await conn.limits()) as unknown as Record<string, { Max: number; Remaining: number }>;
    expect(limits.DailyApiRequests?.Max).toBe(15_000);
    expect(limits.DailyApiRequests?.Remaining).toBeLessThan(15_000);
    expect(conn.limitInfo.apiUsage?.used).toBeGreaterThan(0);
  });

  it('upserts through bulk2.loadAndWaitForResults and changes the store', async () => {
    em.admin.addField('Account', {
      name: 'Ext_Id__c',
      label: 'External Id',
      type: 'string',
      length: 40,
      nillable: true,
      custom: true,
      externalId: true,
    });
    const target = records('Account', false)[10];
    if (!target) throw new Error('no account');
    em.admin.update(target.Id, { Ext_Id__c: 'J-1' });
    const res = await conn.bulk2.loadAndWaitForResults({
      object: 'Account',
      operation: 'upsert',
      externalIdFieldName: 'Ext_Id__c',
      input: [
        { Ext_Id__c: 'J-1', Name: 'Upserted by jsforce, "quoted"' },
        { Ext_Id__c: 'J-2', Name: 'Inserted by jsforce' },
      ],
    });
    expect(res.failedResults).toEqual([]);
    expect(res.successfulResults.length).toBe(2);
    expect(em.store.get(target.Id)?.Name).toBe('Upserted by jsforce, "quoted"');
    const inserted = res.successfulResults.find((r) => r.sf__Created === 'true');
    expect(em.store.get(String(inserted?.sf__Id))?.Name).toBe('Inserted by jsforce');
  });
});
