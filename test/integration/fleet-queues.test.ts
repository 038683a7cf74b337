// `sfsync worker` and its orgs' queues through the CLI: a worker started with --org takes only that org's jobs (the
// other org's wait for their workers, never failed), and a job is stopped by its own lease (the one its enqueuer set),
// not by the worker's SFSYNC_JOB_LEASE_SECONDS.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/index.ts';
import { type CliResult, runCli, startCli } from '../support/cli.ts';
import { useTestDatabase } from '../support/db.ts';
import { until } from '../support/until.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('sfsync worker queues', () => {
  const db = useTestDatabase();
  let east: Emulator;
  let west: Emulator;
  let client: pg.Client;
  let env: Record<string, string>;
  const workers: { child: import('node:child_process').ChildProcess; done: Promise<CliResult> }[] = [];

  const jobStates = async (org: string, kind: string): Promise<string[]> => {
    const { rows } = await client.query(
      `SELECT state FROM sfsync_queue.job WHERE data->>'org' = $1 AND data->>'kind' = $2
       UNION ALL SELECT state FROM sfsync_queue.archive WHERE data->>'org' = $1 AND data->>'kind' = $2`,
      [org, kind],
    );
    return rows.map((r) => r.state as string);
  };

  beforeAll(async () => {
    [east, west] = await Promise.all([
      createEmulator({ port: 0, accounts: 6, seed: 51, orgNumber: 311, bulkLatencyMs: 100 }),
      createEmulator({ port: 0, accounts: 6, seed: 52, orgNumber: 312, bulkLatencyMs: 100 }),
    ]);
    const dir = mkdtempSync(path.join(tmpdir(), 'sfsync-queues-'));
    const file = path.join(dir, 'orgs.json');
    const org = (name: string, e: Emulator) => ({
      name,
      loginUrl: e.loginUrl,
      clientId: e.clientId,
      username: e.username,
      privateKey: { file: e.privateKeyPath },
    });
    writeFileSync(file, JSON.stringify({ objects: ['Account'], orgs: [org('east', east), org('west', west)] }));
    env = { DATABASE_URL: db.url, SFSYNC_CONFIG: file, LOG_LEVEL: 'info' };
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const synced = await runCli(['sync'], env);
    expect(synced.code, synced.stderr).toBe(0);
  });

  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await client?.end();
    await Promise.all([east?.close(), west?.close()]);
  });

  it("leaves the other orgs' jobs to their workers", async () => {
    for (const name of ['west', 'east']) {
      const queued = await runCli(['reconcile', '--org', name, '--objects', 'Account', '--enqueue'], env);
      expect(queued.stdout, queued.stderr).toBe('queued 1 job for sfsync worker\n');
    }
    const worker = startCli(['worker', '--org', 'east', '--concurrency', '2', '--stop-grace', '1'], env);
    workers.push(worker);
    await until('the east job done', async () =>
      (await jobStates('east', 'reconcile')).includes('completed') ? true : undefined,
    );
    // Several polls of every queue the worker looks at.
    await sleep(2500);
    expect(await jobStates('west', 'reconcile')).toEqual(['created']);
    worker.child.kill('SIGTERM');
    const stopped = await worker.done;
    expect(stopped.code, stopped.stderr.slice(-2000)).toBe(0);
  });

  it("stops a job at its own lease, not the worker's", async () => {
    // The window's Bulk job takes 20 s; its enqueuer gave it a lease of 6 s, the worker's own setting is two hours.
    east.admin.setBulkLatency({ latencyMs: 20_000 });
    const args = ['backfill', '--org', 'east', '--objects', 'Account', '--since', '2024-01-01', '--window', '120mo'];
    const queued = await runCli([...args, '--enqueue'], { ...env, SFSYNC_JOB_LEASE_SECONDS: '6' });
    expect(queued.stdout, queued.stderr).toBe('queued 1 job for sfsync worker\n');
    const worker = startCli(['worker', '--stop-grace', '1'], { ...env, SFSYNC_JOB_LEASE_SECONDS: '7200' });
    workers.push(worker);
    let stderr = '';
    worker.child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    const handedBack = await until(
      'the window handed back',
      async () =>
        stderr
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as { msg?: string; err?: string })
          .find((r) => String(r.msg).startsWith('job handed back for a retry: backfill-window east')),
      20_000,
    );
    expect(handedBack.err).toMatch(/the job's lease of 6 s ran out/);
    worker.child.kill('SIGTERM');
    const stopped = await worker.done;
    expect(stopped.code, stopped.stderr.slice(-2000)).toBe(0);
  });
});
