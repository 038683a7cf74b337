// `sfsync schedule --metrics-port`: /metrics scraped during scheduled runs (parsed strictly as Prometheus text) and
// /healthz turning 503 on a failed run and back to 200 after the next success. Spawned CLI, emulator, real PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/index.ts';
import { freePort } from '../../loaders/embedded.ts';
import { runCli, startCli } from '../support/cli.ts';
import { useTestDatabase } from '../support/db.ts';
import { emulatorEnv } from '../support/emulatorEnv.ts';
import { type Exposition, parsePrometheusText } from '../support/promText.ts';

const db = useTestDatabase();
let emulator: Emulator;

async function get(port: number, path: string): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

/** Scrapes until `done` holds; the bound only keeps a broken scheduler from hanging the suite. */
async function scrapeUntil(port: number, done: (m: Exposition) => boolean, what: string): Promise<Exposition> {
  let last = '';
  for (let i = 0; i < 200; i++) {
    const res = await get(port, '/metrics').catch(() => undefined);
    if (res?.status === 200) {
      last = res.body;
      const parsed = parsePrometheusText(res.body);
      if (done(parsed)) return parsed;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`gave up waiting for ${what}; last scrape:\n${last}`);
}

describe('sfsync schedule --metrics-port', () => {
  beforeAll(async () => {
    emulator = await createEmulator({ port: 0, accounts: 30, seed: 7 });
  });
  afterAll(async () => {
    await emulator?.close();
  });

  it('serves run, row, API, lag and duration metrics, and /healthz follows the last run', async () => {
    const port = await freePort();
    const args = ['schedule', '--cron', '*/2 * * * * *', '--objects', 'Account', '--metrics-port', String(port)];
    // The emulator's records are weeks old, so is the watermark: this threshold keeps lag out of the first checks.
    const { child, done } = startCli(
      [...args, '--metrics-host', '127.0.0.1', '--max-lag-minutes', '10000000'],
      emulatorEnv(emulator, db.url),
    );
    try {
      const ok = { object: 'Account', status: 'succeeded' };
      const first = await scrapeUntil(port, (m) => (m.value('sfsync_runs_total', ok) ?? 0) >= 1, 'a run');
      expect(first.types.get('sfsync_runs_total')).toBe('counter');
      expect(first.types.get('sfsync_rows_total')).toBe('counter');
      expect(first.types.get('sfsync_run_duration_seconds')).toBe('histogram');
      for (const g of ['sfsync_api_daily_used', 'sfsync_api_daily_remaining', 'sfsync_lag_seconds'])
        expect(first.types.get(g)).toBe('gauge');
      // The initial load read and inserted all 30 Accounts.
      expect(first.value('sfsync_rows_total', { object: 'Account', kind: 'fetched' })).toBeGreaterThanOrEqual(30);
      expect(first.value('sfsync_rows_total', { object: 'Account', kind: 'inserted' })).toBe(30);
      expect(first.value('sfsync_rows_total', { object: 'Account', kind: 'deleted' })).toBeGreaterThanOrEqual(0);
      expect(first.value('sfsync_run_duration_seconds_count', { object: 'Account' })).toBeGreaterThanOrEqual(1);
      expect(first.value('sfsync_run_duration_seconds_bucket', { object: 'Account', le: '+Inf' })).toBe(
        first.value('sfsync_run_duration_seconds_count', { object: 'Account' }),
      );
      expect(first.value('sfsync_api_calls_total')).toBeGreaterThan(0);
      const used = first.value('sfsync_api_daily_used')!;
      const left = first.value('sfsync_api_daily_remaining')!;
      expect(used).toBeGreaterThan(0);
      expect(left).toBeGreaterThan(0);
      // The lag is `sfsync status`'s: seconds from the watermark to now.
      const lag = first.value('sfsync_lag_seconds', { object: 'Account' })!;
      const status = await runCli(['status', '--json'], { DATABASE_URL: db.url });
      const entry = JSON.parse(status.stdout).objects.find((o: { object: string }) => o.object === 'Account');
      expect(Math.abs(lag - entry.lagSeconds)).toBeLessThan(30);
      const lastSuccess = first.value('sfsync_last_success_timestamp_seconds', { object: 'Account' })!;
      expect(Math.abs(lastSuccess - Date.now() / 1000)).toBeLessThan(60);
      expect(first.value('sfsync_healthy')).toBe(1);
      const healthy = await get(port, '/healthz');
      expect(healthy).toMatchObject({ status: 200, body: 'ok\n' });

      // Runs fail (a refused query, not retried) while the fault lasts: /healthz says so until a run succeeds.
      emulator.admin.addFault({
        route: /\/query/,
        times: 1000,
        kind: 'status',
        status: 400,
        errorCode: 'MALFORMED_QUERY',
      });
      const failed = { object: 'Account', status: 'failed' };
      const broken = await scrapeUntil(port, (m) => (m.value('sfsync_runs_total', failed) ?? 0) >= 1, 'a failed run');
      expect(broken.value('sfsync_healthy')).toBe(0);
      const unhealthy = await get(port, '/healthz');
      expect(unhealthy.status).toBe(503);
      expect(unhealthy.body).toMatch(/^Account: last run failed: .*MALFORMED_QUERY/);
      emulator.admin.clearFaults();
      const after = (await get(port, '/metrics')).body;
      const succeededBefore = parsePrometheusText(after).value('sfsync_runs_total', ok)!;
      await scrapeUntil(port, (m) => m.value('sfsync_runs_total', ok)! > succeededBefore, 'a run after the failure');
      expect((await get(port, '/healthz')).status).toBe(200);
      expect((await get(port, '/nothing')).status).toBe(404);

      child.kill('SIGTERM');
      const result = await done;
      expect(result.code, result.stderr).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  }, 60_000);

  it('/healthz fails when an object lags more than --max-lag-minutes', async () => {
    const port = await freePort();
    const args = ['schedule', '--cron', '*/2 * * * * *', '--objects', 'Account', '--metrics-port', String(port)];
    const { child, done } = startCli(
      [...args, '--metrics-host', '127.0.0.1', '--max-lag-minutes', '1'],
      emulatorEnv(emulator, db.url),
    );
    try {
      const m = await scrapeUntil(
        port,
        (e) => e.value('sfsync_lag_seconds', { object: 'Account' }) !== undefined,
        'lag',
      );
      expect(m.value('sfsync_lag_seconds', { object: 'Account' })).toBeGreaterThan(60);
      expect(m.value('sfsync_healthy')).toBe(0);
      const health = await get(port, '/healthz');
      expect(health.status).toBe(503);
      expect(health.body).toMatch(/^Account: lag \d+ s is over 60 s$/m);
      child.kill('SIGTERM');
      expect((await done).code).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  }, 60_000);
});
