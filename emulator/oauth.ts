// docs/salesforce.md#oauth-token-endpoint: the token endpoint (JWT bearer, client credentials, refresh token, blocked
// username-password) and the sessions it hands out. Access tokens are opaque `00D...!...` strings that expire after the
// session timeout (docs/salesforce.md#oauth-session-expiry).
import { createHmac, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { type CryptoKey, compactVerify, decodeJwt, decodeProtectedHeader, importX509 } from 'jose';

export interface OrgUser {
  username: string;
  id: string;
}

export interface Session {
  token: string;
  user: OrgUser;
  expiresAt: number;
  /** Set on tokens minted while a revocation is pending: how many more calls the token may authenticate. */
  callsLeft?: number;
}

export interface OAuthConfig {
  orgId: string;
  clientId: string;
  clientSecret: string;
  publicKey: CryptoKey;
  users: OrgUser[];
  /** Origins accepted as JWT `aud` (docs/salesforce.md#oauth-jwt-bearer-flow). */
  audiences: string[];
  instanceUrl: string;
  /** Host of the identity URL `id` (the login host, docs/salesforce.md#oauth-jwt-bearer-flow). */
  loginUrl: string;
  sessionTimeoutMs: number;
  /**
   * docs/salesforce.md#oauth-username-password-flow: blocked by default (new orgs); when set, this password (plus the
   * client secret) is accepted.
   */
  password?: string;
  clock: () => number;
}

/**
 * A token-endpoint refusal: HTTP 400 `{error, error_description}` (refusals listed in
 * docs/salesforce.md#oauth-jwt-bearer-flow).
 */
export class OAuthError extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
  ) {
    super(description);
  }
}

export interface OAuthServer {
  /** Handles a form-encoded token request; resolves with the success body or throws OAuthError. */
  token(form: URLSearchParams, req: IncomingMessage): Promise<Record<string, string>>;
  /** The live session named by `Authorization: Bearer <token>` (or `OAuth <token>`), else undefined. */
  authenticate(req: IncomingMessage): Session | undefined;
  /**
   * The live session of a bare access token (the Pub/Sub API's `accesstoken` metadata, docs/salesforce.md#pubsub-api).
   * `count` false re-checks an open stream without spending a call of a pending revocation.
   */
  authenticateToken(token: string, count?: boolean): Session | undefined;
  issueRefreshToken(username?: string): string;
  expireAllSessions(): void;
  /**
   * Revokes each of the next `count` access tokens minted once it has authenticated `afterCalls` calls (0: its very
   * first call gets 401 INVALID_SESSION_ID), as an admin revoking sessions again and again would
   * (docs/salesforce.md#oauth-session-expiry). Adds to any revocations still pending.
   */
  revokeNextSessions(count: number, afterCalls?: number): void;
  setSessionTimeout(ms: number): void;
  /**
   * "Use digital signatures": the app verifies JWTs with the public key of this uploaded X.509 certificate (PEM)
   * from now on (docs/salesforce.md#oauth-jwt-bearer-flow).
   */
  uploadCertificate(pem: string): Promise<void>;
  /**
   * Takes the app's pre-authorisation from `username` (approved false) or gives it back: the JWT bearer flow then
   * refuses the user with "user hasn't approved this consumer" (docs/salesforce.md#oauth-jwt-bearer-flow).
   */
  setApproval(username: string, approved: boolean): void;
  /** Sets the URLs known only once the server listens. */
  configure(urls: { instanceUrl: string; loginUrl: string; audiences: string[] }): void;
  readonly sessionCount: number;
  /** Test-only: every access token handed out (the last 1,000), so secret-leak tests can grep for them. */
  issuedTokens(): string[];
}

const JWT_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

