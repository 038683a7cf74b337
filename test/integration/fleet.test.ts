// The worker fleet through the CLI: three emulated orgs, one `schedule --enqueue` ticking every two seconds and three
// `sfsync worker` processes on one PostgreSQL. Every org's tables converge to its org (initial loads, then changes);
// a worker killed with SIGKILL in the middle of a load loses and duplicates nothing (its job runs again on another
// worker once its lease is over); sfsync.runs' start and end times show no object loaded twice at once; an org
// whose API budget is spent stops alone; the commands' --enqueue jobs run; SIGTERM stops the processes cleanly.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/index.ts';
import { type CliResult, runCli, startCli } from '../support/cli.ts';
import { useTestDatabase } from '../support/db.ts';
import { orgRecords } from '../support/org.ts';
import { until } from '../support/until.ts';

const OBJECTS = ['Account', 'Contact', 'Opportunity'];
const ORGS = ['east', 'west', 'north'] as const;
type Org = (typeof ORGS)[number];

interface Proc {
  child: ChildProcess;
  done: Promise<CliResult>;
  stderr: () => string;
}

function start(args: string[], env: Record<string, string>): Proc {
  const p = startCli(args, env);
  let stderr = '';
  p.child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  return { ...p, stderr: () => stderr };
}

/** The JSON log records of a process so far. */
function records(p: Proc): Record<string, unknown>[] {
  return p
    .stderr()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('sfsync worker fleet', () => {
  const db = useTestDatabase();
  const emulators = {} as Record<Org, Emulator>;
  let client: pg.Client;
  let env: Record<string, string>;
  let scheduler: Proc;
  let workers: Proc[] = [];

  /** Id and Name of every record (deleted ones too), as sync keeps them. */
  const orgRows = (org: Org, object: string) =>
    orgRecords(emulators[org].store, object)
      .map((r) => `${r.Id as string} ${r.Name as string} ${r.IsDeleted === true}`)
      .sort();
  const tableRows = async (org: Org, object: string): Promise<string[] | undefined> => {
    const table = `"salesforce_${org}"."${object.toLowerCase()}"`;
    const exists = await client.query('SELECT to_regclass($1) AS t', [table]);
    if (!exists.rows[0].t) return undefined;
    const { rows } = await client.query(`SELECT id, name, isdeleted FROM ${table}`);
    return rows.map((r) => `${r.id} ${r.name} ${r.isdeleted}`).sort();
  };
  const converged = async (orgs: readonly Org[]) => {
    for (const org of orgs)
      for (const object of OBJECTS) {
        const rows = await tableRows(org, object);
        if (!rows || rows.join('\n') !== orgRows(org, object).join('\n')) return undefined;
      }
    return true;
  };

  beforeAll(async () => {
    // East's Bulk jobs take 2.5 s: its initial loads are long enough to kill a worker in the middle of one.
    const [east, west, north] = await Promise.all([
      createEmulator({ port: 0, accounts: 12, seed: 41, orgNumber: 301, bulkLatencyMs: 2500 }),
      createEmulator({ port: 0, accounts: 10, seed: 42, orgNumber: 302, bulkLatencyMs: 200 }),
      createEmulator({ port: 0, accounts: 8, seed: 43, orgNumber: 303, bulkLatencyMs: 200 }),
    ]);
    Object.assign(emulators, { east, west, north });
    // North's org has used 90% of its daily API requests: past SFSYNC_MAX_ORG_API_SHARE (80%).
    north!.admin.setApiUsage(13_500, 15_000);
    const dir = mkdtempSync(path.join(tmpdir(), 'sfsync-fleet-'));
    const file = path.join(dir, 'orgs.json');
    const org = (name: Org, e: Emulator) => ({
      name,
      loginUrl: e.loginUrl,
      clientId: e.clientId,
      username: e.username,
      privateKey: { file: e.privateKeyPath },
    });
    writeFileSync(
      file,
      JSON.stringify({
        objects: OBJECTS,
        schedule: '*/2 * * * * *',
        orgs: [org('east', east!), org('west', west!), org('north', north!)],
      }),
    );
    env = {
      DATABASE_URL: db.url,
      SFSYNC_CONFIG: file,
      LOG_LEVEL: 'info',
      // Six seconds: a killed worker's job runs again within seconds (the default is two hours).
      SFSYNC_JOB_LEASE_SECONDS: '6',
    };
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  });

  afterAll(async () => {
    for (const p of [scheduler, ...workers]) if (p && p.child.exitCode === null) p.child.kill('SIGKILL');
    await client?.end();
    await Promise.all(Object.values(emulators).map((e) => e.close()));
  });

  it('converges every org, survives a killed worker, never loads an object twice at once', async () => {
    scheduler = start(['schedule', '--enqueue'], env);
    workers = [0, 1, 2].map(() => start(['worker', '--concurrency', '2', '--stop-grace', '1'], env));

    // A worker in the middle of one of east's initial loads (its Bulk job takes 2.5 s) is killed.
    const victim = await until('a worker loading an east object', async () => {
      for (const w of workers) {
        const recs = records(w);
        const ended = new Set(
          recs.filter((r) => /^job (done|skipped|failed|handed)/.test(String(r.msg))).map((r) => r.job),
        );
        const busy = recs.find((r) => /^job started: sync east /.test(String(r.msg)) && !ended.has(r.job));
        if (busy) return { worker: w, job: String(busy.job), object: String(busy.msg).split(' ').pop()! };
      }
      return undefined;
    });
    // Well into the load: the Bulk job is running.
    await sleep(800);
    victim.worker.child.kill('SIGKILL');
    const killedAt = Date.now();
    await victim.worker.done;

    await until('east and west converged', () => converged(['east', 'west']), 45_000);

    // The killed job ran again after its lease (on another worker): pg-boss counted a retry for it.
    const job = await until('the killed job completed', async () => {
      const { rows } = await client.query(
        'SELECT retry_count, state FROM sfsync_queue.job WHERE id = $1 UNION ALL ' +
          'SELECT retry_count, state FROM sfsync_queue.archive WHERE id = $1',
        [victim.job],
      );
      return rows[0]?.state === 'completed' ? rows[0] : undefined;
    });
    expect(job.retry_count).toBeGreaterThanOrEqual(1);
    // Its first attempt's run never finished. The object's next run closes it as abandoned; until one has run (the
    // retry is skipped while PostgreSQL still holds the dead session's lock) it shows as running. Runs started after
    // the kill are live ones (the schedule enqueues every two seconds): one of them may be running now, none was
    // abandoned.
    const { rows: killedRuns } = await client.query(
      `SELECT status, error, started_at FROM sfsync.runs
        WHERE target_schema = 'salesforce_east' AND object = $1 ORDER BY id`,
      [victim.object],
    );
    type Run = { status: string; error: string | null; started_at: Date };
    const isAbandoned = (r: Run) => r.status === 'failed' && /^abandoned:/.test(r.error ?? '');
    const before = killedRuns.filter((r: Run) => r.started_at.getTime() < killedAt);
    const after = killedRuns.filter((r: Run) => r.started_at.getTime() >= killedAt);
    expect(before.filter((r: Run) => r.status === 'running' || isAbandoned(r))).toHaveLength(1);
    expect(after.filter(isAbandoned)).toEqual([]);
    expect(killedRuns.map((r) => r.status)).toContain('succeeded');

    // Every object's runs, one after the other: none starts before the one before it ended (the killed attempt
    // ended when its worker died).
    const { rows: runs } = await client.query(
      'SELECT target_schema, object, started_at, finished_at, error FROM sfsync.runs ' +
        'ORDER BY target_schema, object, started_at',
    );
    expect(runs.length).toBeGreaterThanOrEqual(6);
    for (let i = 1; i < runs.length; i++) {
      const [prev, run] = [runs[i - 1], runs[i]];
      if (prev.target_schema !== run.target_schema || prev.object !== run.object) continue;
      // An abandoned run was closed by the next one; it really ended when its worker died.
      const abandoned = /^abandoned:/.test(prev.error ?? '');
      const prevEnd = prev.finished_at && !abandoned ? prev.finished_at.getTime() : killedAt;
      expect(run.started_at.getTime(), `${run.target_schema}.${run.object}`).toBeGreaterThanOrEqual(prevEnd);
    }

    // North's budget is spent: nothing of it ran, its stop is recorded for every worker; east and west went on.
    const { rows: northRuns } = await client.query(
      "SELECT 1 FROM sfsync.runs WHERE target_schema = 'salesforce_north'",
    );
    expect(northRuns).toHaveLength(0);
    const { rows: budgets } = await client.query('SELECT schema, stopped FROM sfsync.org_budgets ORDER BY schema');
    expect(budgets.find((b) => b.schema === 'salesforce_north')?.stopped).toMatch(
      /^API budget: DailyApiRequests: \d+ of the org's 15000 in use, at or over the 80% allowed/,
    );
    expect(budgets.filter((b) => b.stopped !== null).map((b) => b.schema)).toEqual(['salesforce_north']);
  });

  it('carries changes over on the next ticks, and north once its budget has room again', async () => {
    const east = emulators.east.admin;
    const west = emulators.west.admin;
    const [a] = orgRecords(emulators.east.store, 'Account', { includeDeleted: false });
    east.update(a!.Id as string, { Name: 'East renamed' });
    east.insert('Contact', { LastName: 'Fleet', FirstName: 'New' });
    const [b] = orgRecords(emulators.west.store, 'Opportunity', { includeDeleted: false });
    west.delete(b!.Id as string);
    // North's allowance is back (a new day); the operator clears the recorded stop rather than wait for a recheck.
    emulators.north.admin.setApiUsage(0, 15_000);
    await client.query("DELETE FROM sfsync.org_budgets WHERE schema = 'salesforce_north'");
    await until('every org converged', () => converged(ORGS), 45_000);
  });

  it('runs the backfill windows, reconcile and verify that the commands queue with --enqueue', async () => {
    // The scheduler stops first (SIGTERM, exit 0): its ticks every two seconds keep the workers busy with syncs, which
    // come before backfill windows.
    scheduler.child.kill('SIGTERM');
    const stopped = await scheduler.done;
    expect(stopped.code, stopped.stderr.slice(-2000)).toBe(0);
    const [gone] = orgRecords(emulators.west.store, 'Account', { includeDeleted: false });
    emulators.west.admin.hardDelete(gone!.Id as string);
    const west = ['--org', 'west', '--objects', 'Account'];
    const backfill = await runCli(['backfill', ...west, '--since', '2020-01-01', '--window', '12mo', '--enqueue'], env);
    expect(backfill.code, backfill.stderr).toBe(0);
    expect(backfill.stdout).toMatch(/^queued \d+ jobs for sfsync worker\n$/);
    const reconcile = await runCli(['reconcile', ...west, '--enqueue'], env);
    expect(reconcile.stdout).toBe('queued 1 job for sfsync worker\n');
    const verify = await runCli(['verify', '--org', 'east', '--objects', 'Contact', '--sample', '5', '--enqueue'], env);
    expect(verify.stdout).toBe('queued 1 job for sfsync worker\n');

    await until('the backfill done', async () => {
      const { rows } = await client.query(
        "SELECT status FROM sfsync.backfills WHERE target_schema = 'salesforce_west'",
      );
      return rows[0]?.status === 'succeeded' ? true : undefined;
    });
    const { rows: windows } = await client.query(
      "SELECT count(*)::int AS n FROM sfsync.runs WHERE target_schema = 'salesforce_west' AND mode = 'backfill'",
    );
    expect(windows[0].n).toBeGreaterThanOrEqual(6);
    await until('the hard delete reconciled', async () => {
      const { rows } = await client.query('SELECT isdeleted FROM salesforce_west.account WHERE id = $1', [gone!.Id]);
      return rows[0]?.isdeleted === true ? true : undefined;
    });
    const outputs = await until('the verify job done', async () => {
      const { rows } = await client.query(
        "SELECT output FROM sfsync_queue.job WHERE data->>'kind' = 'verify' AND state = 'completed'",
      );
      return rows.length > 0 ? rows : undefined;
    });
    expect(outputs[0].output).toEqual({ status: 'succeeded', detail: expect.stringMatching(/ live, 5 sampled: ok$/) });
  });

  it('stops the workers on SIGTERM: a job still running after --stop-grace goes back to the queue', async () => {
    // A backfill window whose Bulk job takes 10 s: running when the workers are told to stop.
    emulators.east.admin.setBulkLatency({ latencyMs: 10_000 });
    const args = ['--org', 'east', '--objects', 'Account', '--since', '2024-01-01', '--window', '120mo'];
    const queued = await runCli(['backfill', ...args, '--enqueue'], env);
    expect(queued.stdout, queued.stderr).toBe('queued 1 job for sfsync worker\n');
    const alive = workers.filter((p) => p.child.exitCode === null && p.child.signalCode === null);
    expect(alive).toHaveLength(2);
    const busy = await until('the window started', async () =>
      alive.find((w) => records(w).some((r) => String(r.msg).startsWith('job started: backfill-window east'))),
    );
    await sleep(500);
    for (const p of alive) p.child.kill('SIGTERM');
    const results = await Promise.all(alive.map((p) => p.done));
    for (const r of results) expect(r.code, r.stderr.slice(-2000)).toBe(0);
    for (const w of alive) expect(records(w).map((r) => r.msg)).toContain('worker stopped');
    const handedBack = records(busy).filter((r) => String(r.msg).startsWith('job handed back for a retry: '));
    expect(handedBack.map((r) => String(r.msg).split(' [')[0])).toEqual([
      'job handed back for a retry: backfill-window east Account',
    ]);
    const { rows } = await client.query(
      "SELECT state FROM sfsync_queue.job WHERE data->>'kind' = 'backfill-window' AND data->>'org' = 'east'",
    );
    expect(rows).toEqual([{ state: 'retry' }]);
  });
});
