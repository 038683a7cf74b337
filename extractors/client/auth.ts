// OAuth 2.0 token endpoint (docs/salesforce.md#oauth-token-endpoint): JWT bearer (default), client credentials, refresh
// token, password. Nothing here logs or throws key material, secrets or tokens.
import { type KeyObject, createPrivateKey } from 'node:crypto';
import axios from 'axios';
import { SignJWT } from 'jose';
import type { AuthConfig } from '../../lib/config.ts';
import { AuthError, ConfigError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import { httpsUnlessLoopback } from '../../lib/loopback.ts';
import { backoffDelay, withRetry } from '../../lib/retry.ts';
import { classifyResponse, isTransient, parseErrorBody } from './retry.ts';

export interface Session {
  accessToken: string;
  /** docs/salesforce.md#login-hosts-and-instance-url: every API call goes here, never to the login host. */
  instanceUrl: string;
  /** docs/salesforce.md#oauth-jwt-bearer-flow: epoch ms; absent from JWT responses. */
  issuedAt?: number;
  /** The token endpoint's HTTP Date: the server clock, to detect skew. */
  serverDate?: Date;
  /**
   * The org id, from the identity URL in the token response's `id` (`.../id/<orgId>/<userId>`): the Pub/Sub API's
   * `tenantid` (docs/salesforce.md#pubsub-api).
   */
  orgId?: string;
}

export interface TokenRequest {
  loginUrl: string;
  auth: AuthConfig;
  log: Logger;
  /** Seconds since epoch; injectable for tests. */
  now?: () => number;
  timeoutMs?: number;
}

const PRODUCTION_AUDIENCE = 'https://login.salesforce.com';
const SANDBOX_AUDIENCE = 'https://test.salesforce.com';
/** docs/salesforce.md#oauth-jwt-bearer-flow: "expiry of the assertion within 3 minutes". */
const ASSERTION_LIFETIME_S = 180;

/** The login URL must be https except on loopback; returns its origin (no trailing slash). */
export function loginOrigin(loginUrl: string): string {
  let url: URL;
  try {
    url = new URL(loginUrl);
  } catch {
    throw new ConfigError(`SF_LOGIN_URL is not a URL: '${loginUrl}'`);
  }
  const insecure = httpsUnlessLoopback(url, 'SF_LOGIN_URL');
  if (insecure) throw new ConfigError(insecure);
  return url.origin;
}

/** docs/salesforce.md#login-hosts-and-instance-url: sfdx-core's rule for what counts as a sandbox login host. */
export function isSandboxHost(origin: string): boolean {
  const host = new URL(origin).hostname;
  return host === 'test.salesforce.com' || host.endsWith('.sandbox.my.salesforce.com');
}

/** PKCS#8 or PKCS#1 PEM -> an RSA KeyObject. Errors name the problem, never the key. */
export function normalisePrivateKey(pem: string): KeyObject {
  if (pem.trim() === '')
    throw new AuthError(
      'PRIVATE_KEY',
      'The private key is empty: set SF_PRIVATE_KEY_PATH to the PEM file of the Connected App certificate key',
    );
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(pem))
    throw new AuthError(
      'PRIVATE_KEY',
      'The private key is encrypted (passphrase-protected); ' +
        'sfsync needs an unencrypted PEM key (openssl rsa -in key.pem -out key-plain.pem)',
    );
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MISSING_PASSPHRASE')
      throw new AuthError(
        'PRIVATE_KEY',
        'The private key is encrypted (passphrase-protected); sfsync needs an unencrypted PEM key',
      );
    throw new AuthError('PRIVATE_KEY', `The private key is not a readable PEM private key (${code ?? 'unparseable'})`);
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new AuthError(
      'PRIVATE_KEY',
      `The private key is ${key.asymmetricKeyType ?? 'not asymmetric'}, ` +
        'but Salesforce JWT bearer needs an RSA key (RS256)',
    );
  }
  return key;
}

export interface AssertionClaims {
  clientId: string;
  username: string;
  audience: string;
  /** Seconds since epoch. */
  now: number;
}

/** docs/salesforce.md#oauth-jwt-bearer-flow: RS256 over {iss, sub, aud, exp}. */
export function signAssertion(key: KeyObject, c: AssertionClaims): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'RS256' })
    .setIssuer(c.clientId)
    .setSubject(c.username)
    .setAudience(c.audience)
    .setExpirationTime(c.now + ASSERTION_LIFETIME_S)
    .sign(key);
}

export interface TokenReply {
  status: number;
  body: string;
  contentType?: string;
  date?: string;
}

/** One POST to the token endpoint, its answer as it came (status, body), never thrown for an HTTP status. */
export async function postToken(origin: string, form: Record<string, string>, timeoutMs: number): Promise<TokenReply> {
  const res = await axios.post<string>(`${origin}/services/oauth2/token`, new URLSearchParams(form).toString(), {
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
    responseType: 'text',
    transformResponse: [(d: string) => d],
    validateStatus: () => true,
    maxRedirects: 0,
    timeout: timeoutMs,
  });
  return {
    status: res.status,
    body: res.data,
    contentType: header(res.headers['content-type']),
    date: header(res.headers.date),
  };
}

