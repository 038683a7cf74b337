// SalesforceHttp against a tiny local HTTP server that misbehaves: response headers that never come, bodies that stall
// mid-way, sessions revoked again and again (docs/salesforce.md#timeouts, #oauth-session-expiry). Every call must end,
// retried a bounded number of times, and a stalled Bulk result page must be re-requested at the same locator.
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SalesforceApiError } from '../../lib/errors.ts';
import { silentLogger } from '../../lib/log.ts';
import { bulkCsvStream } from '../../extractors/bulk/csvStream.ts';
import type { Session } from '../../extractors/client/auth.ts';
import { createSalesforceHttp, MAX_REAUTHS_PER_CALL } from '../../extractors/client/salesforceHttp.ts';
import { createTokenProvider } from '../../extractors/client/tokenProvider.ts';

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

let server: Server;
let base = '';
const routes = new Map<string, Handler>();
/** Requests per path, and the tokens they carried. */
const hits = new Map<string, number>();
const tokensSeen: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = (req.url ?? '').replace(/^\/services\/data\/v62\.0\//, '');
    const n = (hits.get(path) ?? 0) + 1;
    hits.set(path, n);
    tokensSeen.push(String(req.headers.authorization));
    const route = [...routes.entries()].find(([p]) => path.startsWith(p));
    if (!route) {
      res.writeHead(404).end();
      return;
    }
    route[1](req, res, n);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

beforeEach(() => {
  routes.clear();
  hits.clear();
  tokensSeen.length = 0;
});

function client(opts: { responseMs?: number; idleMs?: number; attempts?: number } = {}) {
  let minted = 0;
  const tokens = createTokenProvider({
    loginUrl: 'https://login.salesforce.com',
    auth: { flow: 'client_credentials', clientId: 'c', clientSecret: 's' },
    log: silentLogger(),
    mint: async (): Promise<Session> => ({ accessToken: `token-${++minted}`, instanceUrl: base }),
  });
  const http = createSalesforceHttp({
    tokens,
    apiVersion: '62.0',
    log: silentLogger(),
    retry: { attempts: opts.attempts ?? 3, sleep: async () => {} },
    timeouts: { responseMs: opts.responseMs ?? 300, idleMs: opts.idleMs ?? 300 },
  });
  return { http, tokens };
}

const json = (res: ServerResponse, status: number, body: unknown) =>
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));

/** Writes `head`, then nothing more: the connection stays open and silent. */
const stall = (res: ServerResponse, head: string, headers: Record<string, string> = {}) => {
  res.writeHead(200, { 'Content-Type': 'application/json', ...headers });
  res.write(head);
};

