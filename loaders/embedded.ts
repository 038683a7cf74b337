// The default database when no DATABASE_URL is set: a PostgreSQL kept under ./.sfsync/pg between runs (as root,
// possibly with its data elsewhere: loaders/embeddedCluster.ts).
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
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
  port: number;
  /** False when a server was already running (another sfsync process, or `sfsync db start`): it is shared. */
  started: boolean;
  stop(): Promise<void>;
}

/** Written to <dir>/server.json by `sfsync db start`: the server it left running, for `db stop` and `db status`. */
export interface DetachedServer {
  pid: number;
  port: number;
  dataDir: string;
  startedAt: string;
  log: string;
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

/** Starts the server (or shares the one running); `detached`: it keeps running after this process, recorded. */
export async function startEmbeddedPostgres(opts: {
  dir?: string;
  log: Logger;
  detached?: boolean;
}): Promise<EmbeddedPostgres> {
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
    return { url: urlOf(settings, DATABASE), dataDir, port: settings.port, started: false, stop: async () => {} };
  }
  // As root the server runs as the `postgres` system user; where it cannot reach `dir`, the data lives elsewhere.
  const cluster = await startCluster({
    home: dir,
    port: settings.port,
    password: settings.password,
    log: opts.log,
    detachedLog: opts.detached ? path.join(dir, 'server.log') : undefined,
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
  if (opts.detached) {
    const record: DetachedServer = {
      pid: cluster.pid,
      port: settings.port,
      dataDir: cluster.dataDir,
      startedAt: new Date().toISOString(),
      log: path.join(dir, 'server.log'),
    };
    await writeFile(path.join(dir, SERVER_FILE), JSON.stringify(record) + '\n');
  }
  return {
    url: urlOf(settings, DATABASE),
    dataDir: cluster.dataDir,
    port: settings.port,
    started: true,
    stop: cluster.stop,
  };
}

const SERVER_FILE = 'server.json';

async function readDetached(dir: string): Promise<DetachedServer | undefined> {
  try {
    return JSON.parse(await readFile(path.join(dir, SERVER_FILE), 'utf8')) as DetachedServer;
  } catch {
    return undefined;
  }
}

/** True when `pid` is the postmaster of `dataDir` (its postmaster.pid names it): never signal another process. */
async function isPostmasterOf(pid: number, dataDir: string): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: alive but not ours to signal (run as another user); ESRCH: gone.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const first = (await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[0];
  return first?.trim() === String(pid);
}

export interface EmbeddedStatus {
  /** False when no embedded server was ever set up under the folder. */
  configured: boolean;
  running: boolean;
  port?: number;
  /** URL with its password, only when running. */
  url?: string;
  /** The server `sfsync db start` left running, when it still runs. */
  detached?: DetachedServer;
}

export async function embeddedStatus(dir: string): Promise<EmbeddedStatus> {
  const file = path.join(dir, 'embedded.json');
  if (!existsSync(file)) return { configured: false, running: false };
  const settings = JSON.parse(await readFile(file, 'utf8')) as Settings;
  const running = await acceptsConnections(settings.port, settings.password);
  const record = await readDetached(dir);
  const detached = running && record && (await isPostmasterOf(record.pid, record.dataDir)) ? record : undefined;
  return {
    configured: true,
    running,
    port: settings.port,
    url: running ? urlOf(settings, DATABASE) : undefined,
    detached,
  };
}

/**
 * Stops the server `sfsync db start` left running; false when none runs. A server another sfsync command started
 * stops with that command: stopping it here would break the command, so it is refused.
 */
export async function stopDetachedPostgres(dir: string): Promise<boolean> {
  const status = await embeddedStatus(dir);
  const record = status.detached;
  if (!record) {
    await rm(path.join(dir, SERVER_FILE), { force: true });
    if (status.running)
      throw new EmbeddedPostgresError(
        `the embedded PostgreSQL on port ${status.port} was started by a running sfsync command, not by ` +
          '`sfsync db start`: it stops when that command ends',
      );
    return false;
  }
  // SIGINT: PostgreSQL's fast shutdown (open transactions roll back); SIGQUIT when it has not stopped in 30 s.
  process.kill(record.pid, 'SIGINT');
  const deadline = Date.now() + 60_000;
  let quit = false;
  while (await isPostmasterOf(record.pid, record.dataDir)) {
    if (Date.now() > deadline)
      throw new EmbeddedPostgresError(`the embedded PostgreSQL (pid ${record.pid}) did not stop within 60 s`);
    if (!quit && Date.now() > deadline - 30_000) {
      quit = true;
      process.kill(record.pid, 'SIGQUIT');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await rm(path.join(dir, SERVER_FILE), { force: true });
  return true;
}
