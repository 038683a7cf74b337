// Bulk API 2.0 against the emulator over real HTTP: query job lifecycle, paged CSV results, escaping, gzip,
// refusals, 412/409, ingest (docs/salesforce.md#bulk-api-20-query-jobs, #bulk-api-20-ingest).
import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/index.ts';
import { api, login } from '../support/emulatorClient.ts';
import { orgRecords } from '../support/org.ts';

let em: Emulator;
let sf: ReturnType<typeof api>;

beforeAll(async () => {
  em = await createEmulator({ accounts: 300, seed: 5 });
  sf = api(em, await login(em));
});
afterAll(async () => {
  await em?.close();
});

const records = (object: string, includeDeleted: boolean) => orgRecords(em.store, object, { includeDeleted });

async function runQueryJob(query: string, operation = 'queryAll', extra: Record<string, string> = {}): Promise<string> {
  const r = await sf.post('jobs/query', { operation, query, ...extra });
  expect(r.status).toBe(200);
  const { id, state } = r.json<{ id: string; state: string }>();
  expect(state).toBe('UploadComplete');
  expect((await sf.waitJob('query', id)).state).toBe('JobComplete');
  return id;
}

async function allPages(id: string, maxRecords: number) {
  const bodies: string[] = [];
  const locators: string[] = [];
  let locator: string | null = null;
  for (;;) {
    const r = await sf.get(`jobs/query/${id}/results?maxRecords=${maxRecords}${locator ? `&locator=${locator}` : ''}`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/csv/);
    bodies.push(r.text);
    const next = r.headers.get('sforce-locator') ?? 'null';
    locators.push(next);
    expect(Number(r.headers.get('sforce-numberofrecords'))).toBe(
      (parse(r.text, { columns: true }) as unknown[]).length,
    );
    if (next === 'null') return { bodies, locators };
    locator = next;
  }
}

