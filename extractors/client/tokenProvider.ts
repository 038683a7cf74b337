// The cached session and its single-flight re-mint (one token call for all workers, no thundering herd).
import type { AuthConfig } from '../../lib/config.ts';
import type { Logger } from '../../lib/log.ts';
import { type Session, fetchToken } from './auth.ts';

export interface TokenProvider {
  /** The cached session, minting one on first use. */
  get(): Promise<Session>;
  /**
   * A caller got 401 INVALID_SESSION_ID with `staleToken`. Every caller that saw the same stale token shares one
   * re-mint; a caller whose token was already replaced gets the new session at once.
   */
  refresh(staleToken: string): Promise<Session>;
  /** How many tokens were minted (each is one token-endpoint call chain). */
  readonly mints: number;
}

export interface TokenProviderOptions {
  loginUrl: string;
  auth: AuthConfig;
  log: Logger;
  /** Injectable for tests; defaults to the real token endpoint. */
  mint?: () => Promise<Session>;
}

export function createTokenProvider(opts: TokenProviderOptions): TokenProvider {
  const mint = opts.mint ?? (() => fetchToken({ loginUrl: opts.loginUrl, auth: opts.auth, log: opts.log }));
  let current: Session | undefined;
  let inflight: Promise<Session> | undefined;
  let mints = 0;

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
      opts.log.info('Salesforce session expired; minting a new token');
      return start();
    },
    get mints() {
      return mints;
    },
  };
}
