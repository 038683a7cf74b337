// The enterprise profile over real HTTP (plain fetch and node:http, no Salesforce library): wide namespaced objects,
// json and geolocation fields, archived activities, objects without replication/Bulk/system fields, the URI limit, and
// the admin controls a product test needs (stalled bodies, repeated session revocation, COUNT() timeouts, object
// access per user).
import http from 'node:http';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENTERPRISE, type Emulator, createEmulator } from '../../emulator/index.ts';
import type { SfRecord } from '../../emulator/types.ts';
import { api, assertion, login, send, tokenRequest } from '../support/emulatorClient.ts';

let em: Emulator;
let sf: ReturnType<typeof api>;

beforeAll(async () => {
  em = await createEmulator({ profile: 'enterprise', accounts: 1500, seed: 11 });
  sf = api(em, await login(em));
});
afterAll(async () => {
  await em?.close();
});

/** The store's records of an object; `query` = what REST /query may return (no deleted, no archived rows). */
function records(object: string, only: 'query' | 'queryAll'): SfRecord[] {
  const snap = em.store.snapshot(object);
  const out: SfRecord[] = [];
  for (let i = 0; i < snap.size; i++) {
    const r = snap.at(i);
    if (r && (only === 'queryAll' || (r.IsDeleted !== true && r.IsArchived !== true))) out.push(r);
  }
  return out;
}

const q = (soql: string) => `query?q=${encodeURIComponent(soql)}`;
const qa = (soql: string) => `queryAll?q=${encodeURIComponent(soql)}`;

interface Page<T = Record<string, unknown>> {
  totalSize: number;
  done: boolean;
  nextRecordsUrl?: string;
  records: T[];
}

/** Every record of a REST query, following nextRecordsUrl. */
async function queryAllPages<T = Record<string, unknown>>(path: string): Promise<T[]> {
  const out: T[] = [];
  let next: string | undefined = path;
  while (next) {
    const r = await sf.get(next);
    expect(r.status, r.text.slice(0, 300)).toBe(200);
    const page = r.json<Page<T>>();
    out.push(...page.records);
    next = page.nextRecordsUrl;
  }
  return out;
}

/** Runs a Bulk 2.0 query job to completion and returns its rows (every page). */
async function bulkRows(soql: string, operation: 'query' | 'queryAll' = 'query'): Promise<Record<string, string>[]> {
  const created = await sf.post('jobs/query', { operation, query: soql });
  expect(created.status, created.text).toBe(200);
  const { id } = created.json<{ id: string }>();
  expect((await sf.waitJob('query', id)).state).toBe('JobComplete');
  const rows: Record<string, string>[] = [];
  let locator = '';
  for (;;) {
    const page = await sf.get(`jobs/query/${id}/results?maxRecords=1000${locator ? `&locator=${locator}` : ''}`);
    expect(page.status).toBe(200);
    rows.push(...(parse(page.text, { columns: true }) as Record<string, string>[]));
    locator = page.headers.get('sforce-locator') ?? 'null';
    if (locator === 'null') return rows;
  }
}

