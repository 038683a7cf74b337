// RunContext: what one command's units of work share, built once at the edge and disposed in finally.
import type pg from 'pg';
import type { Config } from '../lib/config.ts';
import type { Logger } from '../lib/log.ts';
import type { SalesforceHttp } from '../extractors/salesforceHttp.ts';

export interface RunContext {
  config: Config;
  log: Logger;
  pool: pg.Pool;
  sf: SalesforceHttp;
  signal: AbortSignal;
}
