// The HTTP front door: request log, URI limit, faults, token endpoint, versions list, authentication, API counting with
// Sforce-Limit-Info, then routing to REST, Bulk query and Bulk ingest (docs/salesforce.md#oauth-token-endpoint,
// #rest-request-conventions, #bulk-api-20-query-jobs, #bulk-api-20-ingest).
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { Logger } from 'pino';
import type { ObjectAccess } from './access.ts';
import { type EmulatorAdmin, type RequestLogEntry, handleAdmin } from './admin.ts';
import type { BulkIngest } from './bulkIngest.ts';
import type { BulkQuery } from './bulkQuery.ts';
import { type Faults, playFault } from './faults.ts';
import { type Ctx, HttpError, readBody, sendError, sendJson, sendText } from './http.ts';
import type { Limits } from './limits.ts';
import { OAuthError, type OAuthServer } from './oauth.ts';
import type { Rest } from './rest.ts';
import type { OrgStore } from './types.ts';

export interface ServerDeps {
  store: OrgStore;
  /** Objects hidden from some users (admin API): each request sees the org through its user's view. */
  access: ObjectAccess;
  oauth: OAuthServer;
  limits: Limits;
  faults: Faults;
  rest: Rest;
  bulkQuery: BulkQuery;
  bulkIngest: BulkIngest;
  admin: EmulatorAdmin;
  /**
   * Change Data Capture (pubsub/changeEvents.ts): API writes run with the caller's identity, which their change events
   * carry as changeOrigin and commitUser (docs/salesforce.md#change-event-header).
   */
  changeContext?: { withContext<T>(ctx: { origin: string; userId: string }, fn: () => T): T };
  apiVersions: string[];
  requestLog: RequestLogEntry[];
  /**
   * When set, API calls on this Host (the login host) are refused, as login.salesforce.com would
   * (docs/salesforce.md#login-hosts-and-instance-url).
   */
  loginOnlyHost?: () => string | undefined;
  log?: Logger;
}

const MAX_URI = 16_384;
const MAX_LOG = 10_000;
const NOT_FOUND = 'The requested resource does not exist';

const VERSION_LABELS: Record<string, string> = { '0': 'Spring', '1': 'Summer', '2': 'Winter' };

/**
 * docs/salesforce.md#api-versions: versions ascend; labels follow the three-releases-a-year cycle (62.0 = Winter '25).
 */
function versionsList(versions: string[]) {
  return versions.map((v) => {
    const n = Math.floor(Number(v));
    const year = 25 + Math.floor((n - 62) / 3);
    return {
      label: `${VERSION_LABELS[String(n % 3)]} '${String(year).padStart(2, '0')}`,
      url: `/services/data/v${v}`,
      version: v,
    };
  });
}

function headerBytes(req: IncomingMessage): number {
  let n = 0;
  for (let i = 0; i < req.rawHeaders.length; i++) n += req.rawHeaders[i]!.length + 2;
  return n;
}

/** The web server's own refusal of a request it will not parse: a small HTML page, and the connection closed. */
function badMessage(res: ServerResponse, status: number, reason: string): void {
  sendText(res, status, `<h1>Bad Message ${status}</h1><pre>reason: ${reason}</pre>`, 'text/html;charset=iso-8859-1', {
    Connection: 'close',
  });
}

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