describe('a wide Account with namespaced, geolocation and json fields', () => {
  it('describes 600+ fields, the long geolocation compound and the json type', async () => {
    const r = await sf.get('sobjects/Account/describe');
    expect(r.status).toBe(200);
    const fields = r.json<{ fields: Record<string, unknown>[] }>().fields;
    expect(fields.length).toBeGreaterThanOrEqual(600);
    const byName = new Map(fields.map((f) => [f.name as string, f]));
    expect(byName.get(ENTERPRISE.longField)).toMatchObject({ type: 'string', custom: true });
    expect(byName.get(ENTERPRISE.geolocation)).toMatchObject({ type: 'location', soapType: 'urn:location' });
    for (const part of [ENTERPRISE.geolocationLatitude, ENTERPRISE.geolocationLongitude]) {
      expect(byName.get(part)).toMatchObject({ type: 'double', compoundFieldName: ENTERPRISE.geolocation });
      expect(part.length).toBeGreaterThan(63);
    }
    expect(byName.get(ENTERPRISE.jsonField)).toMatchObject({
      type: 'json',
      filterable: false,
      sortable: false,
      groupable: false,
    });
  });

  it('renders the json field as nested JSON over REST and as its JSON text in Bulk CSV', async () => {
    const soql = `SELECT Id, ${ENTERPRISE.jsonField} FROM Account`;
    const stored = new Map(records('Account', 'query').map((r) => [r.Id, r[ENTERPRISE.jsonField] as string | null]));
    const first = await sf.get(q(soql));
    // Decimal text goes out verbatim (1.2345678E7 stays in exponent form inside the nested object).
    expect(first.text).toMatch(/"revenue":1\.2345678E7/);
    const rest = await queryAllPages<Record<string, unknown>>(q(soql));
    expect(rest.length).toBe(stored.size);
    let objects = 0;
    for (const rec of rest) {
      const text = stored.get(rec.Id as string);
      const value = rec[ENTERPRISE.jsonField];
      expect(value).toEqual(text === null || text === undefined ? null : JSON.parse(text));
      if (value !== null && typeof value === 'object') objects++;
    }
    expect(objects).toBeGreaterThan(stored.size / 2);
    const bulk = await bulkRows(soql);
    expect(bulk.length).toBe(stored.size);
    for (const row of bulk) expect(row[ENTERPRISE.jsonField]).toBe(stored.get(row.Id as string) ?? '');
  });

  it('stores a json value written through REST and reads it back nested', async () => {
    const value = { segment: 'Enterprise "A"', scores: [1, 2.5, null], nested: { ok: true } };
    const created = await sf.post('sobjects/Account', { Name: 'Json Writer', [ENTERPRISE.jsonField]: value });
    expect(created.status, created.text).toBe(201);
    const { id } = created.json<{ id: string }>();
    expect(em.store.get(id)?.[ENTERPRISE.jsonField]).toBe(JSON.stringify(value));
    const read = await sf.get(`sobjects/Account/${id}?fields=Id,${ENTERPRISE.jsonField}`);
    expect(read.json<Record<string, unknown>>()[ENTERPRISE.jsonField]).toEqual(value);
    const bad = await sf.patch(`sobjects/Account/${id}`, { [ENTERPRISE.jsonField]: '{not json' });
    expect(bad.status).toBe(400);
    em.admin.hardDelete(id);
  });

  it('returns the geolocation compound over REST and refuses it in Bulk', async () => {
    const rows = await queryAllPages<Record<string, unknown>>(
      q(`SELECT Id, ${ENTERPRISE.geolocation}, ${ENTERPRISE.geolocationLatitude} FROM Account LIMIT 50`),
    );
    const withGeo = rows.find((r) => r[ENTERPRISE.geolocationLatitude] !== null);
    expect(withGeo?.[ENTERPRISE.geolocation]).toEqual({
      latitude: withGeo?.[ENTERPRISE.geolocationLatitude],
      longitude: expect.any(Number),
    });
    const refused = await sf.post('jobs/query', {
      operation: 'query',
      query: `SELECT Id, ${ENTERPRISE.geolocation} FROM Account`,
    });
    expect(refused.status).toBe(400);
    expect(refused.json()).toEqual([
      { errorCode: 'INVALIDJOB', message: 'Selecting compound data not supported in Bulk Query' },
    ]);
  });

  it('cannot be read in one REST query (414) but can in SELECTs split under the URI limit', async () => {
    const fields = (await sf.get('sobjects/Account/describe'))
      .json<{ fields: { name: string; type: string }[] }>()
      .fields.filter((f) => f.type !== 'address' && f.type !== 'location')
      .map((f) => f.name);
    const whole = await sf.get(q(`SELECT ${fields.join(', ')} FROM Account`));
    expect(whole.status).toBe(414);
    const base = `${em.url}/services/data/v62.0/`;
    const chunks: string[][] = [[]];
    for (const f of fields.filter((x) => x !== 'Id')) {
      const current = chunks[chunks.length - 1] as string[];
      const soql = `SELECT Id, ${[...current, f].join(', ')} FROM Account`;
      if (`${base}${q(soql)}`.length > 16_384 - 1_000) chunks.push([f]);
      else current.push(f);
    }
    expect(chunks.length).toBeGreaterThan(1);
    const seen = new Map<string, number>();
    for (const chunk of chunks) {
      const rows = await queryAllPages<Record<string, unknown>>(q(`SELECT Id, ${chunk.join(', ')} FROM Account`));
      for (const r of rows) seen.set(r.Id as string, (seen.get(r.Id as string) ?? 0) + Object.keys(r).length - 2);
    }
    expect(seen.size).toBe(records('Account', 'query').length);
    for (const n of seen.values()) expect(n).toBe(fields.length - 1);
  });
});

