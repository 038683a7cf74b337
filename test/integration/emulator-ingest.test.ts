// Bulk API 2.0 ingest validation against the emulator over real HTTP: job-level header errors, per-row type,
// required, read-only, id, uniqueness and validation-rule errors, the five operations, result file shapes and
// large jobs (docs/salesforce.md#bulk-api-20-ingest).
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/index.ts';
import { api, login } from '../support/emulatorClient.ts';
import { orgRecords } from '../support/org.ts';

let em: Emulator;
let sf: ReturnType<typeof api>;

beforeAll(async () => {
  em = await createEmulator({ accounts: 400, seed: 11 });
  sf = api(em, await login(em));
});
afterAll(async () => {
  await em?.close();
});

const live = (object: string) => orgRecords(em.store, object, { includeDeleted: false });
type Row = Record<string, string>;

async function ingest(body: Record<string, unknown>, csv: string) {
  const job = (await sf.post('jobs/ingest', body)).json<{ id: string; state: string }>();
  expect(job.state).toBe('Open');
  expect((await sf.put(`jobs/ingest/${job.id}/batches`, csv)).status).toBe(201);
  expect((await sf.patch(`jobs/ingest/${job.id}`, { state: 'UploadComplete' })).status).toBe(200);
  const info = await sf.waitJob('ingest', job.id);
  const file = async (name: string) => {
    const r = await sf.get(`jobs/ingest/${job.id}/${name}`);
    expect(r.status).toBe(200);
    const [header = []] = parse(r.text.slice(0, r.text.indexOf('\n'))) as string[][];
    return { header: header.join(','), rows: parse(r.text, { columns: true }) as Row[] };
  };
  return {
    id: job.id,
    info,
    ok: await file('successfulResults'),
    failed: await file('failedResults'),
    unprocessed: await file('unprocessedrecords'),
  };
}

const errorOf = (rows: Row[], key: string, value: string) => rows.find((r) => r[key] === value)?.sf__Error;

