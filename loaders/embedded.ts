// The default database when no DATABASE_URL is set: a PostgreSQL kept under ./.sfsync/pg between runs (as root,
// possibly with its data elsewhere: loaders/embeddedCluster.ts).
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { EmbeddedPostgresError } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import { acceptsConnections, dataDirsOf, startCluster, SUPERUSER } from './embeddedCluster.ts';

const DATABASE = 'sfsync';

export interface EmbeddedPostgres {
  /** postgres://… URL of database `sfsync`; it carries a generated local password, never log it. */
  url: string;
  /** Where the cluster keeps its data: <dir>/data, or elsewhere when, as root, the postgres user cannot reach <dir>. */
  dataDir: string;
  stop(): Promise<void>;
}

/** Remembered in <dir>/embedded.json so every run finds the same server (loaders/embeddedCluster.ts: the data). */
interface Settings {
  port: number;
  password: string;
}

/** A TCP port nobody listens on right now (embedded servers and tests pick theirs with it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function loadSettings(dir: string): Promise<Settings> {
  const file = path.join(dir, 'embedded.json');
  if (existsSync(file)) return JSON.parse(await readFile(file, 'utf8')) as Settings;
  const settings = { port: await freePort(), password: randomBytes(18).toString('base64url') };
  await mkdir(dir, { recursive: true });
  await writeFile(file, JSON.stringify(settings) + '\n', { mode: 0o600 });
  return settings;
}

const urlOf = (s: Settings, db: string) => `postgres://${SUPERUSER}:${s.password}@127.0.0.1:${s.port}/${db}`;

/** Creates database `sfsync` when missing. */
async function ensureDatabase(settings: Settings): Promise<void> {
  const client = new pg.Client({ connectionString: urlOf(settings, 'postgres') });
  client.on('error', () => {});
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (!rowCount) await client.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await client.end();
  }
}

/** Where the server answering with these settings keeps its data; undefined when it will not say. */
async function dataDirectory(settings: Settings): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: urlOf(settings, 'postgres'), connectionTimeoutMillis: 2000 });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.query<{ data_directory: string }>('SHOW data_directory')).rows[0]?.data_directory;
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => {});
  }
}

export async function startEmbeddedPostgres(opts: { dir?: string; log: Logger }): Promise<EmbeddedPostgres> {
  const dir = path.resolve(opts.dir ?? './.sfsync/pg');
  const settings = await loadSettings(dir);
  // A server another sfsync process started is shared, not restarted; that process stops it.
  if (await acceptsConnections(settings.port, settings.password)) {
    // A server that lets anyone in (trust authentication) may answer on the remembered port: not ours to use.
    const dataDir = await dataDirectory(settings);
    if (!dataDir || !(await dataDirsOf(dir)).includes(dataDir))
      throw new EmbeddedPostgresError(
        `port ${settings.port}, remembered in ${path.join(dir, 'embedded.json')}, is taken by another PostgreSQL` +
          `${dataDir ? ` (its data in ${dataDir})` : ''}: delete that file so that the next run picks a free port`,
      );
    await ensureDatabase(settings);
    return { url: urlOf(settings, DATABASE), dataDir, stop: async () => {} };
  }
  // As root the server runs as the `postgres` system user; where it cannot reach `dir`, the data lives elsewhere.
  const cluster = await startCluster({
    home: dir,
    port: settings.port,
    password: settings.password,
    log: opts.log,
  }).catch((err: unknown) => {
    if (err instanceof EmbeddedPostgresError && err.message.endsWith(`port ${settings.port} is taken`))
      throw new EmbeddedPostgresError(
        `${err.message}; delete ${path.join(dir, 'embedded.json')} so that the next run picks a free port`,
        { cause: err },
      );
    if (err instanceof EmbeddedPostgresError) throw err;
    throw new EmbeddedPostgresError(`cannot start the embedded PostgreSQL for ${dir}: ${(err as Error).message}`, {
      cause: err,
    });
  });
  try {
    await ensureDatabase(settings);
  } catch (err) {
    await cluster.stop().catch(() => {});
    throw new EmbeddedPostgresError(
      `cannot create database ${DATABASE} in the embedded PostgreSQL (${cluster.dataDir}, port ${settings.port}): ` +
        (err as Error).message,
      { cause: err },
    );
  }
  return { url: urlOf(settings, DATABASE), dataDir: cluster.dataDir, stop: cluster.stop };
}