describe('Bulk query jobs', () => {
  it('returns every row once across pages, each page with its own header, with base64 locators', async () => {
    const id = await runQueryJob('SELECT Id, Name, IsDeleted FROM Account');
    const info = (await sf.get(`jobs/query/${id}`)).json<Record<string, unknown>>();
    const expected = records('Account', true);
    expect(info).toMatchObject({
      id,
      operation: 'queryAll',
      object: 'Account',
      state: 'JobComplete',
      jobType: 'V2Query',
      numberRecordsProcessed: expected.length,
    });
    expect((await sf.get(`jobs/query/${id}`)).text).toContain('"apiVersion":62.0');
    const { bodies, locators } = await allPages(id, 70);
    expect(bodies.length).toBe(Math.ceil(expected.length / 70));
    expect(locators.slice(0, -1)).toEqual(
      bodies.slice(1).map((_, i) => Buffer.from(String(70 * (i + 1))).toString('base64')),
    );
    for (const b of bodies) expect(b.startsWith('"Id","Name","IsDeleted"\n')).toBe(true);
    const rows = bodies.flatMap((b) => parse(b, { columns: true }) as Record<string, string>[]);
    expect(new Map(rows.map((r) => [r.Id, r.Name]))).toEqual(
      new Map(expected.map((r) => [r.Id, (r.Name as string | null) ?? ''])),
    );
    expect((await sf.del(`jobs/query/${id}`)).status).toBe(204);
    expect((await sf.get(`jobs/query/${id}/results`)).status).toBe(404);
  });

  it('round-trips hard text byte for byte (quotes, commas, CR/LF, spaces, unicode)', async () => {
    const hard = [
      'say "hi", then leave',
      'line1\nline2\r\nline3',
      '  padded  ',
      'é 漢字 🚀',
      '"',
      'a,b;c|d\te',
      'NA',
      'null',
    ];
    const ids = hard.map((Name) => em.admin.insert('Account', { Name }).Id);
    const id = await runQueryJob('SELECT Id, Name FROM Account');
    const { bodies } = await allPages(id, 100_000);
    const rows = parse(bodies[0] ?? '', { columns: true }) as Record<string, string>[];
    const byId = new Map(rows.map((r) => [r.Id, r.Name]));
    expect(ids.map((i) => byId.get(i))).toEqual(hard);
    expect(bodies[0]).toContain('"say ""hi"", then leave"');
  });

  it('writes nulls as a bare empty field, or "" when configured, and honours delimiter and line ending', async () => {
    const rec = em.admin.insert('Account', { Name: 'Nulls Inc' });
    const id = await runQueryJob(`SELECT Id, Name, Phone FROM Account WHERE Id = '${rec.Id}'`, 'query', {
      columnDelimiter: 'PIPE',
      lineEnding: 'CRLF',
    });
    const body = (await sf.get(`jobs/query/${id}/results`)).text;
    expect(body).toBe(`"Id"|"Name"|"Phone"\r\n"${rec.Id}"|"Nulls Inc"|\r\n`);
    em.admin.setBulkLatency({ nullAs: 'quoted' });
    const id2 = await runQueryJob(`SELECT Id, Phone FROM Account WHERE Id = '${rec.Id}'`);
    expect((await sf.get(`jobs/query/${id2}/results`)).text).toBe(`"Id","Phone"\n"${rec.Id}",""\n`);
    em.admin.setBulkLatency({ nullAs: 'empty' });
  });

  it('gzips results when asked', async () => {
    const id = await runQueryJob('SELECT Id, Name FROM Account');
    const token = await login(em);
    const raw = await new Promise<{ encoding?: string; body: Buffer }>((resolve, reject) => {
      const req = request(
        `${em.url}/services/data/v62.0/jobs/query/${id}/results`,
        { headers: { Authorization: `Bearer ${token}`, 'Accept-Encoding': 'gzip' } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ encoding: res.headers['content-encoding'], body: Buffer.concat(chunks) }));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(raw.encoding).toBe('gzip');
    const plain = (await sf.get(`jobs/query/${id}/results`)).text;
    expect(gunzipSync(raw.body).toString('utf8')).toBe(plain);
  });

  it('refuses what Bulk cannot do at creation with 400 arrays', async () => {
    const compound = await sf.post('jobs/query', {
      operation: 'query',
      query: 'SELECT Id, BillingAddress FROM Account',
    });
    expect(compound.status).toBe(400);
    expect(compound.json<{ message: string }[]>()[0]?.message).toContain(
      'Selecting compound data not supported in Bulk Query',
    );
    const count = await sf.post('jobs/query', { operation: 'query', query: 'SELECT COUNT() FROM Account' });
    expect(count.status).toBe(400);
    const bad = await sf.post('jobs/query', { operation: 'query', query: 'SELECT Nope__c FROM Account' });
    expect(bad.json<{ errorCode: string }[]>()[0]?.errorCode).toBe('INVALID_FIELD');
    const op = await sf.post('jobs/query', { operation: 'upsert', query: 'SELECT Id FROM Account' });
    expect(op.status).toBe(400);
  });

  it('answers 412 before completion, 400 to DELETE of a running job, and aborts', async () => {
    em.admin.setBulkLatency({ latencyMs: 60_000 });
    try {
      const { id } = (await sf.post('jobs/query', { operation: 'query', query: 'SELECT Id FROM Account' })).json<{
        id: string;
      }>();
      const early = await sf.get(`jobs/query/${id}/results`);
      expect(early.status).toBe(412);
      expect(early.json<{ errorCode: string }[]>()[0]?.errorCode).toBe('JOB_NOT_COMPLETE');
      const del = await sf.del(`jobs/query/${id}`);
      expect(del.status).toBe(400);
      expect(del.json()).toEqual([
        {
          message: 'Error encountered when deleting the job because the job is not terminated',
          errorCode: 'API_ERROR',
        },
      ]);
      const aborted = await sf.patch(`jobs/query/${id}`, { state: 'Aborted' });
      expect(aborted.json<{ state: string }>().state).toBe('Aborted');
      expect((await sf.del(`jobs/query/${id}`)).status).toBe(204);
    } finally {
      em.admin.setBulkLatency({ latencyMs: 0 });
    }
  });

  it('answers 409 when results are fetched with another API version, and lists result pages on v58+', async () => {
    const id = await runQueryJob('SELECT Id FROM Account');
    const other = await api(em, await login(em), '63.0').get(`jobs/query/${id}/results`);
    expect(other.status).toBe(409);
    const pagesReply = (await sf.get(`jobs/query/${id}/resultPages?maxRecords=100`)).json<{
      resultPages: { resultUrl: string }[];
      done: boolean;
    }>();
    expect(pagesReply.resultPages.length).toBeGreaterThan(1);
    expect(pagesReply.resultPages[1]?.resultUrl).toBe(
      `/services/data/v62.0/jobs/query/${id}/results?locator=${Buffer.from('100').toString('base64')}&maxRecords=100`,
    );
    const list = (await sf.get('jobs/query')).json<{ records: { id: string }[] }>();
    expect(list.records.map((j) => j.id)).toContain(id);
  });
});

describe('Bulk ingest jobs', () => {
  const ext = {
    name: 'Ext_Id__c',
    label: 'External Id',
    type: 'string' as const,
    length: 40,
    nillable: true,
    custom: true,
    externalId: true,
  };

  async function ingest(body: Record<string, unknown>, csv: string) {
    const job = (await sf.post('jobs/ingest', body)).json<{ id: string; state: string }>();
    expect(job.state).toBe('Open');
    expect((await sf.put(`jobs/ingest/${job.id}/batches`, csv)).status).toBe(201);
    expect((await sf.patch(`jobs/ingest/${job.id}`, { state: 'UploadComplete' })).status).toBe(200);
    return { id: job.id, info: await sf.waitJob('ingest', job.id) };
  }

  it('upserts by an external id: updates matches, inserts the rest, reports per-row failures', async () => {
    em.admin.addField('Account', ext);
    const target = records('Account', false)[7];
    if (!target) throw new Error('no account');
    em.admin.update(target.Id, { Ext_Id__c: 'EXT-7' });
    const csv =
      'Ext_Id__c,Name,NumberOfEmployees\nEXT-7,"Updated ""seven""",\nEXT-NEW,Brand new,42\nEXT-BAD,Bad number,abc\n';
    const { id, info } = await ingest(
      { object: 'Account', operation: 'upsert', externalIdFieldName: 'Ext_Id__c' },
      csv,
    );
    expect(info).toMatchObject({ state: 'JobComplete', numberRecordsProcessed: 3, numberRecordsFailed: 1 });
    expect(em.store.get(target.Id)?.Name).toBe('Updated "seven"');
    expect(em.store.get(target.Id)?.NumberOfEmployees).toBe(target.NumberOfEmployees ?? null);
    const ok = parse((await sf.get(`jobs/ingest/${id}/successfulResults`)).text, { columns: true }) as Record<
      string,
      string
    >[];
    expect(ok.map((r) => [r.sf__Created, r.Ext_Id__c])).toEqual([
      ['false', 'EXT-7'],
      ['true', 'EXT-NEW'],
    ]);
    expect(ok[0]?.sf__Id).toBe(target.Id);
    expect(em.store.get(ok[1]?.sf__Id ?? '')?.NumberOfEmployees).toBe('42');
    const failed = parse((await sf.get(`jobs/ingest/${id}/failedResults`)).text, { columns: true }) as Record<
      string,
      string
    >[];
    expect(failed.length).toBe(1);
    expect(failed[0]?.sf__Error).toMatch(/^INVALID_FIELD:.*:NumberOfEmployees --$/);
    expect((await sf.del(`jobs/ingest/${id}`)).status).toBe(204);
  });

  it('sets #N/A to null on update and deletes by id', async () => {
    const [a, b] = records('Account', false).slice(20, 22);
    if (!a || !b) throw new Error('no accounts');
    em.admin.update(a.Id, { Phone: '555-0100' });
    await ingest({ object: 'Account', operation: 'update' }, `Id,Phone\n${a.Id},#N/A\n`);
    expect(em.store.get(a.Id)?.Phone).toBeNull();
    await ingest({ object: 'Account', operation: 'delete' }, `Id\n${b.Id}\n`);
    expect(em.store.get(b.Id)?.IsDeleted).toBe(true);
  });

  it('fails the close after a second PUT with the INVALIDJOB "multipe contents" error', async () => {
    const job = (await sf.post('jobs/ingest', { object: 'Account', operation: 'insert' })).json<{ id: string }>();
    expect((await sf.put(`jobs/ingest/${job.id}/batches`, 'Name\nOne\n')).status).toBe(201);
    expect((await sf.put(`jobs/ingest/${job.id}/batches`, 'Name\nTwo\n')).status).toBe(201);
    const close = await sf.patch(`jobs/ingest/${job.id}`, { state: 'UploadComplete' });
    expect(close.status).toBe(400);
    expect(close.json<{ errorCode: string; message: string }[]>()[0]).toMatchObject({
      errorCode: 'INVALIDJOB',
      message: expect.stringContaining('Found multipe contents for job'),
    });
  });
});