describe('Bulk ingest validation', () => {
  it('fails the whole job on an unknown header column and lists every row as unprocessed', async () => {
    const before = live('Account').length;
    const r = await ingest({ object: 'Account', operation: 'insert' }, 'Name,Bogus__c\nA,1\nB,2\n');
    expect(r.info).toMatchObject({
      state: 'Failed',
      errorMessage: 'InvalidBatch : Field name not found : Bogus__c',
      numberRecordsProcessed: 0,
    });
    expect(r.unprocessed.header).toBe('Name,Bogus__c');
    expect(r.unprocessed.rows.map((x) => x.Name)).toEqual(['A', 'B']);
    expect(r.ok.rows).toEqual([]);
    expect(live('Account').length).toBe(before);
  });

  it('inserts valid rows and fails bad types, missing required, read-only fields and an Id per row', async () => {
    const csv = [
      'Name,NumberOfEmployees,AnnualRevenue,LastActivityDate,Id',
      'Good one,12,1000,,',
      'Bad number,abc,,,',
      ',5,,,',
      'Read only,,,2024-01-01,',
      `With id,,,,${live('Account')[0]?.Id}`,
      'Bad money,,12x,,',
    ].join('\n');
    const started = new Date().toISOString();
    const r = await ingest({ object: 'Account', operation: 'insert' }, `${csv}\n`);
    expect(r.info).toMatchObject({ state: 'JobComplete', numberRecordsProcessed: 6, numberRecordsFailed: 5 });
    expect(r.ok.header).toBe('sf__Id,sf__Created,Name,NumberOfEmployees,AnnualRevenue,LastActivityDate,Id');
    expect(r.failed.header).toBe('sf__Id,sf__Error,Name,NumberOfEmployees,AnnualRevenue,LastActivityDate,Id');
    expect(r.ok.rows).toHaveLength(1);
    const created = em.store.get(r.ok.rows[0]?.sf__Id ?? '');
    expect(created).toMatchObject({ Name: 'Good one', NumberOfEmployees: '12', AnnualRevenue: '1000' });
    expect(String(created?.SystemModstamp) >= started.slice(0, 19)).toBe(true);
    expect(r.ok.rows[0]?.sf__Created).toBe('true');
    const f = r.failed.rows;
    expect(errorOf(f, 'Name', 'Bad number')).toBe(
      "INVALID_FIELD:Failed to deserialize field at col 1. Due to, 'abc' is not a valid value for the type xsd:int:" +
        'NumberOfEmployees --',
    );
    expect(errorOf(f, 'Name', 'Bad money')).toMatch(
      /^INVALID_FIELD:Failed to deserialize field at col 2\..*AnnualRevenue --$/,
    );
    expect(errorOf(f, 'NumberOfEmployees', '5')).toBe(
      'REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --',
    );
    expect(errorOf(f, 'Name', 'Read only')).toMatch(
      /^INVALID_FIELD_FOR_INSERT_UPDATE:Unable to create\/update fields: LastActivityDate\..*:LastActivityDate --$/,
    );
    expect(errorOf(f, 'Name', 'With id')).toBe(
      'INVALID_FIELD_FOR_INSERT_UPDATE:cannot specify Id in an insert call:Id --',
    );
    for (const row of f) expect(row.sf__Id).toBe('');
  });

  it('updates by Id and reports malformed, foreign, deleted and unknown ids', async () => {
    const [a, soft, hard] = live('Account').slice(30, 33);
    const contact = live('Contact')[0];
    if (!a || !soft || !hard || !contact) throw new Error('no records');
    em.admin.delete(soft.Id);
    em.admin.hardDelete(hard.Id);
    const unknown = `001${a.Id.slice(3, 6)}zzzzzzzzz`;
    const csv = [
      'Id,Phone,Name',
      `${a.Id},555-0199,`,
      'not-an-id,1,',
      `${contact.Id},1,`,
      `${soft.Id},1,`,
      `${hard.Id},1,`,
      `${unknown},1,`,
      ',1,',
      `${a.Id},,#N/A`,
    ].join('\n');
    const before = String(a.SystemModstamp);
    const r = await ingest({ object: 'Account', operation: 'update' }, `${csv}\n`);
    expect(r.info).toMatchObject({ state: 'JobComplete', numberRecordsProcessed: 8, numberRecordsFailed: 7 });
    expect(r.ok.rows.map((x) => [x.sf__Id, x.sf__Created])).toEqual([[a.Id, 'false']]);
    expect(em.store.get(a.Id)?.Phone).toBe('555-0199');
    expect(String(em.store.get(a.Id)?.SystemModstamp) > before).toBe(true);
    const f = r.failed.rows;
    expect(errorOf(f, 'Id', 'not-an-id')).toBe('MALFORMED_ID:Account ID: id value of incorrect type: not-an-id:Id --');
    expect(errorOf(f, 'Id', contact.Id)).toMatch(/^MALFORMED_ID:/);
    expect(errorOf(f, 'Id', soft.Id)).toBe('ENTITY_IS_DELETED:entity is deleted: --');
    expect(errorOf(f, 'Id', hard.Id)).toBe('ENTITY_IS_DELETED:entity is deleted: --');
    expect(errorOf(f, 'Id', unknown)).toBe('INVALID_CROSS_REFERENCE_KEY:invalid cross reference id: --');
    expect(errorOf(f, 'Id', '')).toBe('MISSING_ARGUMENT:Id not specified in an update call: --');
    expect(f.find((x) => x.Name === '#N/A')?.sf__Error).toBe(
      'REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --',
    );
    expect(f.find((x) => x.Name === '#N/A')?.sf__Id).toBe(a.Id);
  });

  it('describes External_Id__c as a unique external id and upserts by it', async () => {
    const d = (await sf.get('sobjects/Account/describe')).json<{ fields: Record<string, unknown>[] }>();
    expect(d.fields.find((f) => f.name === 'External_Id__c')).toMatchObject({
      externalId: true,
      unique: true,
      type: 'string',
      length: 255,
      custom: true,
    });
    const target = live('Account')[40];
    if (!target) throw new Error('no account');
    em.admin.update(target.Id, { External_Id__c: 'X-1' });
    const csv = [
      'External_Id__c,Name',
      'x-1,Matched case-insensitively',
      'X-2,New two',
      'X-3,Dup first',
      'X-3,Dup second',
      ',No key',
    ].join('\n');
    const r = await ingest({ object: 'Account', operation: 'upsert', externalIdFieldName: 'External_Id__c' }, csv);
    expect(r.info).toMatchObject({ state: 'JobComplete', numberRecordsProcessed: 5, numberRecordsFailed: 3 });
    expect(r.ok.rows.map((x) => [x.sf__Created, x.External_Id__c])).toEqual([
      ['false', 'x-1'],
      ['true', 'X-2'],
    ]);
    expect(r.ok.rows[0]?.sf__Id).toBe(target.Id);
    expect(em.store.get(target.Id)?.Name).toBe('Matched case-insensitively');
    const dup = r.failed.rows.filter((x) => x.External_Id__c === 'X-3').map((x) => x.sf__Error);
    expect(dup).toEqual([
      'DUPLICATE_VALUE:Duplicate external id specified: X-3:External_Id__c --',
      'DUPLICATE_VALUE:Duplicate external id specified: X-3:External_Id__c --',
    ]);
    expect(errorOf(r.failed.rows, 'Name', 'No key')).toBe('MISSING_ARGUMENT:External_Id__c not specified: --');
    // A unique field refuses a second record with the same value on insert too.
    const ins = await ingest({ object: 'Account', operation: 'insert' }, 'Name,External_Id__c\nAgain,X-2\n');
    const other = r.ok.rows[1]?.sf__Id;
    expect(ins.failed.rows[0]?.sf__Error).toBe(
      `DUPLICATE_VALUE:duplicate value found: External_Id__c duplicates value on record with id: ${other}: --`,
    );
  });

  it('applies a validation rule set over the admin HTTP API, and one set in-process', async () => {
    const rule = {
      name: 'Revenue_Not_Negative',
      message: 'Annual Revenue must not be negative',
      errorField: 'AnnualRevenue',
      condition: { field: 'AnnualRevenue', op: 'lt', value: 0 },
    };
    const set = await fetch(`${em.url}/__admin/validationRules/Account`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(rule),
    });
    expect(set.status).toBe(204);
    em.admin.setValidationRule('Account', {
      name: 'No_Test_Names',
      message: 'Test accounts are not allowed',
      predicate: (rec) => String(rec.Name ?? '').startsWith('TEST'),
    });
    const [a] = live('Account').slice(50, 51);
    if (!a) throw new Error('no account');
    const r = await ingest(
      { object: 'Account', operation: 'upsert', externalIdFieldName: 'Id' },
      `Id,Name,AnnualRevenue\n,Fine,5\n,Negative,-1\n${a.Id},,-2\n,TEST one,\n`,
    );
    expect(r.ok.rows.map((x) => x.Name)).toEqual(['Fine']);
    const f = r.failed.rows;
    const msg = 'FIELD_CUSTOM_VALIDATION_EXCEPTION:Annual Revenue must not be negative:AnnualRevenue --';
    expect(errorOf(f, 'Name', 'Negative')).toBe(msg);
    expect(errorOf(f, 'Id', a.Id)).toBe(msg);
    expect(errorOf(f, 'Name', 'TEST one')).toBe('FIELD_CUSTOM_VALIDATION_EXCEPTION:Test accounts are not allowed: --');
    const listed = await (await fetch(`${em.url}/__admin/validationRules`)).json();
    expect(listed).toHaveLength(2);
    expect((await fetch(`${em.url}/__admin/validationRules/Account`, { method: 'DELETE' })).status).toBe(204);
    const again = await ingest({ object: 'Account', operation: 'insert' }, 'Name,AnnualRevenue\nNow allowed,-1\n');
    expect(again.info).toMatchObject({ numberRecordsFailed: 0 });
  });

  it('delete moves records to the Recycle Bin, hardDelete removes them; both reach the delete log', async () => {
    const [soft, hard] = live('Account').slice(60, 62);
    if (!soft || !hard) throw new Error('no accounts');
    const d = await ingest({ object: 'Account', operation: 'delete' }, `Id\n${soft.Id}\n${soft.Id.slice(0, 15)}x\n`);
    expect(d.ok.header).toBe('sf__Id,sf__Created,Id');
    expect(d.ok.rows).toEqual([{ sf__Id: soft.Id, sf__Created: 'false', Id: soft.Id }]);
    expect(d.failed.rows[0]?.sf__Error).toMatch(/^MALFORMED_ID:/);
    expect(em.store.get(soft.Id)?.IsDeleted).toBe(true);
    const h = await ingest({ object: 'Account', operation: 'hardDelete' }, `Id\n${hard.Id}\n`);
    expect(h.info).toMatchObject({ state: 'JobComplete', numberRecordsFailed: 0 });
    expect(em.store.get(hard.Id)).toBeUndefined();
    const log = em.store.deletedLog('Account').map((e) => e.id);
    expect(log).toContain(soft.Id);
    expect(log).toContain(hard.Id);
    const q = await sf.get(`query?q=${encodeURIComponent(`SELECT Id FROM Account WHERE Id = '${hard.Id}'`)}`);
    expect(q.json<{ totalSize: number }>().totalSize).toBe(0);
  });

  it('returns inserted and upserted values through SOQL and Bulk query', async () => {
    const r = await ingest(
      { object: 'Account', operation: 'upsert', externalIdFieldName: 'External_Id__c' },
      'External_Id__c,Name,Description\nQ-1,"Queried, ""back""","line one\nline two"\n',
    );
    const id = r.ok.rows[0]?.sf__Id ?? '';
    const soql = `SELECT Id, Name, Description, External_Id__c FROM Account WHERE External_Id__c = 'Q-1'`;
    const q = (await sf.get(`query?q=${encodeURIComponent(soql)}`)).json<{ records: Row[] }>();
    expect(q.records[0]).toMatchObject({ Id: id, Name: 'Queried, "back"', Description: 'line one\nline two' });
    const job = (await sf.post('jobs/query', { operation: 'query', query: soql })).json<{ id: string }>();
    expect((await sf.waitJob('query', job.id)).state).toBe('JobComplete');
    const rows = parse((await sf.get(`jobs/query/${job.id}/results`)).text, { columns: true }) as Row[];
    expect(rows).toEqual([
      { Id: id, Name: 'Queried, "back"', Description: 'line one\nline two', External_Id__c: 'Q-1' },
    ]);
  });
});

