// Record types in the emulator, read by jsforce (a real Salesforce client): the RecordType object, Opportunity's
// RecordTypeId and its describe's recordTypeInfos, `RecordType.DeveloperName` in SELECT and WHERE over REST and Bulk,
// and the writes Salesforce allows or refuses (emulator/recordTypes.ts). Values are compared with the store's own.
import { Connection } from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/index.ts';
import { api, assertion, login } from '../support/emulatorClient.ts';
import { orgRecords } from '../support/org.ts';

const MASTER = '012000000000000AAA';
let em: Emulator;
let conn: Connection;

beforeAll(async () => {
  em = await createEmulator({ accounts: 60, seed: 5 });
  conn = new Connection({ loginUrl: em.loginUrl, version: '62.0' });
  await conn.authorize({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: await assertion(em) });
  conn.bulk2.pollInterval = 20;
  conn.bulk2.pollTimeout = 60_000;
});
afterAll(async () => {
  await em?.close();
});

const recordTypes = () => orgRecords(em.store, 'RecordType');
const idOf = (developerName: string) => recordTypes().find((r) => r.DeveloperName === developerName)!.Id;
const liveOpportunities = () => orgRecords(em.store, 'Opportunity', { includeDeleted: false });
const developerNameOf = (id: unknown) => recordTypes().find((r) => r.Id === id)?.DeveloperName ?? null;

