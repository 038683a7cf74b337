import { generateKeyPairSync } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, importSPKI, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { AuthError, ConfigError } from '../../lib/errors.ts';
import { silentLogger } from '../../lib/log.ts';
import { isSandboxHost, loginOrigin, normalisePrivateKey, signAssertion } from '../../extractors/client/auth.ts';
import type { Session } from '../../extractors/client/auth.ts';
import { createTokenProvider } from '../../extractors/client/tokenProvider.ts';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pkcs8 = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const pkcs1 = rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
const spki = rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string;

describe('JWT assertion', () => {
  it('signs RS256 with iss = client id, sub = username, aud = login origin, exp = now + 180 s', async () => {
    const now = 1_700_000_000;
    const jwt = await signAssertion(normalisePrivateKey(pkcs8), {
      clientId: '3MVG9abc',
      username: 'etl@acme.com',
      audience: 'https://acme.my.salesforce.com',
      now,
    });
    expect(decodeProtectedHeader(jwt).alg).toBe('RS256');
    expect(decodeJwt(jwt)).toEqual({
      iss: '3MVG9abc',
      sub: 'etl@acme.com',
      aud: 'https://acme.my.salesforce.com',
      exp: now + 180,
    });
    const verified = await jwtVerify(jwt, await importSPKI(spki, 'RS256'), { currentDate: new Date(now * 1000) });
    expect(verified.payload.sub).toBe('etl@acme.com');
  });

  it('accepts a PKCS#1 ("BEGIN RSA PRIVATE KEY") key the same way', async () => {
    expect(pkcs1).toContain('BEGIN RSA PRIVATE KEY');
    const jwt = await signAssertion(normalisePrivateKey(pkcs1), {
      clientId: 'c',
      username: 'u',
      audience: 'https://login.salesforce.com',
      now: 1,
    });
    await expect(jwtVerify(jwt, await importSPKI(spki, 'RS256'), { currentDate: new Date(0) })).resolves.toBeDefined();
  });
});

describe('private key normalisation errors never contain the key', () => {
  const cases: [string, string, RegExp][] = [
    [
      'encrypted PKCS#8',
      rsa.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }) as string,
      /encrypted/,
    ],
    [
      'encrypted PKCS#1',
      rsa.privateKey.export({ type: 'pkcs1', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }) as string,
      /encrypted/,
    ],
    [
      'EC key',
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      /is ec, but .* needs an RSA key/,
    ],
    [
      'garbage',
      '-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n',
      /not a readable PEM private key/,
    ],
    ['a public key', spki, /not a readable PEM private key|needs an RSA key/],
    ['empty', '  ', /empty/],
  ];
  it.each(cases)('%s', (_name, pem, message) => {
    let caught: unknown;
    try {
      normalisePrivateKey(pem);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AuthError);
    const err = caught as AuthError;
    expect(err.code).toBe('PRIVATE_KEY');
    expect(err.message).toMatch(message);
    const body = pem.split('\n').filter((l) => l && !l.startsWith('-----'));
    for (const line of body) expect(err.message).not.toContain(line.slice(0, 20));
  });
});

describe('login URL', () => {
  it('returns the origin without a trailing slash', () => {
    expect(loginOrigin('https://acme.my.salesforce.com/')).toBe('https://acme.my.salesforce.com');
    expect(loginOrigin('http://127.0.0.1:8443/x')).toBe('http://127.0.0.1:8443');
    expect(loginOrigin('http://localhost:1')).toBe('http://localhost:1');
    expect(loginOrigin('http://[::1]:1')).toBe('http://[::1]:1');
  });

  it('refuses http except on loopback', () => {
    expect(() => loginOrigin('http://login.salesforce.com')).toThrow(ConfigError);
    expect(() => loginOrigin('ftp://127.0.0.1')).toThrow(ConfigError);
    expect(() => loginOrigin('not a url')).toThrow(ConfigError);
  });

  it('knows sandbox hosts', () => {
    expect(isSandboxHost('https://test.salesforce.com')).toBe(true);
    expect(isSandboxHost('https://acme--uat.sandbox.my.salesforce.com')).toBe(true);
    expect(isSandboxHost('https://acme.my.salesforce.com')).toBe(false);
  });
});

describe('token provider', () => {
  function provider() {
    let n = 0;
    let release: () => void = () => {};
    const gate = () => new Promise<void>((r) => (release = r));
    let gated = false;
    const tokens = createTokenProvider({
      loginUrl: 'https://login.salesforce.com',
      auth: { flow: 'client_credentials', clientId: 'c', clientSecret: 's' },
      log: silentLogger(),
      mint: async (): Promise<Session> => {
        n++;
        if (gated) await gate();
        return { accessToken: `token-${n}`, instanceUrl: 'https://x' };
      },
    });
    return { tokens, gate: () => (gated = true), release: () => release() };
  }

  it('caches the session', async () => {
    const { tokens } = provider();
    expect((await tokens.get()).accessToken).toBe('token-1');
    expect((await tokens.get()).accessToken).toBe('token-1');
    expect(tokens.mints).toBe(1);
  });

  it('shares one re-mint among concurrent callers holding the same stale token', async () => {
    const { tokens, gate, release } = provider();
    await tokens.get();
    gate();
    const all = Promise.all(Array.from({ length: 10 }, () => tokens.refresh('token-1')));
    release();
    const sessions = await all;
    expect(new Set(sessions.map((s) => s?.accessToken))).toEqual(new Set(['token-2']));
    expect(tokens.mints).toBe(2);
  });

  it('does not re-mint for a caller whose stale token was already replaced', async () => {
    const { tokens } = provider();
    await tokens.get();
    await tokens.refresh('token-1');
    expect((await tokens.refresh('token-1'))?.accessToken).toBe('token-2');
    expect(tokens.mints).toBe(2);
  });

  it('re-logs in again for a session revoked again, at most three times a minute, then answers null', async () => {
    let t = 0;
    let n = 0;
    const tokens = createTokenProvider({
      loginUrl: 'https://login.salesforce.com',
      auth: { flow: 'client_credentials', clientId: 'c', clientSecret: 's' },
      log: silentLogger(),
      now: () => t,
      mint: async (): Promise<Session> => ({ accessToken: `token-${++n}`, instanceUrl: 'https://x' }),
    });
    await tokens.get();
    // Each new token is revoked in turn: every refresh names the newest one as stale.
    expect((await tokens.refresh('token-1'))?.accessToken).toBe('token-2');
    t = 30_000;
    expect((await tokens.refresh('token-2'))?.accessToken).toBe('token-3');
    expect((await tokens.refresh('token-3'))?.accessToken).toBe('token-4');
    expect(await tokens.refresh('token-4')).toBeNull();
    expect(tokens.mints).toBe(4);
    // A caller still holding an older token gets the current one: no login needed, none refused.
    expect((await tokens.refresh('token-2'))?.accessToken).toBe('token-4');
    // A minute after the first re-login, one more is allowed.
    t = 60_000;
    expect((await tokens.refresh('token-4'))?.accessToken).toBe('token-5');
    expect(await tokens.refresh('token-5')).toBeNull();
  });
});
