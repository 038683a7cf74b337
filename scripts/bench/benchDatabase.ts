// The bench's PostgreSQL: DATABASE_URL when set, else an embedded server in a throw-away directory. Every
// measurement gets its own target schema, dropped afterwards together with sfsync's state rows for it.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { silentLogger } from '../../lib/log.ts';
import { startEmbeddedPostgres } from '../../loaders/embedded.ts';
import { quoteIdent } from '../../loaders/postgres.ts';

export interface BenchDatabase {
  /** May carry a password: pass it to children in their environment, never print it. */
  url: string;
  embedded: boolean;
  pool: pg.Pool;
  /** DROP SCHEMA … CASCADE and sfsync's watermarks/runs/state for it, so the next sync there is an initial load. */
  dropTarget(schema: string): Promise<void>;
  runs(schema: string): Promise<RunRow[]>;
  close(): Promise<void>;
}

export interface RunRow {
  object: string;
  mode: string;
  status: string;
  fetched: number;
  inserted: number;
  updated: number;
  ms: number;
  error: string | null;
}

export async function openBenchDatabase(): Promise<BenchDatabase> {
  let url = process.env.DATABASE_URL;
  let stop = async () => {};
  if (!url) {
    const dir = await mkdtemp(path.join(tmpdir(), 'sfsync-bench-'));
    // As root the server runs as a `postgres` system user, which must be able to reach the data directory.
    await chmod(dir, 0o755);
    const embedded = await startEmbeddedPostgres({ dir: path.join(dir, 'pg'), log: silentLogger() });
    url = embedded.url;
    stop = async () => {
      await embedded.stop();
      await rm(dir, { recursive: true, force: true });
    };
  }
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => {});
  return {
    url,
    embedded: !process.env.DATABASE_URL,
    pool,
    async dropTarget(schema) {
      await pool.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
      const { rows } = await pool.query<{ table_name: string }>(
        'SELECT table_name FROM information_schema.columns ' +
          "WHERE table_schema = 'sfsync' AND column_name = 'target_schema'",
      );
      for (const r of rows)
        await pool.query(`DELETE FROM sfsync.${quoteIdent(r.table_name)} WHERE target_schema = $1`, [schema]);
    },
    async runs(schema) {
      const { rows } = await pool.query<RunRow>(
        `SELECT object, mode, status, coalesce(rows_fetched, 0)::float8 AS fetched,
                coalesce(rows_inserted, 0)::float8 AS inserted, coalesce(rows_updated, 0)::float8 AS updated,
                extract(epoch FROM finished_at - started_at)::float8 * 1000 AS ms, error
           FROM sfsync.runs WHERE target_schema = $1 ORDER BY id`,
        [schema],
      );
      return rows;
    },
    async close() {
      await pool.end();
      await stop();
    },
  };
}
