// The emulator's REST surface over real HTTP: describe, query/queryAll paging, COUNT(), getDeleted/getUpdated, CRUD
// (docs/salesforce.md#sobject-describe, #rest-query-paging, #getdeleted).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serializeJson } from '../../emulator/http.ts';
import { createEmulator, type Emulator } from '../../emulator/index.ts';
import { planSoql } from '../../emulator/soql.ts';
import { api, login } from '../support/emulatorClient.ts';
import { orgRecords } from '../support/org.ts';
import { prng } from '../support/prng.ts';

let em: Emulator;
let sf: ReturnType<typeof api>;

beforeAll(async () => {
  em = await createEmulator({ accounts: 450, seed: 11 });
  sf = api(em, await login(em));
});
afterAll(async () => {
  await em?.close();
});

const records = (object: string, includeDeleted: boolean) => orgRecords(em.store, object, { includeDeleted });

interface Page {
  totalSize: number;
  done: boolean;
  nextRecordsUrl?: string;
  records: { attributes: { type: string; url: string }; Id: string; Name: string | null; IsDeleted?: boolean }[];
}

async function pages(first: string, headers?: Record<string, string>): Promise<Page[]> {
  const out: Page[] = [];
  let r = await sf.get(first, headers);
  for (;;) {
    expect(r.status).toBe(200);
    const page = r.json<Page>();
    out.push(page);
    if (!page.nextRecordsUrl) return out;
    r = await sf.get(page.nextRecordsUrl, headers);
  }
}

describe('describe', () => {
  it('serves describeGlobal and an sObject describe; unknown objects are 404 NOT_FOUND', async () => {
    const global = (await sf.get('sobjects')).json<{ encoding: string; sobjects: { name: string }[] }>();
    expect(global.sobjects.map((s) => s.name)).toContain('Account');
    const d = await sf.get('sobjects/Account/describe');
    expect(d.status).toBe(200);
    expect(d.json<{ name: string; fields: { name: string }[] }>().fields.map((f) => f.name)).toContain(
      'SystemModstamp',
    );
    const missing = await sf.get('sobjects/Nope__c/describe');
    expect(missing.status).toBe(404);
    expect(missing.json()).toEqual([{ message: 'The requested resource does not exist', errorCode: 'NOT_FOUND' }]);
  });

  it('answers 304 to If-Modified-Since until the schema drifts', async () => {
    const first = await sf.get('sobjects/Lead/describe');
    const lastModified = first.headers.get('last-modified') ?? '';
    expect((await sf.get('sobjects/Lead/describe', { 'If-Modified-Since': lastModified })).status).toBe(304);
    em.admin.addField('Lead', {
      name: 'Drift__c',
      label: 'Drift',
      type: 'string',
      length: 20,
      nillable: true,
      custom: true,
    });
    const after = await sf.get('sobjects/Lead/describe', { 'If-Modified-Since': lastModified });
    expect(after.status).toBe(200);
    expect(after.json<{ fields: { name: string }[] }>().fields.map((f) => f.name)).toContain('Drift__c');
  });

  it('dates every metadata change: an added or removed field or new formula text, not new formula values', async () => {
    type Describe = { fields: { name: string; calculatedFormula: string | null }[] };
    const modified = () => Date.parse(em.store.objects().find((d) => d.name === 'Invoice__c')?.lastModified ?? '');
    const describeSince = (ms: number) =>
      sf.get('sobjects/Invoice__c/describe', { 'If-Modified-Since': new Date(ms).toUTCString() });
    // An HTTP-date has whole seconds: a date a second before the change must see it, one a second after must not.
    const changed = async () => {
      expect((await describeSince(modified() + 1000)).status).toBe(304);
      const r = await describeSince(modified() - 1000);
      expect(r.status).toBe(200);
      expect(Date.parse(r.headers.get('last-modified') ?? '')).toBe(Math.floor(modified() / 1000) * 1000);
      return r.json<Describe>().fields;
    };

    em.admin.addField('Invoice__c', {
      name: 'Added__c',
      label: 'Added',
      type: 'string',
      length: 20,
      nillable: true,
      custom: true,
    });
    expect((await changed()).map((f) => f.name)).toContain('Added__c');
    em.store.removeField('Invoice__c', 'Added__c');
    expect((await changed()).map((f) => f.name)).not.toContain('Added__c');
    em.admin.setFormulaOverride('Invoice__c', 'Summary__c', null, 'Name');
    expect((await changed()).find((f) => f.name === 'Summary__c')?.calculatedFormula).toBe('Name');

    const before = modified();
    em.admin.setFormulaOverride('Invoice__c', 'Summary__c', () => 'x');
    expect(modified()).toBe(before);
    expect((await describeSince(before + 1000)).status).toBe(304);
    expect((await sf.get('sobjects/Invoice__c/describe', { 'If-Modified-Since': 'not a date' })).status).toBe(200);
  });
});