describe('Bulk ingest volume', () => {
  const csvOf = (from: number, to: number) => {
    const lines = ['External_Id__c,Name,AnnualRevenue,NumberOfEmployees'];
    for (let i = from; i < to; i++) lines.push(`V-${i},"Volume ${i}, Inc.",${i * 10},${i % 1000}`);
    return `${lines.join('\n')}\n`;
  };

  it('processes a 100,000-row insert in a couple of seconds', async () => {
    const csv = csvOf(0, 100_000);
    const job = (await sf.post('jobs/ingest', { object: 'Account', operation: 'insert' })).json<{ id: string }>();
    expect((await sf.put(`jobs/ingest/${job.id}/batches`, csv)).status).toBe(201);
    const t0 = Date.now();
    await sf.patch(`jobs/ingest/${job.id}`, { state: 'UploadComplete' });
    const info = await sf.waitJob('ingest', job.id);
    const ms = Date.now() - t0;
    expect(info).toMatchObject({ state: 'JobComplete', numberRecordsProcessed: 100_000, numberRecordsFailed: 0 });
    // A couple of seconds alone; the bound leaves room for a shared, loaded machine.
    expect(ms).toBeLessThan(6_000);
    const ok = (await sf.get(`jobs/ingest/${job.id}/successfulResults`)).text;
    expect(ok.split('\n').length).toBe(100_002);
  }, 30_000);

  it('upserts 250,000 rows across 4 jobs (updating the 100,000 inserted above)', async () => {
    const before = live('Account').length;
    const bounds = [0, 62_500, 125_000, 187_500, 250_000];
    const ids = [];
    for (let j = 0; j < 4; j++) {
      const body = { object: 'Account', operation: 'upsert', externalIdFieldName: 'External_Id__c' };
      const job = (await sf.post('jobs/ingest', body)).json<{ id: string }>();
      expect((await sf.put(`jobs/ingest/${job.id}/batches`, csvOf(bounds[j]!, bounds[j + 1]!))).status).toBe(201);
      await sf.patch(`jobs/ingest/${job.id}`, { state: 'UploadComplete' });
      ids.push(job.id);
    }
    let created = 0;
    for (const id of ids) {
      const info = await sf.waitJob('ingest', id);
      expect(info).toMatchObject({ state: 'JobComplete', numberRecordsFailed: 0 });
      const ok = parse((await sf.get(`jobs/ingest/${id}/successfulResults`)).text, { columns: true }) as Row[];
      created += ok.filter((r) => r.sf__Created === 'true').length;
    }
    expect(created).toBe(150_000);
    expect(live('Account').length).toBe(before + 150_000);
  }, 60_000);
});