export function createOAuthServer(cfg: OAuthConfig): OAuthServer {
  const sessions = new Map<string, Session>();
  const issued: string[] = [];
  const refreshTokens = new Map<string, OrgUser>();
  /** afterCalls of each revocation still to be attached to a minted token, oldest first. */
  const pendingRevocations: number[] = [];
  /** Usernames (lower case) whose pre-authorisation was taken away. */
  const unapproved = new Set<string>();
  const orgId15 = cfg.orgId.slice(0, 15);
  const findUser = (username: string) => cfg.users.find((u) => u.username.toLowerCase() === username.toLowerCase());

  const mint = (user: OrgUser, extra: Record<string, string> = {}, withSignature = false): Record<string, string> => {
    const token = `${orgId15}!${randomBytes(72).toString('base64url')}`;
    const session: Session = { token, user, expiresAt: cfg.clock() + cfg.sessionTimeoutMs };
    const revokeAfter = pendingRevocations.shift();
    if (revokeAfter !== undefined) session.callsLeft = revokeAfter;
    sessions.set(token, session);
    issued.push(token);
    if (issued.length > 1_000) issued.shift();
    const id = `${cfg.loginUrl}/id/${cfg.orgId}/${user.id}`;
    const body: Record<string, string> = {
      access_token: token,
      ...extra,
      scope: 'api',
      instance_url: cfg.instanceUrl,
      id,
      token_type: 'Bearer',
    };
    if (withSignature) {
      // docs/salesforce.md#oauth-client-credentials-flow, #oauth-refresh-token-flow: issued_at is epoch millis as a
      // string; signature is an HMAC of id + issued_at.
      const issuedAt = String(cfg.clock());
      body.issued_at = issuedAt;
      body.signature = createHmac('sha256', cfg.clientSecret)
        .update(id + issuedAt)
        .digest('base64');
    }
    return body;
  };

  const jwtBearer = async (assertion: string | null) => {
    if (!assertion) throw new OAuthError('invalid_request', 'assertion is missing');
    let claims: ReturnType<typeof decodeJwt>;
    try {
      if (decodeProtectedHeader(assertion).alg !== 'RS256') throw new Error('alg');
      claims = decodeJwt(assertion);
    } catch {
      throw new OAuthError('invalid_grant', 'invalid assertion');
    }
    if (claims.iss !== cfg.clientId) throw new OAuthError('invalid_client_id', 'client identifier invalid');
    try {
      await compactVerify(assertion, cfg.publicKey, { algorithms: ['RS256'] });
    } catch {
      throw new OAuthError('invalid_grant', 'invalid assertion');
    }
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!aud.some((a) => typeof a === 'string' && cfg.audiences.includes(a.replace(/\/$/, '')))) {
      throw new OAuthError('invalid_grant', 'audience is invalid');
    }
    const user = typeof claims.sub === 'string' ? findUser(claims.sub) : undefined;
    // docs/salesforce.md#oauth-jwt-bearer-flow: an unknown user and one not pre-authorised get the same refusal.
    if (!user || unapproved.has(user.username.toLowerCase()))
      throw new OAuthError('invalid_grant', "user hasn't approved this consumer");
    // docs/salesforce.md#oauth-jwt-bearer-flow: a past exp is refused; a far-future exp is not capped.
    if (typeof claims.exp !== 'number') throw new OAuthError('invalid_grant', 'invalid assertion');
    if (claims.exp * 1000 < cfg.clock()) throw new OAuthError('invalid_grant', 'expired authorization code');
    return mint(user);
  };

  const clientCredentials = (form: URLSearchParams, req: IncomingMessage) => {
    let id = form.get('client_id');
    let secret = form.get('client_secret');
    const basic = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? '');
    if (basic?.[1]) {
      const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
      const at = decoded.indexOf(':');
      id = decodeURIComponent(decoded.slice(0, at));
      secret = decodeURIComponent(decoded.slice(at + 1));
    }
    if (id !== cfg.clientId) throw new OAuthError('invalid_client_id', 'client identifier invalid');
    if (secret !== cfg.clientSecret) throw new OAuthError('invalid_client', 'invalid client credentials');
    const runAs = cfg.users[0];
    if (!runAs) throw new OAuthError('invalid_grant', 'no run-as user');
    return mint(runAs, {}, true);
  };

  const refresh = (form: URLSearchParams) => {
    if (form.get('client_id') !== cfg.clientId) throw new OAuthError('invalid_client_id', 'client identifier invalid');
    const secret = form.get('client_secret');
    if (secret !== null && secret !== cfg.clientSecret)
      throw new OAuthError('invalid_client', 'invalid client credentials');
    const user = refreshTokens.get(form.get('refresh_token') ?? '');
    if (!user) throw new OAuthError('invalid_grant', 'expired access/refresh token');
    return mint(user, {}, true);
  };

  const password = (form: URLSearchParams) => {
    const user = findUser(form.get('username') ?? '');
    const ok =
      cfg.password !== undefined &&
      user !== undefined &&
      form.get('client_id') === cfg.clientId &&
      form.get('client_secret') === cfg.clientSecret &&
      form.get('password') === cfg.password;
    // docs/salesforce.md#oauth-username-password-flow: a blocked flow and a wrong password look the same.
    if (!ok || !user) throw new OAuthError('invalid_grant', 'authentication failure');
    return mint(user, {}, true);
  };

  const authenticateToken = (token: string, count = true): Session | undefined => {
    const s = sessions.get(token);
    if (!s) return undefined;
    if (s.expiresAt <= cfg.clock() || s.callsLeft === 0) {
      sessions.delete(s.token);
      return undefined;
    }
    if (count && s.callsLeft !== undefined) s.callsLeft--;
    return s;
  };
  return {
    async token(form, req) {
      const grant = form.get('grant_type');
      if (!grant) throw new OAuthError('invalid_request', 'grant type is missing');
      if (grant === JWT_GRANT) return jwtBearer(form.get('assertion'));
      if (grant === 'client_credentials') return clientCredentials(form, req);
      if (grant === 'refresh_token') return refresh(form);
      if (grant === 'password') return password(form);
      throw new OAuthError('unsupported_grant_type', 'grant type not supported');
    },
    authenticate(req) {
      const m = /^(?:Bearer|OAuth)\s+(\S+)$/i.exec(req.headers.authorization ?? '');
      return m?.[1] ? authenticateToken(m[1]) : undefined;
    },
    authenticateToken,
    issueRefreshToken(username) {
      const user = username ? findUser(username) : cfg.users[0];
      if (!user) throw new Error(`Unknown user '${username}'`);
      const token = `5Aep861${randomBytes(48).toString('base64url')}`;
      refreshTokens.set(token, user);
      return token;
    },
    expireAllSessions() {
      sessions.clear();
    },
    revokeNextSessions(count, afterCalls = 0) {
      for (let i = 0; i < count; i++) pendingRevocations.push(Math.max(0, Math.floor(afterCalls)));
    },
    setSessionTimeout(ms) {
      cfg.sessionTimeoutMs = ms;
    },
    async uploadCertificate(pem) {
      cfg.publicKey = await importX509(pem, 'RS256');
    },
    setApproval(username, approved) {
      if (approved) unapproved.delete(username.toLowerCase());
      else unapproved.add(username.toLowerCase());
    },
    configure(urls) {
      Object.assign(cfg, urls);
    },
    get sessionCount() {
      return sessions.size;
    },
    issuedTokens: () => [...issued],
  };
}
