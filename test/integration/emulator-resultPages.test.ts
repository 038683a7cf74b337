// Bulk API 2.0 parallel results (docs/salesforce.md#bulk-api-20-parallel-results, API 58.0+) against the emulator over
// real HTTP: page listings of up to 5 result URLs, nextRecordsUrl, maxRecords, version and state rules, faults, and
// pages fetched at once adding up to the sequential locator walk (docs/salesforce.md#bulk-api-20-query-results).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/index.ts';
import { api, login } from '../support/emulatorClient.ts';

let em: Emulator;
let sf: ReturnType<typeof api>;
let token: string;

interface Listing {
  resultPages: { resultUrl: string }[];
  nextRecordsUrl: string | null;
  done: boolean;
}

beforeAll(async () => {
  em = await createEmulator({ accounts: 400, seed: 8, apiVersions: ['57.0', '58.0', '62.0', '63.0'] });
  token = await login(em);
  sf = api(em, token);
});
afterAll(async () => {
  await em?.close();
});

async function runQueryJob(query: string, client = sf): Promise<string> {
  const { id } = (await client.post('jobs/query', { operation: 'queryAll', query })).json<{ id: string }>();
  expect((await client.waitJob('query', id)).state).toBe('JobComplete');
  return id;
}

/** Every listing from the first, following nextRecordsUrl. */
async function listings(first: string, client = sf): Promise<Listing[]> {
  const out: Listing[] = [];
  let url: string | null = first;
  while (url !== null) {
    const r = await client.get(url);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    const l = r.json<Listing>();
    out.push(l);
    url = l.done ? null : l.nextRecordsUrl;
  }
  return out;
}

/** The locator walk of docs/salesforce.md#bulk-api-20-query-results: body rows of every page (header dropped). */
async function sequentialRows(id: string, maxRecords: number): Promise<string[]> {
  const rows: string[] = [];
  let locator: string | null = null;
  for (;;) {
    const r = await sf.get(`jobs/query/${id}/results?maxRecords=${maxRecords}${locator ? `&locator=${locator}` : ''}`);
    rows.push(...r.text.split('\n').slice(1, -1));
    locator = r.headers.get('sforce-locator');
    if (locator === 'null') return rows;
  }
}

