// RunContext: what one command's units of work share, built once at the edge and disposed in finally.
import type pg from 'pg';
import type { Config } from '../../lib/config.ts';
import type { Logger } from '../../lib/log.ts';
import type { SalesforceHttp } from '../../extractors/client/salesforceHttp.ts';
import type { ProgressReporter } from './progress.ts';
import type { Slots } from './workSlots.ts';

export interface RunContext {
  config: Config;
  log: Logger;
  pool: pg.Pool;
  sf: SalesforceHttp;
  signal: AbortSignal;
  /** The caller's work slot, given up while only waiting for Salesforce (pipelines/runtime/workSlots.ts); absent = no sharing. */
  slots?: Slots;
  /** Live progress of long work (a terminal block, else periodic log lines); absent = none. */
  progress?: ProgressReporter;
}
