// Where the test PostgreSQL comes from, in order: TEST_DATABASE_URL, testcontainers (only if a Docker
// engine answers), else the embedded PostgreSQL started under .sfsync-test/. Each test file gets its own database.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { silentLogger } from '../../lib/log.ts';
import { freePort } from '../../loaders/embedded.ts';
import { startCluster } from '../../loaders/embeddedCluster.ts';

export interface PostgresServer {
  /** URL of a database on the server where CREATE DATABASE is allowed. */
  adminUrl: string;
  source: 'env' | 'testcontainers' | 'embedded';
  stop(): Promise<void>;
}

async function dockerAnswers(): Promise<boolean> {
  const sock = '/var/run/docker.sock';
  if (!process.env.DOCKER_HOST && !existsSync(sock)) return false;
  return new Promise((resolve) => {
    const s = net.connect(sock);
    s.once('connect', () => {
      s.end();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function startTestcontainers(): Promise<PostgresServer> {
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  const container = await new PostgreSqlContainer('postgres:16-alpine').start();
  return {
    adminUrl: container.getConnectionUri(),
    source: 'testcontainers',
    stop: async () => void (await container.stop()),
  };
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
  if (await dockerAnswers()) {
    try {
      return await startTestcontainers();
    } catch {
      // A socket that answers is not always a working engine; fall through to embedded.
    }
  }
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