describe('record types in the emulator (jsforce)', () => {
  it('lists RecordType in describeGlobal as a setup object: queryable, replicateable, not deletable', async () => {
    const global = await conn.describeGlobal();
    expect(global.sobjects.find((o) => o.name === 'RecordType')).toMatchObject({
      keyPrefix: '012',
      queryable: true,
      replicateable: true,
      createable: true,
      updateable: true,
      deletable: false,
      undeletable: false,
    });
    const describe = await conn.describe('RecordType');
    const names = describe.fields.map((f) => f.name);
    expect(names).toEqual(
      expect.arrayContaining(['Id', 'Name', 'DeveloperName', 'NamespacePrefix', 'Description', 'BusinessProcessId']),
    );
    expect(names).toEqual(expect.arrayContaining(['SobjectType', 'IsActive', 'CreatedDate', 'SystemModstamp']));
    expect(names).not.toContain('IsDeleted');
    expect(describe.fields.find((f) => f.name === 'DeveloperName')).toMatchObject({ type: 'string', length: 80 });
    expect(describe.fields.find((f) => f.name === 'SobjectType')).toMatchObject({ type: 'picklist', length: 40 });
  });

  it("describes Opportunity's RecordTypeId and its record types plus Master", async () => {
    const describe = await conn.describe('Opportunity');
    expect(describe.fields.find((f) => f.name === 'RecordTypeId')).toMatchObject({
      type: 'reference',
      referenceTo: ['RecordType'],
      relationshipName: 'RecordType',
      label: 'Record Type ID',
      nillable: true,
    });
    const infos = describe.recordTypeInfos as unknown as Record<string, unknown>[];
    const own = recordTypes().filter((r) => r.SobjectType === 'Opportunity');
    expect(own.map((r) => r.DeveloperName).sort()).toEqual(['Enterprise', 'Partner', 'SMB']);
    expect(infos.map((i) => i.recordTypeId).sort()).toEqual([...own.map((r) => r.Id), MASTER].sort());
    expect(infos.find((i) => i.recordTypeId === idOf('Enterprise'))).toMatchObject({
      active: true,
      available: true,
      defaultRecordTypeMapping: true,
      developerName: 'Enterprise',
      master: false,
      name: 'Enterprise',
      urls: { layout: `/services/data/v62.0/sobjects/Opportunity/describe/layouts/${idOf('Enterprise')}` },
    });
    expect(infos.find((i) => i.recordTypeId === MASTER)).toMatchObject({
      developerName: 'Master',
      master: true,
      available: false,
      defaultRecordTypeMapping: false,
    });
    expect(infos.filter((i) => i.defaultRecordTypeMapping === true)).toHaveLength(1);
    // An object without record types of its own lists Master alone, available and the default.
    const account = (await conn.describe('Account')).recordTypeInfos as unknown as Record<string, unknown>[];
    expect(account).toMatchObject([{ recordTypeId: MASTER, master: true, available: true }]);
  });

  it('queries RecordType.DeveloperName in SELECT and WHERE over REST', async () => {
    const all = await conn.query<{ Id: string; RecordType: { DeveloperName: string } | null }>(
      'SELECT Id, RecordType.DeveloperName FROM Opportunity',
      { autoFetch: true, maxFetch: 100_000 },
    );
    const live = liveOpportunities();
    expect(new Map(all.records.map((r) => [r.Id, r.RecordType?.DeveloperName ?? null]))).toEqual(
      new Map(live.map((r) => [r.Id, developerNameOf(r.RecordTypeId)])),
    );
    expect(new Set(all.records.map((r) => r.RecordType?.DeveloperName))).toEqual(
      new Set(['Enterprise', 'SMB', 'Partner']),
    );
    const smb = await conn.query<{ Id: string }>("SELECT Id FROM Opportunity WHERE RecordType.DeveloperName = 'SMB'", {
      autoFetch: true,
      maxFetch: 100_000,
    });
    const expected = live.filter((r) => r.RecordTypeId === idOf('SMB')).map((r) => r.Id);
    expect(expected.length).toBeGreaterThan(0);
    expect(smb.records.map((r) => r.Id).sort()).toEqual(expected.sort());
  });

  it('reads RecordType.DeveloperName through Bulk API 2.0 as a dotted column', async () => {
    const stream = await conn.bulk2.query(
      "SELECT Id, RecordType.DeveloperName FROM Opportunity WHERE RecordType.DeveloperName != 'Enterprise'",
    );
    const rows: Record<string, string>[] = [];
    for await (const r of stream as AsyncIterable<Record<string, string>>) rows.push(r);
    const expected = liveOpportunities().filter((r) => r.RecordTypeId !== idOf('Enterprise'));
    expect(new Map(rows.map((r) => [r.Id, r['RecordType.DeveloperName']]))).toEqual(
      new Map(expected.map((r) => [r.Id, developerNameOf(r.RecordTypeId)])),
    );
  });

  it('moves a record to another record type like any edit; refuses what Salesforce refuses', async () => {
    const opp = liveOpportunities().find((r) => r.RecordTypeId === idOf('Partner'))!;
    await conn.sobject('Opportunity').update({ Id: opp.Id, RecordTypeId: idOf('SMB') });
    const after = em.store.get(opp.Id)!;
    expect(after.RecordTypeId).toBe(idOf('SMB'));
    expect(String(after.SystemModstamp) > String(opp.SystemModstamp)).toBe(true);
    // Master, a record type of nothing, and an inactive one are not valid for the user.
    const partner = idOf('Partner');
    em.store.update(partner, { IsActive: false });
    for (const bad of [MASTER, partner]) {
      await expect(conn.sobject('Opportunity').update({ Id: opp.Id, RecordTypeId: bad })).rejects.toMatchObject({
        errorCode: 'INVALID_CROSS_REFERENCE_KEY',
      });
    }
    em.store.update(partner, { IsActive: true });
    expect(em.store.get(opp.Id)!.RecordTypeId).toBe(idOf('SMB'));
    // A create without RecordTypeId gets the profile's default record type.
    const created = await conn.sobject('Opportunity').create({
      Name: 'Record type default',
      StageName: 'Prospecting',
      CloseDate: '2030-01-01',
    });
    expect(created.success).toBe(true);
    expect(em.store.get(created.id!)!.RecordTypeId).toBe(idOf('Enterprise'));
    // Record types are deactivated, never deleted through the API.
    const del = await api(em, await login(em)).del(`sobjects/RecordType/${partner}`);
    expect(del.status).toBe(405);
    expect(recordTypes().map((r) => r.Id)).toContain(partner);
  });
});
