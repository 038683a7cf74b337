// REST deltas are merged page by page while the next page and getDeleted are in flight (pipelines/sync/commitLoad.ts
// mergePages, extractors/rest/query.ts prefetch, syncObject's getDeleted): still one transaction, so a failure on a
// later page or in getDeleted leaves every row and the watermark as they were, and the next run loads it all.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator, type FaultSpec } from '../../emulator/index.ts';
import type { RunSummary } from '../../pipelines/sync/syncObject.ts';
import { useTestDatabase } from '../support/db.ts';
import { emulatorEnv } from '../support/emulatorEnv.ts';
import { orgRecords } from '../support/org.ts';
import { syncConfig, syncInProcess } from '../support/sync.ts';

const db = useTestDatabase();
let emulator: Emulator;
let client: pg.Client;

/** One sync of Account into `schema`: its summary. */
async function syncAccount(schema: string): Promise<RunSummary> {
  const [summary] = await syncInProcess(
    syncConfig(emulatorEnv(emulator, db.url, { SFSYNC_SCHEMA: schema }), ['Account']),
  );
  return summary!;
}

/** Everything a failed run must not change: the rows (hashed), the watermark, the deleted-check mark. */
async function snapshot(schema: string): Promise<unknown> {
  const { rows } = await client.query(
    `SELECT (SELECT md5(string_agg(t::text, '' ORDER BY id)) FROM "${schema}".account t) AS rows,
            (SELECT watermark::text FROM sfsync.watermarks
             WHERE target_schema = $1 AND object = 'Account') AS watermark`,
    [schema],
  );
  return rows[0];
}

function touch(n: number, tag: string): string[] {
  const live = orgRecords(emulator.store, 'Account', { includeDeleted: false }).slice(0, n);
  for (const rec of live) emulator.store.update(rec.Id, { Name: `${tag} ${rec.Id}` });
  return live.map((r) => r.Id);
}

async function namesTagged(schema: string, tag: string): Promise<number> {
  const { rows } = await client.query(`SELECT count(*)::int AS n FROM "${schema}".account WHERE name LIKE $1`, [
    `${tag} %`,
  ]);
  return rows[0].n;
}

const fault = (spec: FaultSpec) => emulator.admin.addFault(spec);

describe('REST deltas merged page by page', () => {
  beforeAll(async () => {
    emulator = await createEmulator({ port: 0, accounts: 5_000, seed: 23 });
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await emulator?.close();
  });

  it('loads a delta of three pages (2,000 + 2,000 + 300), each merged as it arrives', async () => {
    expect((await syncAccount('rp_ok')).status).toBe('succeeded');
    touch(4_300, 'Paged');
    emulator.admin.clearRequestLog();
    const s = await syncAccount('rp_ok');
    expect(s).toMatchObject({
      status: 'succeeded',
      mode: 'incremental',
      via: 'rest',
      rowsInserted: 0,
      rowsUpdated: 4_300,
    });
    // The overlap (docs/salesforce.md#incremental-cursor-windows) may re-read a record or two changed just before the
    // first run ended.
    expect(s.rowsFetched).toBeGreaterThanOrEqual(4_300);
    expect(await namesTagged('rp_ok', 'Paged')).toBe(4_300);
    const pages = emulator.admin
      .requestLog()
      .filter((e) => /\/queryAll\?q=SELECT%20Id|\/query\/[^/?]+-\d+$/.test(e.path));
    expect(pages).toHaveLength(3);
  });

  it.each<[string, string, FaultSpec]>([
    [
      'the last page is refused after two pages were merged',
      'INVALID_QUERY_LOCATOR',
      {
        route: /GET .*\/query\/[^/?]+-4000$/,
        kind: 'status',
        status: 400,
        errorCode: 'INVALID_QUERY_LOCATOR',
        message: 'invalid query locator',
      },
    ],
    [
      // A getDeleted that refuses (4xx) means "reconcile instead", not a failure (lib/errorActions.ts); an answer
      // that is no getDeleted result still fails the object.
      'getDeleted answers something that is not a getDeleted result while the pages load',
      'deletedRecords',
      {
        route: /GET .*\/sobjects\/Account\/deleted\//,
        kind: 'status',
        status: 200,
        errorCode: 'NOT_A_RESULT',
        message: 'not today',
      },
    ],
  ])('rolls back the whole delta when %s; the next run loads it', async (_why, errorCode, spec) => {
    const schema = `rp_${errorCode.toLowerCase()}`;
    expect((await syncAccount(schema)).status).toBe('succeeded');
    const tag = `Retry ${schema}`;
    touch(4_300, tag);
    const before = await snapshot(schema);
    fault(spec);
    const failed = await syncAccount(schema);
    expect(failed.status).toBe('failed');
    expect(String(failed.error)).toMatch(new RegExp(errorCode));
    expect(emulator.admin.faults()).toEqual([]);
    expect(await snapshot(schema)).toEqual(before);

    const s = await syncAccount(schema);
    expect(s).toMatchObject({ status: 'succeeded', via: 'rest', rowsUpdated: 4_300 });
    expect(await namesTagged(schema, tag)).toBe(4_300);
  });
});
