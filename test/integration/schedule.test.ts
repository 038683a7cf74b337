// `sfsync schedule` as users run it: a spawned CLI ticking every 2 seconds against the emulator and a real PostgreSQL.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/index.ts';
import { startCli } from '../support/cli.ts';
import { useTestDatabase } from '../support/db.ts';
import { emulatorEnv } from '../support/emulatorEnv.ts';

const db = useTestDatabase();
let emulator: Emulator;

interface Run {
  id: number;
  mode: string;
  status: string;
  started: Date;
  finished: Date | null;
  error: string | null;
}

async function accountRuns(): Promise<Run[]> {
  const client = new pg.Client(db.url);
  await client.connect();
  try {
    const { rows } = await client.query<Run>(
      `SELECT id::int AS id, mode, status, started_at AS started, finished_at AS finished, error
       FROM sfsync.runs WHERE object = 'Account' ORDER BY id`,
    );
    return rows;
  } catch (err) {
    // 42P01: the scheduler has not migrated the database yet.
    if ((err as { code?: string }).code === '42P01') return [];
    throw err;
  } finally {
    await client.end();
  }
}

/** Polls the run history until `done` holds; the bound only keeps a broken scheduler from hanging the suite. */
async function waitForRuns(done: (runs: Run[]) => boolean, what: string): Promise<Run[]> {
  for (let i = 0; i < 150; i++) {
    const runs = await accountRuns();
    if (done(runs)) return runs;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`gave up waiting for ${what}; runs: ${JSON.stringify(await accountRuns())}`);
}

describe('sfsync schedule', () => {
  beforeAll(async () => {
    emulator = await createEmulator({ port: 0, accounts: 40, seed: 5 });
  });
  afterAll(async () => {
    await emulator?.close();
  });

  it('runs on every tick, survives a failed run, never overlaps, and stops cleanly on SIGTERM mid-run', async () => {
    const { child, done } = startCli(['schedule', '--cron', '*/2 * * * * *', '--objects', 'Account'], {
      ...emulatorEnv(emulator, db.url),
      LOG_LEVEL: 'info',
    });
    try {
      const succeeded = (runs: Run[]) => runs.filter((r) => r.status === 'succeeded');
      await waitForRuns((runs) => succeeded(runs).length >= 2, 'two successful runs');

      // One cycle fails on a refused query (400, not retried), the next one recovers.
      emulator.admin.addFault({
        route: /\/query/,
        times: 1,
        kind: 'status',
        status: 400,
        errorCode: 'MALFORMED_QUERY',
      });
      const before = (await accountRuns()).length;
      const failedId = (
        await waitForRuns((runs) => runs.slice(before).some((r) => r.status === 'failed'), 'a failed run')
      )
        .slice(before)
        .find((r) => r.status === 'failed')!.id;
      const runs = await waitForRuns(
        (all) => all.some((r) => r.id > failedId && r.status === 'succeeded'),
        'a run after the failure',
      );
      expect(runs.find((r) => r.id === failedId)!.error).toMatch(/MALFORMED_QUERY/);
      expect(runs[0]).toMatchObject({ mode: 'initial', status: 'succeeded' });
      expect(runs.find((r) => r.id > failedId && r.status === 'succeeded')!.mode).toBe('incremental');

      // SIGTERM while a run waits on a slow response: the run is rolled back and recorded, the process exits 0.
      emulator.admin.addFault({ route: /\/query/, times: 1, kind: 'delay', ms: 30_000 });
      const count = (await accountRuns()).length;
      await waitForRuns((all) => all.slice(count).some((r) => r.status === 'running'), 'a run in flight');
      child.kill('SIGTERM');
      const result = await done;
      expect(result.code, result.stderr).toBe(0);

      const final = await accountRuns();
      expect(final.filter((r) => r.status === 'running')).toEqual([]);
      expect(final[final.length - 1]).toMatchObject({ status: 'failed' });
      expect(final[final.length - 1]!.error).toBeTruthy();
      // Never two runs of the same objects at once: each run starts after the previous one finished.
      for (let i = 1; i < final.length; i++)
        expect(final[i]!.started.getTime()).toBeGreaterThanOrEqual(final[i - 1]!.finished!.getTime());

      const logs = result.stderr
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { msg: string; objects?: unknown });
      const finished = logs.filter((l) => l.msg === 'scheduled sync finished');
      expect(finished.length).toBeGreaterThanOrEqual(3);
      expect(finished[0]!.objects).toEqual([
        expect.objectContaining({ object: 'Account', mode: 'initial', status: 'succeeded', inserted: 40 }),
      ]);
      expect(logs.some((l) => l.msg === 'scheduled sync finished with failures')).toBe(true);
      expect(logs.some((l) => l.msg === 'schedule stopped')).toBe(true);
    } finally {
      child.kill('SIGKILL');
    }
  }, 30_000);

  it('refuses an invalid cron expression with one line and exit code 2', async () => {
    const { done } = startCli(['schedule', '--cron', 'every night', '--objects', 'Account'], {
      ...emulatorEnv(emulator, db.url),
    });
    const result = await done;
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^sfsync: cron expression 'every night' is not valid/m);
  });
});