describe('archived Tasks and Events', () => {
  it('are returned by queryAll only, over REST and Bulk, COUNT() included', async () => {
    for (const object of ['Task', 'Event']) {
      const archived = records(object, 'queryAll').filter((r) => r.IsArchived === true);
      expect(archived.length, object).toBeGreaterThan(20);
      const soql = `SELECT Id, IsArchived, IsDeleted FROM ${object} WHERE IsArchived = true`;
      expect((await sf.get(q(soql))).json<Page>().totalSize).toBe(0);
      const all = await queryAllPages<{ Id: string }>(qa(soql));
      expect(all.map((r) => r.Id).sort()).toEqual(archived.map((r) => r.Id).sort());
      const count = (path: string) => sf.get(path).then((r) => r.json<Page>().totalSize);
      expect(await count(q(`SELECT COUNT() FROM ${object}`))).toBe(records(object, 'query').length);
      expect(await count(qa(`SELECT COUNT() FROM ${object}`))).toBe(records(object, 'queryAll').length);
      const bulkQuery = await bulkRows(`SELECT Id, IsArchived FROM ${object}`, 'query');
      expect(bulkQuery.length).toBe(records(object, 'query').length);
      expect(bulkQuery.some((r) => r.IsArchived === 'true')).toBe(false);
      const bulkAll = await bulkRows(`SELECT Id, IsArchived FROM ${object}`, 'queryAll');
      expect(bulkAll.filter((r) => r.IsArchived === 'true').length).toBe(archived.length);
    }
  });

  it('stay archived when updated, and never enter the delete log', async () => {
    const task = records('Task', 'queryAll').find((r) => r.IsArchived === true) as SfRecord;
    em.admin.update(task.Id, { Description: 'touched while archived' });
    const ids = (await queryAllPages<{ Id: string }>(q('SELECT Id FROM Task'))).map((r) => r.Id);
    expect(ids).not.toContain(task.Id);
    const start = new Date(Date.now() - 14 * 86_400_000).toISOString();
    const end = new Date(Date.now() + 120_000).toISOString();
    const deleted = await sf.get(
      `sobjects/Task/deleted/?start=${encodeURIComponent(start)}&end=${encodeURIComponent(end)}`,
    );
    expect(deleted.json<{ deletedRecords: { id: string }[] }>().deletedRecords.map((d) => d.id)).not.toContain(task.Id);
  });
});

