import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../lib/log.ts';
import { startEmbeddedPostgres } from '../../loaders/embedded.ts';

async function query(url: string, sql: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('embedded PostgreSQL', () => {
  const base = path.resolve('.sfsync-test');
  let dir: string | undefined;
  let dataDir: string | undefined;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    // As root the data may live outside `dir` (a folder of its own the postgres user can reach): remove it too.
    if (dataDir) await rm(path.dirname(dataDir), { recursive: true, force: true });
  });

  it('keeps its data, port and database across stop and restart, and shares a running server', async () => {
    // mkdtemp's 0700 directory on purpose: as root the server runs as `postgres` and must still find a place for
    // its data (test/integration/embedded-anywhere.test.ts checks where).
    await mkdir(base, { recursive: true });
    dir = await mkdtemp(path.join(base, 'embedded-'));
    const log = silentLogger();
    const first = await startEmbeddedPostgres({ dir, log });
    dataDir = first.dataDir;
    expect(new URL(first.url).pathname).toBe('/sfsync');
    await query(first.url, 'CREATE TABLE kept (v text); INSERT INTO kept VALUES ($$still here$$)');

    const shared = await startEmbeddedPostgres({ dir, log });
    expect(shared.url).toBe(first.url);
    await shared.stop(); // not the owner: must leave the server running
    expect(await query(first.url, 'SELECT v FROM kept')).toEqual([{ v: 'still here' }]);
    await first.stop();

    const second = await startEmbeddedPostgres({ dir, log });
    try {
      expect(second.url).toBe(first.url);
      expect(await query(second.url, 'SELECT v FROM kept')).toEqual([{ v: 'still here' }]);
      const settings = JSON.parse(await readFile(path.join(dir, 'embedded.json'), 'utf8'));
      expect(new URL(second.url).port).toBe(String(settings.port));
    } finally {
      await second.stop();
    }
  });
});