describe('SalesforceHttp timeouts', () => {
  it('gives up on a server that never answers after a bounded number of tries, with one clear error', async () => {
    routes.set('limits', () => {});
    const { http } = client({ responseMs: 150, attempts: 3 });
    const started = Date.now();
    const err = await http.get('limits/').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SalesforceApiError);
    expect((err as SalesforceApiError).errorCode).toBe('ETIMEDOUT');
    expect((err as Error).message).toMatch(/GET \/services\/data\/v62\.0\/limits\/ failed: ETIMEDOUT \(no response/);
    expect((err as Error).message).toMatch(/SFSYNC_HTTP_TIMEOUT_SECONDS/);
    expect(hits.get('limits/')).toBe(3);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('requests a REST page again when its body stalls mid-way, and returns the complete page', async () => {
    const page = JSON.stringify({ totalSize: 1, done: true, records: [{ Id: '001' }] });
    routes.set('query', (_req, res, n) => (n === 1 ? stall(res, page.slice(0, 10)) : json(res, 200, JSON.parse(page))));
    const { http } = client({ idleMs: 150 });
    expect(await http.getText('query?q=SELECT+Id+FROM+Account')).toBe(page);
    expect(hits.get('query?q=SELECT+Id+FROM+Account')).toBe(2);
  });

  it('fails a body that keeps stalling with ETIMEDOUT naming SFSYNC_IDLE_TIMEOUT_SECONDS', async () => {
    routes.set('query', (_req, res) => stall(res, '{"totalSize":'));
    const { http } = client({ idleMs: 100, attempts: 2 });
    const err = await http.getBytes('query?q=x').catch((e: unknown) => e);
    expect((err as SalesforceApiError).errorCode).toBe('ETIMEDOUT');
    expect((err as Error).message).toMatch(/sent nothing for 0\.1 s; SFSYNC_IDLE_TIMEOUT_SECONDS/);
    expect(hits.get('query?q=x')).toBe(2);
  });

  it('never times out a body the consumer is slow to read (the wait is the consumer, not the server)', async () => {
    routes.set('jobs', (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/csv' });
      res.end('x'.repeat(1 << 20));
    });
    const { http } = client({ idleMs: 100 });
    const res = await http.getStream('jobs/query/x/results');
    let bytes = 0;
    for await (const chunk of res.chunks()) {
      bytes += chunk.length;
      await new Promise((r) => setTimeout(r, 30));
    }
    expect(bytes).toBe(1 << 20);
  });

  it('re-requests a Bulk result page that stalls mid-body at the same locator, without repeating a row', async () => {
    const rows = Array.from({ length: 200 }, (_, i) => `"a${i}","${'n'.repeat(50)}"\n`).join('');
    const body = `"Id","Name"\n${rows}`;
    const csv = { 'Content-Type': 'text/csv', 'Sforce-NumberOfRecords': '200', 'Sforce-Locator': 'null' };
    routes.set('jobs/query/750x/results', (_req, res, n) => {
      if (n === 1) return stall(res, body.slice(0, 2000), csv);
      res.writeHead(200, csv).end(body);
    });
    const { http } = client({ idleMs: 150 });
    const stream = bulkCsvStream(http, '750x', { expectedHeader: ['Id', 'Name'], gzip: false });
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe(rows);
    expect(stream.records).toBe(200);
    expect(hits.get('jobs/query/750x/results')).toBe(2);
  });
});

describe('SalesforceHttp URI length (docs/salesforce.md#uri-length)', () => {
  it('never sends a GET whose URI Salesforce would refuse (414), failing it at once with its size', async () => {
    routes.set('queryAll', (_req, res) => json(res, 200, { totalSize: 0, done: true, records: [] }));
    const { http } = client();
    const soql = `SELECT ${'A__c, '.repeat(3000)}Id FROM X`;
    const err = await http.getText(`queryAll?q=${encodeURIComponent(soql)}`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SalesforceApiError);
    expect((err as SalesforceApiError).status).toBe(414);
    expect((err as SalesforceApiError).errorCode).toBe('URI_TOO_LONG');
    expect((err as Error).message).toMatch(/not sent: its URI would be \d+ bytes/);
    expect(hits.size).toBe(0);
    // A query that fits is sent.
    expect(await http.getText('queryAll?q=SELECT+Id+FROM+X')).toMatch(/totalSize/);
  });
});

describe('SalesforceHttp session expiry', () => {
  const expired = (res: ServerResponse) =>
    json(res, 401, [{ errorCode: 'INVALID_SESSION_ID', message: 'Session expired or invalid' }]);

  it('logs in again for each revoked session and replays the call until it is answered', async () => {
    // The session is revoked, and so is the first new one while the replay is in flight.
    routes.set('limits', (_req, res, n) => (n <= 2 ? expired(res) : json(res, 200, { ok: true })));
    const { http, tokens } = client();
    expect(await http.get('limits/')).toEqual({ ok: true });
    expect(tokens.mints).toBe(3);
    expect(tokensSeen).toEqual(['Bearer token-1', 'Bearer token-2', 'Bearer token-3']);
  });

  it('fails a call whose every new session is refused after a bounded number of logins, never looping', async () => {
    routes.set('limits', (_req, res) => expired(res));
    const { http, tokens } = client();
    const err = await http.get('limits/').catch((e: unknown) => e);
    expect((err as SalesforceApiError).status).toBe(401);
    expect((err as Error).message).toMatch(/INVALID_SESSION_ID.*still refused after 3 new sessions/);
    expect(tokens.mints).toBe(1 + MAX_REAUTHS_PER_CALL);
    expect(hits.get('limits/')).toBe(1 + MAX_REAUTHS_PER_CALL);
    // The run's re-logins this minute are spent: the next call fails at its first 401 without a login.
    const again = await http.get('limits/').catch((e: unknown) => e);
    expect((again as Error).message).toMatch(/no further login this minute/);
    expect(tokens.mints).toBe(1 + MAX_REAUTHS_PER_CALL);
  });
});
