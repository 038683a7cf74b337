import { describe, expect, it } from 'vitest';
import { maxLagSeconds } from '../../cli/schedule.ts';
import { createScheduleMetrics } from '../../pipelines/runtime/metrics.ts';
import type { RunSummary } from '../../pipelines/sync/syncObject.ts';

const summary = (over: Partial<RunSummary>): RunSummary => ({
  object: 'Account',
  mode: 'incremental',
  via: 'rest',
  status: 'succeeded',
  rowsFetched: 3,
  rowsInserted: 1,
  rowsUpdated: 2,
  rowsDeleted: 0,
  ms: 1500,
  watermark: new Date().toISOString(),
  ...over,
});

describe('schedule health threshold', () => {
  it('defaults to a day plus the time between two ticks', () => {
    const now = new Date('2026-03-10T12:00:00Z');
    expect(maxLagSeconds({}, [{ cron: '0 2 * * *', timezone: 'UTC' }], now)).toBe(2 * 86_400);
    expect(maxLagSeconds({}, [{ cron: '*/15 * * * *' }, { cron: '0 * * * *' }], now)).toBe(86_400 + 3600);
    expect(maxLagSeconds({ maxLagMinutes: '90' }, [{ cron: '0 2 * * *' }], now)).toBe(5400);
    expect(() => maxLagSeconds({ maxLagMinutes: 'soon' }, [], now)).toThrow(/--max-lag-minutes/);
  });
});

describe('schedule metrics', () => {
  it('is healthy until a last run fails or a watermark is older than the threshold', async () => {
    const m = createScheduleMetrics({ maxLagSeconds: 3600 });
    expect(m.health()).toEqual({ ok: true, problems: [] });
    m.recordRun([summary({})]);
    expect(m.health().ok).toBe(true);
    m.recordRun([summary({ status: 'failed', error: new Error('boom'), watermark: null })]);
    expect(m.health()).toEqual({ ok: false, problems: ['Account: last run failed: boom'] });
    m.recordRun([summary({ watermark: new Date(Date.now() - 7200_000).toISOString() })]);
    expect(m.health().problems).toEqual([expect.stringMatching(/^Account: lag 720\d s is over 3600 s$/)]);
    const text = await m.registry.metrics();
    expect(text).toMatch(/^sfsync_runs_total\{org="default",object="Account",status="failed"\} 1$/m);
    expect(text).toMatch(/^sfsync_rows_total\{org="default",object="Account",kind="updated"\} 6$/m);
  });

  it('keeps each org apart: its own series, and /healthz names the org', async () => {
    const m = createScheduleMetrics({ maxLagSeconds: 3600 });
    m.recordRun([summary({})], 'emea');
    m.recordRun([summary({ status: 'failed', error: new Error('budget'), watermark: null })], 'us');
    m.recordApi(12, { used: 100, max: 1000 }, 'us');
    expect(m.health()).toEqual({ ok: false, problems: ['org us: Account: last run failed: budget'] });
    const text = await m.registry.metrics();
    expect(text).toMatch(/^sfsync_runs_total\{org="emea",object="Account",status="succeeded"\} 1$/m);
    expect(text).toMatch(/^sfsync_runs_total\{org="us",object="Account",status="failed"\} 1$/m);
    expect(text).toMatch(/^sfsync_api_daily_remaining\{org="us"\} 900$/m);
    expect(text).toMatch(/^sfsync_lag_seconds\{org="emea",object="Account"\} \d/m);
    expect(text).not.toMatch(/^sfsync_lag_seconds\{org="us"/m);
  });
});
