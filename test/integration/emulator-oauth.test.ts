// The emulator's token endpoint and session handling over real HTTP (docs/salesforce.md#oauth-token-endpoint,
// #api-versions, #sforce-limit-info-header, #login-hosts-and-instance-url).
import { exportPKCS8, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/index.ts';
import { api, assertion, login, send, tokenRequest } from '../support/emulatorClient.ts';

const JWT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
let em: Emulator;

beforeAll(async () => {
  em = await createEmulator({ accounts: 20, dailyApiLimit: 1000 });
});
afterAll(async () => {
  await em?.close();
});

async function jwtError(claims: Parameters<typeof assertion>[1], pem?: string) {
  const r = await tokenRequest(em, { grant_type: JWT, assertion: await assertion(em, claims, pem) });
  expect(r.status).toBe(400);
  return r.json<{ error: string; error_description: string }>();
}

describe('JWT bearer flow', () => {
  it('answers with exactly the JWT-flow keys and a 00D...! token', async () => {
    const r = await tokenRequest(em, { grant_type: JWT, assertion: await assertion(em) });
    expect(r.status).toBe(200);
    const body = r.json<Record<string, string>>();
    expect(Object.keys(body)).toEqual(['access_token', 'scope', 'instance_url', 'id', 'token_type']);
    expect(body.access_token).toMatch(/^00D\w{12}!\S+$/);
    expect(body.instance_url).toBe(em.url);
    expect(body.id).toBe(`${em.loginUrl}/id/${em.orgId}/${em.userId}`);
    expect(body.token_type).toBe('Bearer');
  });

  it('accepts https://login.salesforce.com as the audience', async () => {
    const r = await tokenRequest(em, {
      grant_type: JWT,
      assertion: await assertion(em, { aud: 'https://login.salesforce.com' }),
    });
    expect(r.status).toBe(200);
  });

  it('refuses an unknown issuer, user, audience, a past exp, a foreign key and garbage', async () => {
    expect(await jwtError({ iss: 'nope' })).toEqual({
      error: 'invalid_client_id',
      error_description: 'client identifier invalid',
    });
    expect(await jwtError({ sub: 'who@nowhere.invalid' })).toEqual({
      error: 'invalid_grant',
      error_description: "user hasn't approved this consumer",
    });
    expect(await jwtError({ aud: 'https://example.com' })).toEqual({
      error: 'invalid_grant',
      error_description: 'audience is invalid',
    });
    expect(await jwtError({ exp: Math.floor(Date.now() / 1000) - 60 })).toEqual({
      error: 'invalid_grant',
      error_description: 'expired authorization code',
    });
    const other = await exportPKCS8((await generateKeyPair('RS256', { extractable: true })).privateKey);
    expect(await jwtError({}, other)).toEqual({ error: 'invalid_grant', error_description: 'invalid assertion' });
    const garbage = await tokenRequest(em, { grant_type: JWT, assertion: 'not.a.jwt' });
    expect(garbage.json()).toEqual({ error: 'invalid_grant', error_description: 'invalid assertion' });
  });

  it('accepts a far-future exp (not capped)', async () => {
    const r = await tokenRequest(em, {
      grant_type: JWT,
      assertion: await assertion(em, { exp: Math.floor(Date.now() / 1000) + 10 * 365 * 86_400 }),
    });
    expect(r.status).toBe(200);
  });
});

describe('other grants', () => {
  it('client credentials with form fields or a Basic header; a wrong secret is refused', async () => {
    const form = await tokenRequest(em, {
      grant_type: 'client_credentials',
      client_id: em.clientId,
      client_secret: em.clientSecret,
    });
    expect(form.status).toBe(200);
    expect(form.json<Record<string, string>>().issued_at).toMatch(/^\d{13}$/);
    const basic = await tokenRequest(
      em,
      { grant_type: 'client_credentials' },
      { Authorization: `Basic ${Buffer.from(`${em.clientId}:${em.clientSecret}`).toString('base64')}` },
    );
    expect(basic.status).toBe(200);
    const bad = await tokenRequest(em, {
      grant_type: 'client_credentials',
      client_id: em.clientId,
      client_secret: 'wrong',
    });
    expect(bad.status).toBe(400);
    expect(bad.json<{ error: string }>().error).toBe('invalid_client');
  });

  it('refresh tokens issued by the admin API work; unknown ones are refused', async () => {
    const refresh = em.admin.issueRefreshToken();
    const ok = await tokenRequest(em, { grant_type: 'refresh_token', refresh_token: refresh, client_id: em.clientId });
    expect(ok.status).toBe(200);
    expect(ok.json<Record<string, string>>()).not.toHaveProperty('refresh_token');
    const bad = await tokenRequest(em, { grant_type: 'refresh_token', refresh_token: 'nope', client_id: em.clientId });
    expect(bad.json()).toEqual({ error: 'invalid_grant', error_description: 'expired access/refresh token' });
  });

  it('blocks the username-password flow and names unknown grants', async () => {
    const pw = await tokenRequest(em, {
      grant_type: 'password',
      client_id: em.clientId,
      client_secret: em.clientSecret,
      username: em.username,
      password: 'x',
    });
    expect(pw.json()).toEqual({ error: 'invalid_grant', error_description: 'authentication failure' });
    const odd = await tokenRequest(em, { grant_type: 'magic' });
    expect(odd.json()).toEqual({ error: 'unsupported_grant_type', error_description: 'grant type not supported' });
  });
});

describe('sessions, versions and limits', () => {
  it('lists versions without auth and without Sforce-Limit-Info; unknown versions are 404', async () => {
    const r = await send(`${em.url}/services/data/`);
    expect(r.status).toBe(200);
    expect(r.headers.get('sforce-limit-info')).toBeNull();
    const versions = r.json<{ version: string; url: string; label: string }[]>();
    expect(versions.map((v) => v.version)).toContain('62.0');
    expect(versions.find((v) => v.version === '62.0')?.label).toBe("Winter '25");
    const token = await login(em);
    const unknown = await api(em, token, '99.0').get('limits');
    expect(unknown.status).toBe(404);
    expect(unknown.json()).toEqual([{ message: 'The requested resource does not exist', errorCode: 'NOT_FOUND' }]);
  });

  it('refuses missing, expired and revoked tokens with the INVALID_SESSION_ID body', async () => {
    const expected = [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }];
    const none = await send(`${em.url}/services/data/v62.0/limits`);
    expect(none.status).toBe(401);
    expect(none.json()).toEqual(expected);
    const token = await login(em);
    expect((await api(em, token).get('limits')).status).toBe(200);
    em.admin.expireAllSessions();
    const revoked = await api(em, token).get('limits');
    expect(revoked.status).toBe(401);
    expect(revoked.json()).toEqual(expected);
    em.admin.setSessionTimeout(0);
    const shortLived = await login(em);
    em.admin.setSessionTimeout(7_200_000);
    expect((await api(em, shortLived).get('limits')).status).toBe(401);
  });

  it('refuses API calls sent to the login host instead of instance_url', async () => {
    expect(em.loginUrl).not.toBe(em.url);
    const token = await login(em);
    const r = await send(`${em.loginUrl}/services/data/v62.0/limits`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(r.status).toBe(401);
  });

  it('counts every authenticated call in Sforce-Limit-Info and /limits, then refuses over the allocation', async () => {
    const token = await login(em);
    const first = await api(em, token).get('limits');
    const [, used, max] = /api-usage=(\d+)\/(\d+)/.exec(first.headers.get('sforce-limit-info') ?? '') ?? [];
    expect(Number(max)).toBe(1000);
    const second = await api(em, token).get('sobjects');
    expect(second.headers.get('sforce-limit-info')).toBe(`api-usage=${Number(used) + 1}/1000`);
    const limits = (await api(em, token).get('limits')).json<Record<string, { Max: number; Remaining: number }>>();
    expect(limits.DailyApiRequests).toEqual({ Max: 1000, Remaining: 1000 - (Number(used) + 2) });
    expect(limits.DailyBulkV2QueryJobs?.Max).toBe(10_000);
    em.admin.setApiUsage(1000);
    const over = await api(em, token).get('limits');
    expect(over.status).toBe(403);
    expect(over.json()).toEqual([{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }]);
    em.admin.setApiUsage(0);
  });

  it('answers 414 for a URI over 16,384 bytes', async () => {
    const token = await login(em);
    const r = await api(em, token).get(`query?q=${'x'.repeat(17_000)}`);
    expect(r.status).toBe(414);
  });
});