function header(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** A token-endpoint failure; 5xx/429 and dropped connections are transient (minting a token twice is harmless). */
class TokenEndpointError extends AuthError {}

function refusal(reply: TokenReply): AuthError {
  const { errorCode, message } = parseErrorBody(reply.status, reply.body, reply.contentType);
  return new TokenEndpointError(errorCode, `Salesforce login refused: ${errorCode} (${message})`, {
    retryable: classifyResponse(reply.status, errorCode, 'login') === 'retry',
  });
}

function sessionOf(reply: TokenReply): Session {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(reply.body) as Record<string, unknown>;
  } catch {
    throw new AuthError('TOKEN_RESPONSE', `The token endpoint answered ${reply.status} with a body that is not JSON`);
  }
  const { access_token: accessToken, instance_url: instanceUrl, issued_at: issuedAt } = json;
  if (typeof accessToken !== 'string' || typeof instanceUrl !== 'string') {
    throw new AuthError('TOKEN_RESPONSE', 'The token endpoint answer lacks access_token or instance_url');
  }
  const session: Session = { accessToken, instanceUrl: instanceUrl.replace(/\/+$/, '') };
  if (typeof issuedAt === 'string' && /^\d+$/.test(issuedAt)) session.issuedAt = Number(issuedAt);
  if (reply.date) session.serverDate = new Date(reply.date);
  const org = typeof json.id === 'string' ? /\/id\/(00D[A-Za-z0-9]{12,15})\//.exec(json.id)?.[1] : undefined;
  if (org) session.orgId = org;
  return session;
}

async function requestToken(origin: string, form: Record<string, string>, req: TokenRequest): Promise<Session> {
  const reply = await withRetry(
    async () => {
      const r = await postToken(origin, form, req.timeoutMs ?? 60_000);
      if (r.status !== 200) throw refusal(r);
      return r;
    },
    {
      attempts: 4,
      isRetryable: (e) => (e instanceof TokenEndpointError ? e.retryable : isTransient(e)),
      delayMs: (n) => backoffDelay(n),
      maxTotalMs: 60_000,
    },
  );
  return sessionOf(reply);
}

async function jwtToken(
  origin: string,
  auth: Extract<AuthConfig, { flow: 'jwt' }>,
  req: TokenRequest,
): Promise<Session> {
  const key = normalisePrivateKey(auth.privateKeyPem);
  const now = req.now ?? (() => Math.floor(Date.now() / 1000));
  const attempt = async (audience: string) => {
    const assertion = await signAssertion(key, {
      clientId: auth.clientId,
      username: auth.username,
      audience,
      now: now(),
    });
    return requestToken(origin, { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }, req);
  };
  try {
    return await attempt(origin);
  } catch (err) {
    // docs/salesforce.md#oauth-jwt-bearer-flow: aud for My Domain logins is disputed; on "audience is invalid" retry
    // once with the documented default.
    const fallback = isSandboxHost(origin) ? SANDBOX_AUDIENCE : PRODUCTION_AUDIENCE;
    if (!(err instanceof AuthError) || !/audience is invalid/i.test(err.message) || fallback === origin) throw err;
    req.log.info({ audience: fallback }, 'JWT audience refused; retrying with the documented login audience');
    return attempt(fallback);
  }
}

/**
 * Mints a session with the configured flow (docs/salesforce.md#oauth-jwt-bearer-flow, #oauth-client-credentials-flow,
 * #oauth-refresh-token-flow, #oauth-username-password-flow).
 */
export async function fetchToken(req: TokenRequest): Promise<Session> {
  const origin = loginOrigin(req.loginUrl);
  const auth = req.auth;
  switch (auth.flow) {
    case 'jwt':
      return jwtToken(origin, auth, req);
    case 'client_credentials':
      // docs/salesforce.md#oauth-client-credentials-flow: must be the My Domain host; Salesforce refuses the flow on
      // login/test hosts.
      return requestToken(
        origin,
        { grant_type: 'client_credentials', client_id: auth.clientId, client_secret: auth.clientSecret },
        req,
      );
    case 'refresh_token': {
      const form: Record<string, string> = {
        grant_type: 'refresh_token',
        refresh_token: auth.refreshToken,
        client_id: auth.clientId,
      };
      if (auth.clientSecret) form.client_secret = auth.clientSecret;
      return requestToken(origin, form, req);
    }
    case 'password':
      // docs/salesforce.md#oauth-username-password-flow: blocked by default in new orgs, bypasses MFA/SSO; kept only
      // for legacy setups.
      req.log.warn(
        'the username-password OAuth flow is discouraged by Salesforce; use the JWT bearer flow (SF_AUTH_FLOW=jwt)',
      );
      return requestToken(
        origin,
        {
          grant_type: 'password',
          client_id: auth.clientId,
          client_secret: auth.clientSecret,
          username: auth.username,
          password: auth.password,
        },
        req,
      );
  }
}
