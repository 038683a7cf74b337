import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advanceWatermark, finishRun, getWatermark, listRuns, readStatus, startRun } from '../../loaders/state.ts';
import { withTransaction } from '../../loaders/postgres.ts';
import { migrate } from '../../migrations/index.ts';
import { useTestDatabase } from '../support/db.ts';

const db = useTestDatabase();

describe('migrations', () => {
  it('can run concurrently and repeatedly', async () => {
    await Promise.all([migrate(db.url), migrate(db.url), migrate(db.url)]);
    await migrate(db.url);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'sfsync' ORDER BY table_name",
      );
      expect(rows.map((r) => r.table_name)).toEqual([
        'backfill_windows',
        'backfills',
        'knex_migrations',
        'knex_migrations_lock',
        'object_state',
        'org_budgets',
        'orgs',
        'picklist_values',
        'push_results',
        'push_runs',
        'runs',
        'schema_events',
        'stream_state',
        'watermarks',
      ]);
      const { rows: applied } = await client.query('SELECT name FROM sfsync.knex_migrations ORDER BY id');
      expect(applied).toEqual([
        { name: '0001_sfsync' },
        { name: '0002_completeness' },
        { name: '0003_backfill' },
        { name: '0004_push' },
        { name: '0005_picklist_values' },
        { name: '0006_stream' },
        { name: '0007_object_filter' },
        { name: '0008_orgs' },
        { name: '0009_org_budgets' },
      ]);
    } finally {
      await client.end();
    }
  });
});

describe('state', () => {
  let client: pg.Client;
  beforeAll(async () => {
    await migrate(db.url);
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  });
  afterAll(async () => client?.end());

  it('never moves a watermark backwards', async () => {
    const account = { schema: 's_forward', object: 'Account' };
    expect(await getWatermark(client, account)).toBeNull();
    await advanceWatermark(client, account, 'SystemModstamp', '2024-05-01T10:00:00.123Z');
    await advanceWatermark(client, account, 'SystemModstamp', '2024-04-01T00:00:00.000Z');
    expect(await getWatermark(client, account)).toEqual({
      cursorField: 'SystemModstamp',
      value: '2024-05-01T10:00:00.123Z',
    });
    await advanceWatermark(client, account, 'SystemModstamp', '2024-05-02T00:00:00+02:00');
    expect(await getWatermark(client, account)).toEqual({
      cursorField: 'SystemModstamp',
      value: '2024-05-01T22:00:00.000Z',
    });
  });

  it('replaces the watermark when the cursor field changes, even with an earlier value', async () => {
    const lead = { schema: 's_cursor', object: 'Lead' };
    await advanceWatermark(client, lead, 'SystemModstamp', '2024-05-01T00:00:00.000Z');
    await advanceWatermark(client, lead, 'LastModifiedDate', '2024-01-01T00:00:00.000Z');
    expect(await getWatermark(client, lead)).toEqual({
      cursorField: 'LastModifiedDate',
      value: '2024-01-01T00:00:00.000Z',
    });
    await advanceWatermark(client, lead, 'SystemModstamp', '2023-06-01T00:00:00.000Z');
    expect(await getWatermark(client, lead)).toEqual({
      cursorField: 'SystemModstamp',
      value: '2023-06-01T00:00:00.000Z',
    });
  });

  it('a rolled-back transaction leaves the previous watermark', async () => {
    const target = { schema: 's_rollback', object: 'Case' };
    await advanceWatermark(client, target, 'SystemModstamp', '2024-01-01T00:00:00.000Z');
    let inside: string | undefined;
    await expect(
      withTransaction(client, async () => {
        await advanceWatermark(client, target, 'SystemModstamp', '2025-01-01T00:00:00.000Z');
        inside = (await getWatermark(client, target))?.value;
        throw new Error('crash before commit');
      }),
    ).rejects.toThrow('crash before commit');
    // The advance did happen inside the transaction: the rollback is what undid it.
    expect(inside).toBe('2025-01-01T00:00:00.000Z');
    expect(await getWatermark(client, target)).toEqual({
      cursorField: 'SystemModstamp',
      value: '2024-01-01T00:00:00.000Z',
    });
    // The connection is out of the transaction: the next write commits on its own.
    await advanceWatermark(client, target, 'SystemModstamp', '2024-02-01T00:00:00.000Z');
    const other = new pg.Client({ connectionString: db.url });
    await other.connect();
    try {
      expect((await getWatermark(other, target))?.value).toBe('2024-02-01T00:00:00.000Z');
    } finally {
      await other.end();
    }
  });

  it('records runs and reports status per object', async () => {
    const S = 's_runs';
    // An object with a watermark and no run yet.
    await advanceWatermark(client, { schema: S, object: 'Account' }, 'SystemModstamp', '2024-05-01T00:00:00.000Z');
    const failed = await startRun(client, { schema: S, object: 'Contact', mode: 'initial' });
    await finishRun(client, failed, { status: 'failed', error: 'boom' });
    const ok = await startRun(client, { schema: S, object: 'Contact', mode: 'incremental' });
    expect(ok).toBeGreaterThan(failed);
    await finishRun(client, ok, {
      status: 'succeeded',
      rowsInserted: 5,
      rowsUpdated: 2,
      bulkJobIds: ['750x'],
      windowFrom: '2024-01-01T00:00:00.000Z',
    });
    const running = await startRun(client, { schema: S, object: 'Opportunity', mode: 'initial' });

    const runs = await listRuns(client, { schema: S, object: 'Contact', limit: 10 });
    expect(runs.map((r) => [r.id, r.status, r.error])).toEqual([
      [ok, 'succeeded', null],
      [failed, 'failed', 'boom'],
    ]);
    expect(runs[0]).toMatchObject({
      mode: 'incremental',
      rowsInserted: 5,
      rowsUpdated: 2,
      rowsDeleted: null,
      bulkJobIds: ['750x'],
      windowFrom: '2024-01-01T00:00:00.000Z',
    });
    expect(runs[0]!.durationMs).toBeGreaterThanOrEqual(0);
    expect(runs[0]!.startedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(await listRuns(client, { schema: S, limit: 1 })).toHaveLength(1);

    const status = await readStatus(client, S);
    const byObject = Object.fromEntries(status.map((s) => [s.object, s]));
    expect(byObject.Contact?.lastRun).toMatchObject({ id: ok, status: 'succeeded', rowsInserted: 5 });
    expect(byObject.Contact?.watermark).toBeNull();
    expect(byObject.Opportunity?.lastRun).toMatchObject({
      id: running,
      status: 'running',
      finishedAt: null,
      durationMs: null,
    });
    expect(byObject.Account).toMatchObject({
      watermark: { cursorField: 'SystemModstamp', value: '2024-05-01T00:00:00.000Z' },
      lastRun: null,
    });
    expect(Object.keys(byObject).sort()).toEqual(['Account', 'Contact', 'Opportunity']);
  });
});
