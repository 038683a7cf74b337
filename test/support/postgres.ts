// Where the test PostgreSQL comes from: TEST_DATABASE_URL (any server: local, CI service, a Docker container), else
// the embedded PostgreSQL started under .sfsync-test/. Each test file gets its own database.
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { silentLogger } from '../../lib/log.ts';
import { freePort } from '../../loaders/embedded.ts';
import { startCluster } from '../../loaders/embeddedCluster.ts';

export interface PostgresServer {
  /** URL of a database on the server where CREATE DATABASE is allowed. */
  adminUrl: string;
  source: 'env' | 'embedded';
  stop(): Promise<void>;
}

export async function startEmbedded(dir: string): Promise<PostgresServer> {
  const port = await freePort();
  await rm(dir, { recursive: true, force: true });
  // As root the server runs as the `postgres` system user; when it cannot reach `dir` (the checkout is under /root,
  // a 0700 folder) the binaries and the data go where it can (loaders/embeddedCluster.ts) and are removed here too.
  const cluster = await startCluster({ home: dir, port, password: 'postgres', log: silentLogger(), fresh: true });
  return {
    adminUrl: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    source: 'embedded',
    stop: async () => {
      await cluster.stop();
      const relocated = path.dirname(cluster.dataDir) !== path.resolve(dir);
      await rm(relocated ? path.dirname(cluster.dataDir) : dir, { recursive: true, force: true });
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function resolvePostgres(): Promise<PostgresServer> {
  const fromEnv = process.env.TEST_DATABASE_URL;
  if (fromEnv) return { adminUrl: fromEnv, source: 'env', stop: async () => {} };
  return startEmbedded(path.resolve('.sfsync-test', `pg-${process.pid}`));
}

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = '/' + name;
  return u.toString();
}

/** A fresh, empty database on the test server; drop() removes it (and kicks out stragglers). */
export async function createTestDatabase(adminUrl: string): Promise<TestDatabase> {
  const name = 'sfsync_t_' + randomBytes(5).toString('hex');
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return {
    url: withDatabase(adminUrl, name),
    name,
    drop: async () => {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
