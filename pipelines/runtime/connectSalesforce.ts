// connectSalesforce: log in once (so a wrong key or user fails before any object is read) and return the API client.
import type { Config } from '../../lib/config.ts';
import { ConfigError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import { createSalesforceHttp, type SalesforceHttp } from '../../extractors/client/salesforceHttp.ts';
import { createTokenProvider, type TokenProvider } from '../../extractors/client/tokenProvider.ts';

export async function connectSalesforce(config: Config, log: Logger, signal: AbortSignal): Promise<SalesforceHttp> {
  return (await connectSalesforceSession(config, log, signal)).sf;
}

/** The API client and its session provider, which `sfsync stream` shares with its Pub/Sub API client. */
export async function connectSalesforceSession(
  config: Config,
  log: Logger,
  signal: AbortSignal,
): Promise<{ sf: SalesforceHttp; tokens: TokenProvider }> {
  if (!config.salesforce) throw new ConfigError('Salesforce settings are missing (SF_CLIENT_ID, SF_USERNAME, ...)');
  const { loginUrl, apiVersion, auth } = config.salesforce;
  const tokens = createTokenProvider({ loginUrl, auth, log });
  await tokens.get();
  const sf = createSalesforceHttp({
    tokens,
    apiVersion,
    log,
    signal,
    timeouts: { responseMs: config.httpTimeoutMs, idleMs: config.idleTimeoutMs },
  });
  return { sf, tokens };
}