describe('objects without replication, Bulk or the usual system fields', () => {
  const window = () => {
    const start = new Date(Date.now() - 5 * 86_400_000).toISOString();
    const end = new Date(Date.now() + 120_000).toISOString();
    return `?start=${encodeURIComponent(start)}&end=${encodeURIComponent(end)}`;
  };

  it('AccountShare: queryable, not replicateable, no SystemModstamp or CreatedDate', async () => {
    const d = (await sf.get('sobjects/AccountShare/describe')).json<Record<string, unknown>>();
    expect(d).toMatchObject({ name: 'AccountShare', queryable: true, replicateable: false });
    const names = (d.fields as { name: string }[]).map((f) => f.name);
    expect(names).toContain('LastModifiedDate');
    expect(names).not.toContain('SystemModstamp');
    expect(names).not.toContain('CreatedDate');
    for (const sub of ['updated', 'deleted']) {
      const r = await sf.get(`sobjects/AccountShare/${sub}/${window()}`);
      expect(r.status, sub).toBe(400);
      expect(r.json()).toEqual([{ errorCode: 'INVALID_TYPE', message: 'sObject type AccountShare is not replicable' }]);
    }
    // Replication works on its neighbours, so the refusal is the object's, not the window's.
    expect((await sf.get(`sobjects/Account/updated/${window()}`)).status).toBe(200);
    const rows = await queryAllPages<Record<string, unknown>>(
      q('SELECT Id, AccountId, RowCause, LastModifiedDate FROM AccountShare ORDER BY LastModifiedDate'),
    );
    expect(rows.length).toBe(records('AccountShare', 'query').length);
    const bad = await sf.get(q('SELECT Id, SystemModstamp FROM AccountShare'));
    expect(bad.status).toBe(400);
    expect(bad.json<{ errorCode: string }[]>()[0]?.errorCode).toBe('INVALID_FIELD');
    expect((await bulkRows('SELECT Id, RowCause FROM AccountShare')).length).toBe(rows.length);
  });

  it('TaskStatus: no IsDeleted, refused by Bulk API 2.0, readable over REST', async () => {
    const d = (await sf.get('sobjects/TaskStatus/describe')).json<{ fields: { name: string }[] }>();
    expect(d.fields.map((f) => f.name)).not.toContain('IsDeleted');
    const job = await sf.post('jobs/query', { operation: 'query', query: 'SELECT Id, MasterLabel FROM TaskStatus' });
    expect(job.status).toBe(400);
    expect(job.json()).toEqual([
      { errorCode: 'INVALIDENTITY', message: "Entity 'TaskStatus' is not supported by the Bulk API." },
    ]);
    const rows = await queryAllPages<{ MasterLabel: string }>(q('SELECT Id, MasterLabel, IsClosed FROM TaskStatus'));
    expect(rows.map((r) => r.MasterLabel)).toContain('Completed');
    // No IsDeleted: queryAll is the same as query.
    expect((await queryAllPages(qa('SELECT Id FROM TaskStatus'))).length).toBe(rows.length);
  });

  it('a History object whose name passes 63 characters lowercased, with its fields', async () => {
    const name = ENTERPRISE.renewalHistory;
    expect(name.toLowerCase().length).toBeGreaterThan(63);
    const global = (await sf.get('sobjects')).json<{ sobjects: { name: string }[] }>();
    expect(global.sobjects.map((o) => o.name)).toEqual(expect.arrayContaining([name, ENTERPRISE.renewalObject]));
    const d = (await sf.get(`sobjects/${name}/describe`)).json<{ fields: { name: string; type: string }[] }>();
    expect(d.fields.map((f) => `${f.name}:${f.type}`)).toEqual([
      'Id:id',
      'IsDeleted:boolean',
      'CreatedDate:datetime',
      'CreatedById:reference',
      'ParentId:reference',
      'Field:picklist',
      'DataType:picklist',
      'OldValue:anyType',
      'NewValue:anyType',
    ]);
    const soql = `SELECT Id, ParentId, Field, DataType, OldValue, NewValue, CreatedDate FROM ${name}`;
    const rest = await queryAllPages(q(soql));
    expect(rest.length).toBe(records(name, 'query').length);
    expect((await bulkRows(soql)).length).toBe(rest.length);
    expect((await sf.get(q(`SELECT SystemModstamp FROM ${name}`))).status).toBe(400);
  });
});