describe('Bulk resultPages (API 58.0+)', () => {
  it('lists up to 5 URLs a call, follows nextRecordsUrl; pages fetched at once equal the locator walk', async () => {
    const id = await runQueryJob('SELECT Id, Name, Description FROM Account');
    const count = (await sf.get(`jobs/query/${id}`)).json<{ numberRecordsProcessed: number }>().numberRecordsProcessed;
    const all = await listings(`jobs/query/${id}/resultPages?maxRecords=30`);
    const urls = all.flatMap((l) => l.resultPages.map((p) => p.resultUrl));
    expect(urls.length).toBe(Math.ceil(count / 30));
    expect(all.map((l) => l.resultPages.length)).toEqual(all.map((_, i) => Math.min(5, urls.length - 5 * i)));
    expect(all.slice(0, -1).every((l) => l.done === false && typeof l.nextRecordsUrl === 'string')).toBe(true);
    expect(all.at(-1)).toMatchObject({ done: true, nextRecordsUrl: null });
    expect(all[1]?.resultPages[0]?.resultUrl).toBe(
      `/services/data/v62.0/jobs/query/${id}/results?locator=${Buffer.from('150').toString('base64')}&maxRecords=30`,
    );
    const pages = await Promise.all(urls.map((u) => sf.get(u)));
    for (const p of pages) {
      expect(p.status).toBe(200);
      expect(p.text.startsWith('"Id","Name","Description"\n')).toBe(true);
    }
    expect(pages.map((p) => Number(p.headers.get('sforce-numberofrecords'))).reduce((a, b) => a + b, 0)).toBe(count);
    expect(pages.flatMap((p) => p.text.split('\n').slice(1, -1))).toEqual(await sequentialRows(id, 30));
  });

  it('uses the server page size without maxRecords, and lists one header-only page for an empty result', async () => {
    const id = await runQueryJob('SELECT Id FROM Account');
    const [first] = await listings(`jobs/query/${id}/resultPages`);
    expect(first?.resultPages[0]?.resultUrl).toMatch(
      new RegExp(`^/services/data/v62\\.0/jobs/query/${id}/results\\?maxRecords=\\d+$`),
    );
    const empty = await runQueryJob("SELECT Id FROM Account WHERE Name = 'no such account'");
    const l = await listings(`jobs/query/${empty}/resultPages?maxRecords=10`);
    expect(l).toEqual([
      {
        resultPages: [{ resultUrl: `/services/data/v62.0/jobs/query/${empty}/results?maxRecords=10` }],
        nextRecordsUrl: null,
        done: true,
      },
    ]);
    const page = await sf.get(l[0]!.resultPages[0]!.resultUrl);
    expect({
      text: page.text,
      n: page.headers.get('sforce-numberofrecords'),
      locator: page.headers.get('sforce-locator'),
    }).toEqual({ text: '"Id"\n', n: '0', locator: 'null' });
  });

  it('is 404 before API 58.0; 409 to another version, 412 before completion, 400 to a bad locator', async () => {
    const old = api(em, token, '57.0');
    const id57 = await runQueryJob('SELECT Id FROM Account', old);
    const r57 = await old.get(`jobs/query/${id57}/resultPages`);
    expect(r57.status).toBe(404);
    expect(r57.json<{ errorCode: string }[]>()[0]?.errorCode).toBe('NOT_FOUND');
    expect((await old.get(`jobs/query/${id57}/results`)).status).toBe(200);

    const id58 = await runQueryJob('SELECT Id FROM Account', api(em, token, '58.0'));
    expect((await api(em, token, '58.0').get(`jobs/query/${id58}/resultPages`)).status).toBe(200);
    const other = await api(em, token, '63.0').get(`jobs/query/${id58}/resultPages`);
    expect(other.status).toBe(409);

    em.admin.setBulkLatency({ latencyMs: 60_000 });
    try {
      const { id } = (await sf.post('jobs/query', { operation: 'query', query: 'SELECT Id FROM Account' })).json<{
        id: string;
      }>();
      const early = await sf.get(`jobs/query/${id}/resultPages`);
      expect(early.status).toBe(412);
      expect(early.json<{ errorCode: string }[]>()[0]?.errorCode).toBe('JOB_NOT_COMPLETE');
      await sf.patch(`jobs/query/${id}`, { state: 'Aborted' });
    } finally {
      em.admin.setBulkLatency({ latencyMs: 0 });
    }
    expect((await api(em, token, '58.0').get(`jobs/query/${id58}/resultPages?locator=%%%`)).status).toBe(400);
    expect((await sf.get('jobs/query/750000000000000AAA/resultPages')).status).toBe(404);
  });

  it('can be targeted by faults like any route', async () => {
    const id = await runQueryJob('SELECT Id FROM Account');
    em.admin.addFault({
      route: /GET .*\/resultPages/,
      kind: 'status',
      status: 503,
      errorCode: 'SERVER_UNAVAILABLE',
      message: 'down',
      retryAfter: 1,
    });
    const failed = await sf.get(`jobs/query/${id}/resultPages`);
    expect(failed.status).toBe(503);
    expect(failed.headers.get('retry-after')).toBe('1');
    expect((await sf.get(`jobs/query/${id}/resultPages`)).status).toBe(200);
    em.admin.addFault({ route: '/resultPages', kind: 'reset' });
    await expect(sf.get(`jobs/query/${id}/resultPages`)).rejects.toThrow();
    expect((await sf.get(`jobs/query/${id}/resultPages`)).status).toBe(200);
  });
});
