// Which PostgreSQL a command uses: DATABASE_URL, else the embedded one kept under SFSYNC_HOME (./.sfsync/).
import path from 'node:path';
import type pg from 'pg';
import type { Config } from '../../lib/config.ts';
import { DatabaseUnavailableError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import { startEmbeddedPostgres } from '../../loaders/embedded.ts';
import { createPool } from '../../loaders/postgres.ts';
import { IN_FLIGHT_PER_SLOT } from './workSlots.ts';
import { migrate } from '../../migrations/index.ts';

export interface Database {
  pool: pg.Pool;
  url: string;
  embedded: boolean;
  close(): Promise<void>;
}

export async function openDatabase(config: Config, log: Logger): Promise<Database> {
  let url = config.databaseUrl;
  let stopEmbedded: (() => Promise<void>) | undefined;
  if (!url) {
    const embedded = await startEmbeddedPostgres({ dir: path.join(config.home, 'pg'), log });
    log.info({ dataDir: embedded.dataDir }, 'no DATABASE_URL: using the embedded PostgreSQL');
    url = embedded.url;
    stopEmbedded = embedded.stop;
  }
  try {
    await migrate(url);
  } catch (err) {
    await stopEmbedded?.();
    throw new DatabaseUnavailableError(`cannot use PostgreSQL at ${describeUrl(url)}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  // Each object in flight holds a connection (and its advisory lock) and may open one more (reconcile, run rows).
  const pool = createPool(url, { max: 2 * config.concurrency * IN_FLIGHT_PER_SLOT + 2 });
  return {
    pool,
    url,
    embedded: Boolean(stopEmbedded),
    close: async () => {
      await pool.end();
      await stopEmbedded?.();
    },
  };
}

/**
 * The database a command uses, without migrating it (`sfsync sql` may run with a read-only role): DATABASE_URL, else
 * the embedded PostgreSQL, started for the command when `sfsync db start` has not left it running.
 */
export async function databaseUrlFor(config: Config, log: Logger): Promise<{ url: string; close(): Promise<void> }> {
  if (config.databaseUrl) return { url: config.databaseUrl, close: async () => {} };
  const embedded = await startEmbeddedPostgres({ dir: path.join(config.home, 'pg'), log });
  return { url: embedded.url, close: embedded.stop };
}

/** host:port/database only: a DATABASE_URL may carry a password, which never goes into a message. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return '(unparsable DATABASE_URL)';
  }
}