describe('query and queryAll', () => {
  it('pages with nextRecordsUrl, honours batchSize, keeps totalSize and matches the store', async () => {
    const all = await pages('query?q=' + encodeURIComponent('SELECT Id, Name FROM Account'), {
      'Sforce-Query-Options': 'batchSize=200',
    });
    const live = records('Account', false);
    expect(all.length).toBe(Math.ceil(live.length / 200));
    expect(all.every((p) => p.totalSize === live.length)).toBe(true);
    expect(all.slice(0, -1).every((p) => p.records.length === 200 && !p.done)).toBe(true);
    expect(all.at(-1)?.done).toBe(true);
    expect(all.at(-1)).not.toHaveProperty('nextRecordsUrl');
    expect(all[0]?.nextRecordsUrl).toMatch(/^\/services\/data\/v62\.0\/query\/01g\w+-200$/);
    const got = new Map(all.flatMap((p) => p.records).map((r) => [r.Id, r.Name]));
    expect(got).toEqual(new Map(live.map((r) => [r.Id, r.Name])));
    expect(all[0]?.records[0]?.attributes).toEqual({
      type: 'Account',
      url: `/services/data/v62.0/sobjects/Account/${all[0]?.records[0]?.Id}`,
    });
  });

  it('clamps batchSize to 200..2000 and defaults to 2000', async () => {
    const small = await sf.get('query?q=' + encodeURIComponent('SELECT Id FROM Contact'), {
      'Sforce-Query-Options': 'batchSize=5',
    });
    expect(small.json<Page>().records.length).toBe(200);
    const dflt = await sf.get('query?q=' + encodeURIComponent('SELECT Id FROM Contact'));
    expect(dflt.json<Page>().records.length).toBe(Math.min(2000, records('Contact', false).length));
  });

  it('hides deleted rows from query and shows them in queryAll, also on /queryAll/ locators', async () => {
    const victims = records('Account', false).slice(0, 3);
    for (const v of victims) em.admin.delete(v.Id);
    const q = encodeURIComponent('SELECT Id, IsDeleted FROM Account');
    const live = (await pages(`query?q=${q}`)).flatMap((p) => p.records);
    const withDeleted = await pages(`queryAll?q=${q}`, { 'Sforce-Query-Options': 'batchSize=200' });
    const everything = withDeleted.flatMap((p) => p.records);
    expect(live.some((r) => victims.some((v) => v.Id === r.Id))).toBe(false);
    expect(everything.filter((r) => r.IsDeleted).map((r) => r.Id)).toEqual(
      expect.arrayContaining(victims.map((v) => v.Id)),
    );
    expect(everything.length).toBe(records('Account', true).length);
    const alt = withDeleted[0]?.nextRecordsUrl?.replace('/query/', '/queryAll/') ?? '';
    expect((await sf.get(alt)).json<Page>().records.length).toBeGreaterThan(0);
  });

  it('answers COUNT() with totalSize only', async () => {
    const r = await sf.get('query?q=' + encodeURIComponent('SELECT COUNT() FROM Account'));
    expect(r.json()).toEqual({ totalSize: records('Account', false).length, done: true, records: [] });
  });

  it('renders SOQL errors as 400 arrays and unknown locators as INVALID_QUERY_LOCATOR', async () => {
    const bad = await sf.get('query?q=' + encodeURIComponent('SELECT Id, Nope__c FROM Account'));
    expect(bad.status).toBe(400);
    expect(bad.json<{ errorCode: string }[]>()[0]?.errorCode).toBe('INVALID_FIELD');
    const loc = await sf.get('query/01gZZZZZZ000000999-200');
    expect(loc.status).toBe(400);
    expect(loc.json<{ errorCode: string }[]>()[0]?.errorCode).toBe('INVALID_QUERY_LOCATOR');
  });

  it('expires idle locators after the configured TTL', async () => {
    const short = await createEmulator({ accounts: 300, queryLocatorTtlMs: 0 });
    try {
      const s = api(short, await login(short));
      const first = (
        await s.get('query?q=' + encodeURIComponent('SELECT Id FROM Account'), {
          'Sforce-Query-Options': 'batchSize=200',
        })
      ).json<Page>();
      await new Promise((r) => setTimeout(r, 5));
      const next = await s.get(first.nextRecordsUrl ?? '');
      expect(next.json<{ errorCode: string }[]>()[0]?.errorCode).toBe('INVALID_QUERY_LOCATOR');
    } finally {
      await short.close();
    }
  });

  it('pages the delta query (all fields, ORDER BY SystemModstamp, Id) exactly as a full scan renders it', async () => {
    const own = await createEmulator({ accounts: 600, seed: 12 });
    try {
      const client = api(own, await login(own));
      const rand = prng(77);
      const since = own.store.now();
      const all = orgRecords(own.store, 'Account', { includeDeleted: true });
      for (let i = 0; i < 600; i++) {
        const rec = all[Math.floor(rand() * all.length)]!;
        if (!own.store.get(rec.Id)) continue;
        const r = rand();
        if (r < 0.1) own.admin.hardDelete(rec.Id);
        else if (r < 0.2 && rec.IsDeleted !== true) own.admin.delete(rec.Id);
        else if (r < 0.3) own.admin.insert('Account', { Name: `New "${i}"\n` });
        else own.admin.update(rec.Id, { Description: `edit ${i} ✓` }, r < 0.4 ? { modstamp: since } : {});
      }
      const def = own.store.object('Account')!;
      const fields = def.fields.filter((f) => f.type !== 'address' && f.type !== 'location').map((f) => f.name);
      const list = fields.join(', ');
      const soql = `SELECT ${list} FROM Account WHERE SystemModstamp >= ${since} ORDER BY SystemModstamp, Id`;
      let r = await client.get(`queryAll?q=${encodeURIComponent(soql)}`, { 'Sforce-Query-Options': 'batchSize=200' });
      const snap = own.store.snapshot('Account');
      const plan = planSoql(own.store, soql);
      const scan = {
        object: snap.object,
        size: snap.size,
        at: (i: number) => snap.at(i),
        slotState: (i: number) => snap.slotState(i),
      };
      const want = [...plan.run(scan, { includeDeleted: true })].map((slot) =>
        serializeJson(plan.toJson(snap.at(slot)!, { apiVersion: '62.0' })),
      );
      expect(want.length).toBeGreaterThan(300);
      for (let offset = 0; ; offset += 200) {
        expect(r.status).toBe(200);
        expect(Number(r.headers.get('content-length'))).toBe(Buffer.byteLength(r.text));
        const next = r.json<Page>().nextRecordsUrl;
        const tail = next ? `,"nextRecordsUrl":${JSON.stringify(next)}` : '';
        expect(r.text).toBe(
          `{"totalSize":${want.length},"done":${!next}${tail},` +
            `"records":[${want.slice(offset, offset + 200).join(',')}]}`,
        );
        if (!next) break;
        r = await client.get(next);
      }
    } finally {
      await own.close();
    }
  });

  it('serves a page from the snapshot taken when the query started', async () => {
    const q = encodeURIComponent('SELECT Id, Name FROM Opportunity');
    const first = (await sf.get(`query?q=${q}`, { 'Sforce-Query-Options': 'batchSize=200' })).json<Page>();
    const later = records('Opportunity', false)[300];
    if (!later) throw new Error('seed too small');
    em.admin.update(later.Id, { Name: 'Changed after the query started' });
    const rest = await pages(first.nextRecordsUrl ?? '');
    const seen = rest.flatMap((p) => p.records).find((r) => r.Id === later.Id);
    expect(seen?.Name).toBe(later.Name);
  });
});

