// A worker's orgs: one Salesforce session per org, logged in on the org's first job and shared by its later jobs
// (each job gets a client of its own, stopped by its own signal), and the schema claimed once (loaders/orgs.ts).
import type pg from 'pg';
import type { Config } from '../../lib/config.ts';
import { ConfigError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import { createSalesforceHttp } from '../../extractors/client/salesforceHttp.ts';
import { createTokenProvider, type TokenProvider } from '../../extractors/client/tokenProvider.ts';
import { claimSchema } from '../../loaders/orgs.ts';
import { withClient } from '../../loaders/postgres.ts';
import type { RunContext } from '../runtime/runContext.ts';
import type { JobData } from './jobs.ts';

export interface OrgSessions {
  /** The job's context: its org's settings (objects: the job's object, if any), a client of its own, `signal`. */
  contextFor(job: JobData, signal: AbortSignal, log: Logger): Promise<RunContext>;
}

export function createOrgSessions(configs: readonly Config[], pool: pg.Pool, log: Logger): OrgSessions {
  const sessions = new Map<string, Promise<TokenProvider>>();
  const login = async (config: Config): Promise<TokenProvider> => {
    if (!config.salesforce) throw new ConfigError(`org ${config.org}: Salesforce settings are missing`);
    const tokens = createTokenProvider({ loginUrl: config.salesforce.loginUrl, auth: config.salesforce.auth, log });
    const { orgId } = await tokens.get();
    // docs/salesforce.md#org-identity: nothing is written to a schema that holds another org's records.
    await withClient(pool, (c) =>
      claimSchema(c, { org: config.org ?? 'default', schema: config.schema, salesforceOrgId: orgId }),
    );
    return tokens;
  };
  const sessionOf = (config: Config): Promise<TokenProvider> => {
    const key = config.org ?? 'default';
    let session = sessions.get(key);
    if (!session) {
      session = login(config);
      sessions.set(key, session);
      // A refused login is tried again by the org's next job, not remembered.
      session.catch(() => sessions.delete(key));
    }
    return session;
  };
  return {
    async contextFor(job, signal, jobLog) {
      const base = configs.find((c) => (c.org ?? 'default') === job.org);
      if (!base)
        throw new ConfigError(
          `org ${job.org} is not in this worker's config (orgs: ${configs.map((c) => c.org).join(', ')}): ` +
            'every worker needs the same config file as the scheduler',
        );
      if (base.schema !== job.schema)
        throw new ConfigError(
          `org ${job.org}: the job was queued for schema ${job.schema}, this worker's config says ${base.schema}`,
        );
      const config: Config = { ...base, objects: job.object ? [job.object] : base.objects };
      const tokens = await sessionOf(base);
      const sf = createSalesforceHttp({
        tokens,
        apiVersion: base.salesforce!.apiVersion,
        log: jobLog,
        signal,
        timeouts: { responseMs: base.httpTimeoutMs, idleMs: base.idleTimeoutMs },
      });
      return { config, log: jobLog, pool, sf, signal, tokens };
    },
  };
}