describe('the 16,384-byte URI limit', () => {
  it('answers 414 with the web server page for any longer URI, before authentication, in every profile', async () => {
    const demo = await createEmulator({ accounts: 5 });
    try {
      for (const target of [em, demo]) {
        const path = '/services/data/v62.0/query?q=';
        const exact = `${path}${'x'.repeat(16_384 - path.length)}`;
        const under = await send(`${target.url}${exact.slice(0, -1_000)}`, { headers: { Authorization: 'Bearer no' } });
        expect(under.status).toBe(401);
        // Exactly 16,384 bytes of URI leaves no room for headers: 431; one byte more is 414.
        expect((await send(`${target.url}${exact}`)).status).toBe(431);
        const over = await send(`${target.url}${exact}y`);
        expect(over.status).toBe(414);
        expect(over.headers.get('content-type')).toMatch(/^text\/html/);
        expect(over.text).toBe('<h1>Bad Message 414</h1><pre>reason: URI Too Long</pre>');
        const token = await send(`${target.loginUrl}/services/oauth2/token?${'p'.repeat(16_400)}`, { method: 'POST' });
        expect(token.status).toBe(414);
      }
      // URI within the limit but URI + headers over it: 431.
      const headers = { Authorization: 'Bearer x', 'X-Padding': 'p'.repeat(9_000) };
      const r = await send(`${em.url}/services/data/v62.0/limits?${'a'.repeat(8_000)}`, { headers });
      expect(r.status).toBe(431);
      expect(r.text).toBe('<h1>Bad Message 431</h1><pre>reason: Request Header Fields Too Large</pre>');
    } finally {
      await demo.close();
    }
  });
});

/** A GET whose response is watched for `ms`: what arrived, and whether it ended or the socket closed. */
function watch(url: string, token: string, ms: number) {
  return new Promise<{ status: number; length: number; received: number; ended: boolean; closed: boolean }>(
    (resolve, reject) => {
      const req = http.get(url, { headers: { Authorization: `Bearer ${token}` } }, (res) => {
        let received = 0;
        let ended = false;
        res.on('data', (c: Buffer) => {
          received += c.length;
        });
        res.on('end', () => {
          ended = true;
        });
        res.on('error', () => {});
        setTimeout(() => {
          resolve({
            status: res.statusCode ?? 0,
            length: Number(res.headers['content-length'] ?? Number.NaN),
            received,
            ended,
            closed: res.socket?.destroyed ?? true,
          });
          req.destroy();
        }, ms);
      });
      req.on('error', (err) => (err.message.includes('socket hang up') ? undefined : reject(err)));
    },
  );
}

