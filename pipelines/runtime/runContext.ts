// RunContext: what one command's units of work share, built once at the edge and disposed in finally.
import { setMaxListeners } from 'node:events';
import type pg from 'pg';
import { type Config, DEFAULT_ORG } from '../../lib/config.ts';
import { InterruptedError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import { connectSalesforceSession } from './connectSalesforce.ts';
import { openDatabase } from './database.ts';
import { claimSchema } from '../../loaders/orgs.ts';
import { withClient } from '../../loaders/postgres.ts';
import { createProgress } from './progress.ts';
import type { SalesforceHttp } from '../../extractors/client/salesforceHttp.ts';
import type { TokenProvider } from '../../extractors/client/tokenProvider.ts';
import type { ProgressReporter } from './progress.ts';
import type { Slots } from './workSlots.ts';

export interface RunContext {
  config: Config;
  log: Logger;
  pool: pg.Pool;
  sf: SalesforceHttp;
  signal: AbortSignal;
  /**
   * The caller's work slot, given up while only waiting for Salesforce (pipelines/runtime/workSlots.ts);
   * absent = no sharing.
   */
  slots?: Slots;
  /** Live progress of long work (a terminal block, else periodic log lines); absent = none. */
  progress?: ProgressReporter;
  /** The session `sf` uses, for clients of other Salesforce APIs (the Pub/Sub API); absent in hand-built contexts. */
  tokens?: TokenProvider;
}

export async function withRunContext<T>(config: Config, log: Logger, fn: (ctx: RunContext) => Promise<T>): Promise<T> {
  // SIGINT/SIGTERM abort the work in flight: open transactions roll back, watermarks stay where they were.
  const controller = new AbortController();
  // Every concurrent request and COPY listens on this one signal.
  setMaxListeners(0, controller.signal);
  const stop = (sig: NodeJS.Signals) => {
    log.warn({ signal: sig }, 'interrupted: rolling back the work in flight');
    controller.abort(new InterruptedError(`interrupted by ${sig}`));
  };
  process.once('SIGINT', stop).once('SIGTERM', stop);
  try {
    // Login and the database (migrations) at once; a refused login is still the error reported.
    const [login, database] = await Promise.allSettled([
      connectSalesforceSession(config, log, controller.signal),
      openDatabase(config, log),
    ]);
    if (login.status === 'rejected' || database.status === 'rejected') {
      if (database.status === 'fulfilled') await database.value.close();
      throw login.status === 'rejected' ? login.reason : (database as PromiseRejectedResult).reason;
    }
    const { sf, tokens } = login.value;
    const db = database.value;
    log.debug('logged in; database ready');
    // docs/salesforce.md#org-identity: nothing is written to a schema that holds another org's records.
    const claim = {
      org: config.org ?? DEFAULT_ORG,
      schema: config.schema,
      salesforceOrgId: (await tokens.get()).orgId,
    };
    await withClient(db.pool, (c) => claimSchema(c, claim)).catch(async (err: unknown) => {
      await db.close();
      throw err;
    });
    const progress = createProgress({ log, stream: process.stderr });
    try {
      return await fn({ config, log, pool: db.pool, sf, signal: controller.signal, progress, tokens });
    } finally {
      progress.stop();
      await db.close();
    }
  } finally {
    process.off('SIGINT', stop).off('SIGTERM', stop);
  }
}
