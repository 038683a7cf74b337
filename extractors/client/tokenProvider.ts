// The cached session and its single-flight re-mint (one token call for all workers, no thundering herd), with a
// bound on re-logins so that a session revoked again and again ends in an error, never in a loop.
import type { AuthConfig } from '../../lib/config.ts';
import type { Logger } from '../../lib/log.ts';
import { type Session, fetchToken } from './auth.ts';

export interface TokenProvider {
  /** The cached session, minting one on first use. */
  get(): Promise<Session>;
  /**
   * A caller got 401 INVALID_SESSION_ID with `staleToken`. Every caller that saw the same stale token shares one
   * re-mint; a caller whose token was already replaced gets the new session at once. null: no new login now, since
   * `maxRefreshesPerMinute` re-logins happened within the last minute (the session keeps being revoked).
   */
  refresh(staleToken: string): Promise<Session | null>;
  /** How many tokens were minted (each is one token-endpoint call chain). */
  readonly mints: number;
}

/**
 * docs/salesforce.md#oauth-session-expiry: a session can be revoked again while the call that re-logged in is being
 * replayed (an admin revoking sessions, a policy); a few re-logins a minute cover that, more means something keeps
 * revoking them.
 */
export const MAX_REFRESHES_PER_MINUTE = 3;

export interface TokenProviderOptions {
  loginUrl: string;
  auth: AuthConfig;
  log: Logger;
  /** Injectable for tests; defaults to the real token endpoint. */
  mint?: () => Promise<Session>;
  /** Re-logins allowed within any minute; default MAX_REFRESHES_PER_MINUTE. */
  maxRefreshesPerMinute?: number;
  /** Injectable for tests. */
  now?: () => number;
}

export function createTokenProvider(opts: TokenProviderOptions): TokenProvider {
  const mint = opts.mint ?? (() => fetchToken({ loginUrl: opts.loginUrl, auth: opts.auth, log: opts.log }));
  const maxRefreshes = opts.maxRefreshesPerMinute ?? MAX_REFRESHES_PER_MINUTE;
  const now = opts.now ?? Date.now;
  let current: Session | undefined;
  let inflight: Promise<Session> | undefined;
  let mints = 0;
  /** When each re-login of the last minute started. */
  let refreshes: number[] = [];

  const start = (): Promise<Session> => {
    if (inflight) return inflight;
    mints++;
    inflight = mint()
      .then((s) => {
        current = s;
        return s;
      })
      .finally(() => {
        inflight = undefined;
      });
    return inflight;
  };

  return {
    get: () => (current ? Promise.resolve(current) : start()),
    refresh(staleToken) {
      if (inflight) return inflight;
      if (current && current.accessToken !== staleToken) return Promise.resolve(current);
      const t = now();
      refreshes = refreshes.filter((at) => t - at < 60_000);
      if (refreshes.length >= maxRefreshes) {
        opts.log.warn({ relogins: refreshes.length }, 'Salesforce session revoked again; no further login this minute');
        return Promise.resolve(null);
      }
      refreshes.push(t);
      opts.log.info('Salesforce session expired; minting a new token');
      return start();
    },
    get mints() {
      return mints;
    },
  };
}