export function createRequestHandler(deps: ServerDeps): RequestHandler {
  const logRequest = (entry: RequestLogEntry) => {
    deps.requestLog.push(entry);
    if (deps.requestLog.length > MAX_LOG) deps.requestLog.splice(0, deps.requestLog.length - MAX_LOG);
    deps.log?.debug(
      { method: entry.method, path: entry.path.slice(0, 300), status: entry.status, ms: entry.ms },
      'emulator request',
    );
  };

  const token = async (ctx: Ctx) => {
    const form = new URLSearchParams((await readBody(ctx.req, 1 << 20)).toString('utf8'));
    try {
      sendJson(ctx.res, 200, await deps.oauth.token(form, ctx.req));
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      sendJson(ctx.res, 400, { error: err.error, error_description: err.description });
    }
  };

  const api = async (ctx: Ctx, version: string, rest: string[]) => {
    if (!deps.apiVersions.includes(version)) {
      if (Number(version) >= 21 && Number(version) < 31)
        throw new HttpError(410, 'GONE', 'This API version is no longer supported.');
      throw new HttpError(404, 'NOT_FOUND', NOT_FOUND);
    }
    const session = deps.oauth.authenticate(ctx.req);
    if (!session) throw new HttpError(401, 'INVALID_SESSION_ID', 'Session expired or invalid');
    const loginHost = deps.loginOnlyHost?.();
    if (loginHost && ctx.req.headers.host === loginHost) {
      throw new HttpError(401, 'INVALID_SESSION_ID', 'This session is not valid for use with the REST API');
    }
    // docs/salesforce.md#sforce-limit-info-header: every authenticated call counts, Bulk 2.0 included; over the
    // allocation -> 403.
    if (!deps.limits.tryCountCall())
      throw new HttpError(403, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.', {
        'Sforce-Limit-Info': deps.limits.headerValue(),
      });
    ctx.res.setHeader('Sforce-Limit-Info', deps.limits.headerValue());
    const [head, kind, ...tail] = rest;
    const org = deps.access.viewFor(deps.store, session.user.username);
    const dispatch = () => {
      if (head === 'jobs' && kind === 'query') return deps.bulkQuery.handle(ctx, version, tail, session.user.id, org);
      if (head === 'jobs' && kind === 'ingest') return deps.bulkIngest.handle(ctx, version, tail, session.user.id, org);
      return deps.rest.handle(ctx, version, rest, org);
    };
    if (!deps.changeContext) return dispatch();
    const client = /(?:^|,)\s*client=([^,\s]+)/.exec(String(ctx.req.headers['sforce-call-options'] ?? ''))?.[1];
    const via = `com/salesforce/api/${head === 'jobs' ? 'bulk' : 'rest'}/${version}`;
    const origin = client ? `${via};client=${client}` : via;
    return deps.changeContext.withContext({ origin, userId: session.user.id }, dispatch);
  };

  const route = async (ctx: Ctx) => {
    const [s0, s1, s2, ...more] = ctx.parts;
    if (s0 === '__admin') return handleAdmin(ctx, deps.admin, deps.store, ctx.parts.slice(1));
    const fault = deps.faults.takeForRequest(ctx.method, ctx.url.pathname + ctx.url.search);
    if (fault && (await playFault(fault, ctx.res)) === 'handled') return;
    if (s0 !== 'services') throw new HttpError(404, 'NOT_FOUND', NOT_FOUND);
    if (s1 === 'oauth2' && s2 === 'token' && more.length === 0 && ctx.method === 'POST') return token(ctx);
    if (s1 === 'data' && s2 === undefined && ctx.method === 'GET')
      return sendJson(ctx.res, 200, versionsList(deps.apiVersions));
    const v = s1 === 'data' ? /^v(\d+\.\d)$/.exec(s2 ?? '') : null;
    if (v?.[1]) return api(ctx, v[1], more);
    throw new HttpError(404, 'NOT_FOUND', NOT_FOUND);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    const rawUrl = req.url ?? '/';
    const method = req.method ?? 'GET';
    let ctx: Ctx | undefined;
    res.on('close', () => {
      const soql = ctx?.soql ?? ctx?.url.searchParams.get('q') ?? undefined;
      logRequest({
        at: new Date().toISOString(),
        method,
        path: rawUrl.length > 2000 ? `${rawUrl.slice(0, 2000)}...` : rawUrl,
        status: res.statusCode,
        ms: Math.round(performance.now() - started),
        ...(soql !== undefined && { soql }),
      });
    });
    // docs/salesforce.md#rest-request-conventions: URI alone over 16,384 bytes -> 414; URI plus headers -> 431.
    // Statuses: https://help.salesforce.com/s/articleView?id=000386264&type=1. The web server refuses these before
    // the API sees them, so the body is its HTML page, not a JSON error array; clients log it from real orgs as
    // `<h1>Bad Message 414</h1><pre>reason: URI Too Long</pre>`. Every profile, every path, before authentication.
    if (rawUrl.length > MAX_URI) return badMessage(res, 414, 'URI Too Long');
    if (rawUrl.length + headerBytes(req) > MAX_URI) return badMessage(res, 431, 'Request Header Fields Too Large');
    const url = new URL(rawUrl, 'http://emulator.invalid');
    const parts = url.pathname.split('/').filter((p, i, all) => i > 0 && !(p === '' && i === all.length - 1));
    ctx = { req, res, method, url, parts };
    try {
      await route(ctx);
    } catch (err) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (err instanceof HttpError) return sendError(res, err.status, err.errorCode, err.message, err.headers);
      deps.log?.error({ err, method, path: url.pathname }, 'emulator request failed');
      sendError(
        res,
        500,
        'UNKNOWN_EXCEPTION',
        'An unexpected error occurred. Please include this ErrorId if you contact support: emulator',
      );
    }
  };

  return (req, res) => {
    void handle(req, res);
  };
}

export async function listen(handler: RequestHandler, port: number, host: string): Promise<Server> {
  // Node's own header limit is 16 KiB; raise it so the emulator, not the parser, answers 414/431 like Salesforce.
  const server = createServer({ maxHeaderSize: 64 * 1024, keepAliveTimeout: 30_000 }, handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

export async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
