// `sfsync db start|stop|status|url`: the embedded PostgreSQL (the database when DATABASE_URL is not set) kept running
// in the background, so that psql and other tools can reach the warehouse between sfsync commands.
import path from 'node:path';
import { type Env, loadConfigs } from '../lib/config.ts';
import { EmbeddedPostgresError } from '../lib/errors.ts';
import { embeddedStatus, startEmbeddedPostgres, stopDetachedPostgres } from '../loaders/embedded.ts';
import { describeUrl } from '../pipelines/runtime/database.ts';
import { commandLogger } from './logger.ts';

export type DbAction = 'start' | 'stop' | 'status' | 'url';

const NOT_RUNNING = 'the embedded PostgreSQL is not running: start it with `sfsync db start`';

export async function runDb(action: DbAction, opts: { json?: boolean }, env: Env): Promise<void> {
  // The database, home and logging settings are the same for every org.
  const config = loadConfigs(env, { needSalesforce: false })[0]!;
  const dir = path.join(config.home, 'pg');
  const out = (s: string) => process.stdout.write(`${s}\n`);
  switch (action) {
    case 'start': {
      const pg = await startEmbeddedPostgres({ dir, log: commandLogger(config), detached: true });
      out(
        pg.started
          ? `embedded PostgreSQL started on 127.0.0.1:${pg.port}, its data in ${pg.dataDir}; ` +
              'stop it with: sfsync db stop'
          : `embedded PostgreSQL already running on 127.0.0.1:${pg.port}, its data in ${pg.dataDir}`,
      );
      out(pg.url);
      return;
    }
    case 'stop': {
      out((await stopDetachedPostgres(dir)) ? 'embedded PostgreSQL stopped' : 'embedded PostgreSQL not running');
      return;
    }
    case 'url': {
      const status = await embeddedStatus(dir);
      if (!status.url) throw new EmbeddedPostgresError(NOT_RUNNING);
      out(status.url);
      return;
    }
    case 'status': {
      const s = await embeddedStatus(dir);
      if (opts.json) {
        out(
          JSON.stringify({
            running: s.running,
            port: s.port ?? null,
            url: s.url ? describeUrl(s.url) : null,
            background: s.detached ? { pid: s.detached.pid, dataDir: s.detached.dataDir, log: s.detached.log } : null,
            databaseUrlSet: Boolean(config.databaseUrl),
          }),
        );
        return;
      }
      if (!s.configured) out(`no embedded PostgreSQL under ${dir} yet: sfsync db start creates one`);
      else if (!s.running) out(`embedded PostgreSQL not running (port ${s.port}); start it with: sfsync db start`);
      else if (s.detached)
        out(
          `embedded PostgreSQL running in the background: ${describeUrl(s.url ?? '')}, pid ${s.detached.pid}, ` +
            `its data in ${s.detached.dataDir}, its log in ${s.detached.log}`,
        );
      else
        out(`embedded PostgreSQL running for another sfsync command (it stops with it): ${describeUrl(s.url ?? '')}`);
      if (config.databaseUrl) out(`DATABASE_URL is set: sfsync commands use ${describeUrl(config.databaseUrl)}`);
      return;
    }
  }
}
