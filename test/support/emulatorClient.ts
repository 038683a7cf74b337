// A deliberately plain HTTP client for the emulator tests (fetch over real sockets, no Salesforce library).
import { SignJWT, importPKCS8 } from 'jose';
import type { Emulator } from '../../emulator/index.ts';

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json<T = unknown>(): T;
}

export async function assertion(
  em: Emulator,
  claims: { iss?: string; sub?: string; aud?: string; exp?: number } = {},
  pem = em.privateKeyPem,
): Promise<string> {
  const key = await importPKCS8(pem, 'RS256');
  return new SignJWT({})
    .setProtectedHeader({ alg: 'RS256' })
    .setIssuer(claims.iss ?? em.clientId)
    .setSubject(claims.sub ?? em.username)
    .setAudience(claims.aud ?? em.loginUrl)
    .setExpirationTime(claims.exp ?? Math.floor(Date.now() / 1000) + 180)
    .sign(key);
}

export async function tokenRequest(
  em: Emulator,
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<Reply> {
  return send(`${em.loginUrl}/services/oauth2/token`, {
    method: 'POST',
    body: new URLSearchParams(form).toString(),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
  });
}

export async function login(em: Emulator): Promise<string> {
  const r = await tokenRequest(em, {
    grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
    assertion: await assertion(em),
  });
  if (r.status !== 200) throw new Error(`login failed: ${r.text}`);
  return r.json<{ access_token: string }>().access_token;
}

export async function send(url: string, init: RequestInit = {}): Promise<Reply> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: <T>() => JSON.parse(text) as T };
}

/** Authenticated calls relative to the instance URL; `path` starting with /services is used as is. */
export function api(em: Emulator, token: string, version = '62.0') {
  const url = (path: string) =>
    path.startsWith('/services') ? `${em.url}${path}` : `${em.url}/services/data/v${version}/${path}`;
  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    send(url(path), {
      method,
      headers: {
        Authorization: `Bearer ${token}`,
        ...(body !== undefined && typeof body !== 'string' ? { 'Content-Type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
  return {
    get: (path: string, headers?: Record<string, string>) => call('GET', path, undefined, headers),
    post: (path: string, body: unknown, headers?: Record<string, string>) => call('POST', path, body, headers),
    patch: (path: string, body: unknown) => call('PATCH', path, body),
    put: (path: string, body: string) => call('PUT', path, body, { 'Content-Type': 'text/csv' }),
    del: (path: string) => call('DELETE', path),
    /** Polls a Bulk job until it leaves UploadComplete/InProgress/Open. */
    async waitJob(kind: 'query' | 'ingest', id: string): Promise<{ state: string; [k: string]: unknown }> {
      for (;;) {
        const info = (await call('GET', `jobs/${kind}/${id}`)).json<{ state: string }>();
        if (!['UploadComplete', 'InProgress', 'Open'].includes(info.state)) return info;
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
}