describe('admin controls for product tests', () => {
  it('stalls a REST page and a Bulk result page mid-body without closing the connection', async () => {
    const token = await login(em);
    em.admin.addFault({ route: '/query?q=', kind: 'stall', afterBytes: 120 });
    const rest = await watch(`${em.url}/services/data/v62.0/${q('SELECT Id, Name FROM Account')}`, token, 400);
    expect(rest).toMatchObject({ status: 200, received: 120, ended: false, closed: false });
    expect(rest.length).toBeGreaterThan(120);
    // The same request again is served in full: the fault was used up.
    expect((await sf.get(q('SELECT Id, Name FROM Account LIMIT 5'))).status).toBe(200);

    const job = (await sf.post('jobs/query', { operation: 'query', query: 'SELECT Id, Name FROM Account' })).json<{
      id: string;
    }>();
    await sf.waitJob('query', job.id);
    const adminFault = await send(`${em.url}/__admin/faults`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ kind: 'stall', routeRegex: `/jobs/query/${job.id}/results`, afterBytes: 300 }),
    });
    expect(adminFault.status).toBe(204);
    const bulk = await watch(`${em.url}/services/data/v62.0/jobs/query/${job.id}/results`, token, 400);
    expect(bulk).toMatchObject({ status: 200, received: 300, ended: false, closed: false });
    const retry = await sf.get(`jobs/query/${job.id}/results`);
    expect(retry.status).toBe(200);
    expect(retry.headers.get('sforce-numberofrecords')).toBe(String(records('Account', 'query').length));
    expect((await sf.get('limits')).status).toBe(200);
  });

  it('revokes the current session and the next tokens, for expiries in a row', async () => {
    const first = await login(em);
    expect((await api(em, first).get('limits')).status).toBe(200);
    em.admin.revokeSessions({ next: 1 });
    const expired = await api(em, first).get('limits');
    expect(expired.status).toBe(401);
    expect(expired.json()).toEqual([{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);
    const second = await login(em);
    expect((await api(em, second).get('limits')).status).toBe(401);
    const third = await login(em);
    expect((await api(em, third).get('limits')).status).toBe(200);
    expect((await api(em, third).get('limits')).status).toBe(200);

    // Over HTTP: keep the current session, let each of the next two tokens make one call.
    const revoke = await send(`${em.url}/__admin/sessions/revoke`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ current: false, next: 2, afterCalls: 1 }),
    });
    expect(revoke.status).toBe(204);
    expect((await api(em, third).get('limits')).status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const t = await login(em);
      expect((await api(em, t).get('limits')).status).toBe(200);
      expect((await api(em, t).get('limits')).status).toBe(401);
    }
    expect((await api(em, await login(em)).get('limits')).status).toBe(200);
    // Refresh-token and client-credentials logins are revoked the same way.
    em.admin.revokeSessions({ current: false, next: 1 });
    const refreshed = await tokenRequest(em, {
      grant_type: 'refresh_token',
      client_id: em.clientId,
      refresh_token: em.admin.issueRefreshToken(),
    });
    expect((await api(em, refreshed.json<{ access_token: string }>().access_token).get('limits')).status).toBe(401);
    sf = api(em, await login(em));
  });

  it('makes SELECT COUNT() time out with QUERY_TIMEOUT while other queries run', async () => {
    const fault = await send(`${em.url}/__admin/faults`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        kind: 'queryTimeout',
        soqlRegex: '^\\s*SELECT\\s+COUNT\\(\\s*\\)',
        soqlRegexFlags: 'i',
        times: 2,
      }),
    });
    expect(fault.status).toBe(204);
    const listed = (await send(`${em.url}/__admin/faults`)).json<{ spec: { soql: string } }[]>();
    expect(listed.map((f) => f.spec.soql)).toContain('/^\\s*SELECT\\s+COUNT\\(\\s*\\)/i');
    expect((await sf.get(q('SELECT Id FROM Account LIMIT 3'))).status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const r = await sf.get(q('select count() from Account'));
      expect(r.status).toBe(400);
      expect(r.json()).toEqual([
        { message: 'Your query request was running for too long.', errorCode: 'QUERY_TIMEOUT' },
      ]);
    }
    const ok = await sf.get(q('SELECT COUNT() FROM Account'));
    expect(ok.json<Page>().totalSize).toBe(records('Account', 'query').length);
  });

  it('denies read access to an object per user, as Salesforce hides it', async () => {
    const other = 'user1@sfsync-emulator.example';
    const otherToken = (
      await tokenRequest(em, {
        grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
        assertion: await assertion(em, { sub: other }),
      })
    ).json<{ access_token: string }>().access_token;
    const theirs = api(em, otherToken);
    em.admin.denyObjectAccess('Account', other);
    try {
      const describe = await theirs.get('sobjects/Account/describe');
      expect(describe.status).toBe(404);
      expect(describe.json()).toEqual([{ message: 'The requested resource does not exist', errorCode: 'NOT_FOUND' }]);
      const query = await theirs.get(q('SELECT Id FROM Account'));
      expect(query.status).toBe(400);
      expect(query.json<{ errorCode: string }[]>()[0]?.errorCode).toBe('INVALID_TYPE');
      const path = await theirs.get(q('SELECT Id, Account.Name FROM Contact LIMIT 1'));
      expect(path.json<{ errorCode: string }[]>()[0]?.errorCode).toBe('INVALID_FIELD');
      const global = (await theirs.get('sobjects')).json<{ sobjects: { name: string }[] }>();
      expect(global.sobjects.map((o) => o.name)).not.toContain('Account');
      expect(global.sobjects.map((o) => o.name)).toContain('Contact');
      expect(
        (await theirs.get(`sobjects/Account/updated/?start=2026-01-01T00:00:00Z&end=2026-01-02T00:00:00Z`)).status,
      ).toBe(404);
      const bulk = await theirs.post('jobs/query', { operation: 'query', query: 'SELECT Id FROM Account' });
      expect(bulk.status).toBe(400);
      expect(bulk.json<{ errorCode: string }[]>()[0]?.errorCode).toBe('INVALID_TYPE');
      const ingest = await theirs.post('jobs/ingest', { object: 'Account', operation: 'insert' });
      expect(ingest.json<{ errorCode: string }[]>()[0]?.errorCode).toBe('INVALIDENTITY');
      // The API user still reads it.
      expect((await sf.get('sobjects/Account/describe')).status).toBe(200);
      // For every user, over HTTP.
      const deny = await send(`${em.url}/__admin/access/deny`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ object: 'TaskStatus' }),
      });
      expect(deny.status).toBe(204);
      expect((await sf.get('sobjects/TaskStatus/describe')).status).toBe(404);
      expect((await send(`${em.url}/__admin/access`)).json()).toEqual(
        expect.arrayContaining([
          { object: 'account', username: other },
          { object: 'taskstatus', username: null },
        ]),
      );
    } finally {
      const restore = await send(`${em.url}/__admin/access/restore`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{}',
      });
      expect(restore.status).toBe(204);
    }
    expect((await theirs.get('sobjects/Account/describe')).status).toBe(200);
    expect((await sf.get('sobjects/TaskStatus/describe')).status).toBe(200);
  });
});

