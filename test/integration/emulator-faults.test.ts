// Fault injection and the admin API over real HTTP (retry/timeout behaviour of clients is tested against these).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/index.ts';
import { api, login, send } from '../support/emulatorClient.ts';

let em: Emulator;
let sf: ReturnType<typeof api>;

beforeAll(async () => {
  em = await createEmulator({ accounts: 50 });
  sf = api(em, await login(em));
});
afterAll(async () => {
  await em?.close();
});

const adminPost = (path: string, body: unknown) =>
  send(`${em.url}/__admin/${path}`, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'Content-Type': 'application/json' },
  });

describe('faults', () => {
  it('plays a status fault N times with Retry-After, then serves normally', async () => {
    em.admin.addFault({
      route: '/limits',
      times: 2,
      kind: 'status',
      status: 503,
      errorCode: 'SERVER_UNAVAILABLE',
      message: 'down',
      retryAfter: 3,
    });
    const a = await sf.get('limits');
    expect(a.status).toBe(503);
    expect(a.headers.get('retry-after')).toBe('3');
    expect(a.json()).toEqual([{ message: 'down', errorCode: 'SERVER_UNAVAILABLE' }]);
    expect((await sf.get('limits')).status).toBe(503);
    expect((await sf.get('limits')).status).toBe(200);
  });

  it('serves an HTML body, invalid sessions, request limits and query timeouts', async () => {
    em.admin.addFault({ route: /GET .*\/sobjects$/, kind: 'status', status: 420, html: true });
    const html = await sf.get('sobjects');
    expect(html.status).toBe(420);
    expect(html.headers.get('content-type')).toMatch(/text\/html/);
    em.admin.addFault({ route: '/sobjects', kind: 'invalidSession' });
    expect((await sf.get('sobjects')).json()).toEqual([
      { message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' },
    ]);
    em.admin.addFault({ route: '/sobjects', kind: 'requestLimit' });
    expect((await sf.get('sobjects')).status).toBe(403);
    em.admin.addFault({ route: '/query', kind: 'queryTimeout' });
    const q = await sf.get(`query?q=${encodeURIComponent('SELECT Id FROM Account')}`);
    expect(q.json<{ errorCode: string }[]>()[0]?.errorCode).toBe('QUERY_TIMEOUT');
  });

  it('resets the connection, delays, and truncates a body midway', async () => {
    em.admin.addFault({ route: '/limits', kind: 'reset' });
    await expect(sf.get('limits')).rejects.toThrow();
    em.admin.addFault({ route: '/limits', kind: 'delay', ms: 20 });
    expect((await sf.get('limits')).status).toBe(200);
    em.admin.addFault({ route: '/sobjects', kind: 'truncate' });
    await expect(sf.get('sobjects')).rejects.toThrow();
    expect((await sf.get('sobjects')).status).toBe(200);
  });

  it('fails the next Bulk job with an errorMessage', async () => {
    em.admin.addFault({ kind: 'bulkJobFailed', message: 'InternalServerError : retry later' });
    const { id } = (await sf.post('jobs/query', { operation: 'query', query: 'SELECT Id FROM Account' })).json<{
      id: string;
    }>();
    const info = await sf.waitJob('query', id);
    expect(info).toMatchObject({ state: 'Failed', errorMessage: 'InternalServerError : retry later' });
    const next = (await sf.post('jobs/query', { operation: 'query', query: 'SELECT Id FROM Account' })).json<{
      id: string;
    }>();
    expect((await sf.waitJob('query', next.id)).state).toBe('JobComplete');
  });

  it('adds and clears faults over HTTP (routeRegex)', async () => {
    expect((await adminPost('faults', { routeRegex: 'limits$', kind: 'status', status: 502, times: 5 })).status).toBe(
      204,
    );
    expect((await sf.get('limits')).status).toBe(502);
    expect((await send(`${em.url}/__admin/faults`, { method: 'DELETE' })).status).toBe(204);
    expect((await sf.get('limits')).status).toBe(200);
  });
});

describe('admin API over HTTP', () => {
  it('inserts, updates, deletes and undeletes records', async () => {
    const created = await adminPost('records/Account', { Name: 'Admin Made', NumberOfEmployees: 7 });
    expect(created.status).toBe(201);
    const id = created.json<{ Id: string }>().Id;
    expect(em.store.get(id)?.NumberOfEmployees).toBe('7');
    const before = em.store.get(id)?.SystemModstamp;
    const quiet = await send(`${em.url}/__admin/records/${id}?touch=false`, {
      method: 'PATCH',
      body: JSON.stringify({ Name: 'Quiet' }),
    });
    expect(quiet.status).toBe(200);
    expect(em.store.get(id)?.SystemModstamp).toBe(before);
    expect((await send(`${em.url}/__admin/records/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect(em.store.get(id)?.IsDeleted).toBe(true);
    expect((await adminPost(`records/${id}/undelete`, {})).status).toBe(204);
    expect(em.store.get(id)?.IsDeleted).toBe(false);
  });

  it('reports counters and a token-free request log, and sets API usage', async () => {
    await sf.get('limits');
    const counters = (await send(`${em.url}/__admin/counters`)).json<{ apiCalls: number; bulkQueryJobs: number }>();
    expect(counters.apiCalls).toBeGreaterThan(0);
    expect(counters.bulkQueryJobs).toBeGreaterThan(0);
    const log = await send(`${em.url}/__admin/log`);
    const entries = log.json<{ method: string; path: string; status: number }[]>();
    expect(entries.some((e) => e.path === '/services/data/v62.0/limits' && e.status === 200)).toBe(true);
    expect(log.text).not.toContain(em.clientSecret);
    expect(log.text).not.toMatch(/00D\w{12}!/);
    expect((await adminPost('apiUsage', { used: 77, max: 500 })).status).toBe(204);
    expect((await sf.get('limits')).headers.get('sforce-limit-info')).toBe('api-usage=78/500');
  });

  it('expires sessions over HTTP', async () => {
    expect((await adminPost('sessions/expire', {})).status).toBe(204);
    expect((await sf.get('limits')).status).toBe(401);
    sf = api(em, await login(em));
  });
});