describe('getDeleted and getUpdated', () => {
  const minute = 60_000;
  const at = (ms: number) => encodeURIComponent(new Date(ms).toISOString());

  it('lists deletions inside the window with earliestDateAvailable and latestDateCovered', async () => {
    const victim = records('Contact', false)[0];
    if (!victim) throw new Error('no contact');
    em.admin.hardDelete(victim.Id);
    const now = Date.now();
    const r = await sf.get(`sobjects/Contact/deleted/?start=${at(now - 10 * minute)}&end=${at(now + 2 * minute)}`);
    expect(r.status).toBe(200);
    const body = r.json<{
      deletedRecords: { id: string; deletedDate: string }[];
      earliestDateAvailable: string;
      latestDateCovered: string;
    }>();
    expect(body.deletedRecords.map((d) => d.id)).toContain(victim.Id);
    expect(body.latestDateCovered).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:00\.000\+0000$/);
    expect(Date.parse(body.latestDateCovered.replace('+0000', 'Z'))).toBeLessThanOrEqual(now);
    expect(body.earliestDateAvailable).toMatch(/:00\.000\+0000$/);
  });

  it('lists exactly the log entries inside random windows (the window read off the index)', async () => {
    for (const r of records('Account', false).slice(0, 12)) em.admin.hardDelete(r.Id);
    // The record clock may run a few ms ahead of real time (a ms per write): let real time pass the new entries.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const log = em.store.deletedLog('Account');
    const now = Date.now();
    const rand = prng(5);
    let listed = 0;
    for (let i = 0; i < 25; i++) {
      const start = now - Math.floor(rand() * 15 * 1440) * minute;
      const end = i % 4 === 0 ? now + 2 * minute : start + (1 + Math.floor(rand() * 3 * 1440)) * minute;
      const body = (await sf.get(`sobjects/Account/deleted/?start=${at(start)}&end=${at(end)}`)).json<{
        deletedRecords: { id: string }[];
      }>();
      const from = Math.floor(start / minute) * minute;
      const until = Math.min(Math.floor(end / minute) * minute, now);
      const want = log
        .filter((d) => Date.parse(d.deletedDate) >= from && Date.parse(d.deletedDate) < until)
        .map((d) => d.id);
      expect(body.deletedRecords.map((d) => d.id)).toEqual(want);
      listed += want.length;
    }
    expect(listed).toBeGreaterThanOrEqual(12 * 7);
  });

  it('refuses windows that are reversed or reach too far back', async () => {
    const now = Date.now();
    const reversed = await sf.get(`sobjects/Account/deleted/?start=${at(now)}&end=${at(now - 5 * minute)}`);
    expect(reversed.json<{ errorCode: string }[]>()[0]?.errorCode).toBe('INVALID_REPLICATION_DATE');
    const old = await sf.get(`sobjects/Account/deleted/?start=${at(now - 16 * 86_400_000)}&end=${at(now)}`);
    expect(old.json<{ errorCode: string }[]>()[0]?.errorCode).toBe('INVALID_REPLICATION_DATE');
    const updatedOld = await sf.get(`sobjects/Account/updated/?start=${at(now - 20 * 86_400_000)}&end=${at(now)}`);
    expect(updatedOld.status).toBe(200);
    const updatedTooOld = await sf.get(`sobjects/Account/updated/?start=${at(now - 31 * 86_400_000)}&end=${at(now)}`);
    expect(updatedTooOld.status).toBe(400);
  });

  it('lists updated ids by SystemModstamp', async () => {
    const target = records('Account', false)[5];
    if (!target) throw new Error('no account');
    em.admin.update(target.Id, { Name: 'Touched' });
    const now = Date.now();
    const r = await sf.get(`sobjects/Account/updated/?start=${at(now - 5 * minute)}&end=${at(now + 2 * minute)}`);
    expect(r.json<{ ids: string[] }>().ids).toContain(target.Id);
  });
});

describe('sObject CRUD', () => {
  it('creates, reads, updates and deletes a record', async () => {
    const created = await sf.post('sobjects/Account', { Name: 'Crud Co', NumberOfEmployees: 12 });
    expect(created.status).toBe(201);
    const { id, success } = created.json<{ id: string; success: boolean }>();
    expect(success).toBe(true);
    expect(em.store.get(id)?.NumberOfEmployees).toBe('12');
    const read = (await sf.get(`sobjects/Account/${id}`)).json<{ Name: string }>();
    expect(read.Name).toBe('Crud Co');
    expect((await sf.patch(`sobjects/Account/${id}`, { Name: 'Crud Two' })).status).toBe(204);
    expect(em.store.get(id)?.Name).toBe('Crud Two');
    expect((await sf.del(`sobjects/Account/${id}`)).status).toBe(204);
    expect(em.store.get(id)?.IsDeleted).toBe(true);
    const unknownField = await sf.post('sobjects/Account', { Name: 'x', Nope__c: 1 });
    expect(unknownField.json<{ errorCode: string }[]>()[0]?.errorCode).toBe('INVALID_FIELD');
  });
});