describe('an enterprise org of 10,000 Accounts', () => {
  let big: Emulator;
  afterAll(async () => {
    await big?.close();
  });

  it('starts and serves every Account field by Bulk and by REST pages in reasonable time', async () => {
    const started = performance.now();
    big = await createEmulator({ profile: 'enterprise', accounts: 10_000, seed: 2 });
    expect(performance.now() - started).toBeLessThan(5_000);
    const client = api(big, await login(big));
    const fields = (big.store.object('Account')?.fields ?? [])
      .filter((f) => f.type !== 'address' && f.type !== 'location')
      .map((f) => f.name);
    const t0 = performance.now();
    const job = await client.post('jobs/query', {
      operation: 'queryAll',
      query: `SELECT ${fields.join(', ')} FROM Account`,
    });
    expect(job.status).toBe(200);
    const { id } = job.json<{ id: string }>();
    expect((await client.waitJob('query', id)).state).toBe('JobComplete');
    let rows = 0;
    let locator = '';
    do {
      const page = await client.get(`jobs/query/${id}/results?maxRecords=5000${locator ? `&locator=${locator}` : ''}`);
      expect(page.status).toBe(200);
      rows += Number(page.headers.get('sforce-numberofrecords'));
      expect(page.text.slice(0, page.text.indexOf('\n')).split(',').length).toBe(fields.length);
      locator = page.headers.get('sforce-locator') ?? 'null';
    } while (locator !== 'null');
    expect(rows).toBe(10_000);
    const bulkMs = performance.now() - t0;
    // A REST page of 2,000 records with a third of the fields (the URI allows no more).
    const t1 = performance.now();
    const third = fields.slice(0, 200);
    const page = await client.get(q(`SELECT ${third.join(', ')} FROM Account`));
    expect(page.status).toBe(200);
    expect(page.json<Page>().records.length).toBe(2000);
    const restMs = performance.now() - t1;
    expect(bulkMs).toBeLessThan(30_000);
    expect(restMs).toBeLessThan(10_000);
  });
});
