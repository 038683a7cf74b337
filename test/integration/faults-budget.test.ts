// The API budget guard, driven by the emulator's API usage counters (Sforce-Limit-Info, /limits),
// in-process and through the CLI (exit code 4 and a last line naming the limit).
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/index.ts';
import type { Config } from '../../lib/config.ts';
import { BudgetError } from '../../lib/errors.ts';
import { lastLine, runCli } from '../support/cli.ts';
import { useTestDatabase } from '../support/db.ts';
import { emulatorEnv } from '../support/emulatorEnv.ts';
import { syncConfig, syncInProcess } from '../support/sync.ts';

const db = useTestDatabase();
let emulator: Emulator;
let client: pg.Client;
const DAILY = 15_000;

/** The budget settings are optional Config fields until lib/config.ts reads SFSYNC_MAX_*_API_SHARE. */
function config(
  schema: string,
  objects: string[],
  shares: { maxOrgApiShare?: number; maxRunApiShare?: number } = {},
): Config {
  const base = syncConfig(emulatorEnv(emulator, db.url, { SFSYNC_SCHEMA: schema, SFSYNC_CONCURRENCY: '1' }), objects);
  return { ...base, ...shares } as Config;
}

describe('API budget guard', () => {
  beforeAll(async () => {
    emulator = await createEmulator({ port: 0, accounts: 60, seed: 5, dailyApiLimit: DAILY });
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  });
  afterEach(() => {
    emulator.admin.clearFaults();
    emulator.admin.setApiUsage(0, DAILY);
  });
  afterAll(async () => {
    await client?.end();
    await emulator?.close();
  });

  it('starts no object when the org already uses 80% of its daily API allowance, and says which limit', async () => {
    emulator.admin.setApiUsage(Math.ceil(DAILY * 0.8) + 1, DAILY);
    const summaries = await syncInProcess(config('borg', ['Account', 'Contact']));
    expect(summaries.map((s) => s.status)).toEqual(['failed', 'failed']);
    for (const s of summaries) {
      expect(s.error).toBeInstanceOf(BudgetError);
      expect(String(s.error)).toMatch(
        /DailyApiRequests: 120\d\d of the org's 15000 in use, at or over the 80% allowed/,
      );
    }
    const { rows } = await client.query("SELECT count(*)::int AS n FROM sfsync.runs WHERE target_schema = 'borg'");
    expect(rows[0].n).toBe(0);
  });

  it("stops starting objects once the run spent its share; records each object's calls and Bulk jobs", async () => {
    const before = emulator.admin.counters();
    // 0.01% of 15,000 = 1.5 calls: the first object may start (nothing spent), the second may not.
    const summaries = await syncInProcess(
      config('brun', ['Account', 'Contact', 'Opportunity'], { maxRunApiShare: 0.0001 }),
    );
    expect(summaries.map((s) => s.status)).toEqual(['succeeded', 'failed', 'failed']);
    expect(String(summaries[1]?.error)).toMatch(
      /DailyApiRequests: this run spent \d+ of the org's 15000, at or over the 0.01% one run may use/,
    );
    expect(summaries[2]?.error).toBeInstanceOf(BudgetError);

    const after = emulator.admin.counters();
    const { rows } = await client.query(
      "SELECT object, api_calls, bulk_job_ids FROM sfsync.runs WHERE target_schema = 'brun'",
    );
    expect(rows).toHaveLength(1);
    expect(rows[0].object).toBe('Account');
    expect(rows[0].bulk_job_ids).toHaveLength(1);
    // Every call the emulator counted is either Account's (recorded) or one of the two /limits reads of the guard.
    expect(after.apiCalls - before.apiCalls).toBe(rows[0].api_calls + 2);
    expect(after.bulkQueryJobs - before.bulkQueryJobs).toBe(1);
  });

  it('never reports REQUEST_LIMIT_EXCEEDED as success, and starts nothing after it', async () => {
    emulator.admin.addFault({ route: /GET .*\/sobjects\/Account\/describe/, kind: 'requestLimit' });
    const summaries = await syncInProcess(config('blimit', ['Account', 'Contact']));
    expect(summaries.map((s) => s.status)).toEqual(['failed', 'failed']);
    expect(String(summaries[0]?.error)).toMatch(/REQUEST_LIMIT_EXCEEDED/);
    expect(String(summaries[1]?.error)).toMatch(/REQUEST_LIMIT_EXCEEDED/);
    expect(summaries[1]?.error).toBeInstanceOf(BudgetError);
  });

  it('exits 4 from the CLI with a last line naming the limit, and 4 when Salesforce refuses every call', async () => {
    emulator.admin.setApiUsage(DAILY - 100, DAILY);
    const guarded = await runCli(
      ['sync', '--objects', 'Account,Contact'],
      emulatorEnv(emulator, db.url, { SFSYNC_SCHEMA: 'bcli' }),
    );
    expect(guarded.code, guarded.stderr).toBe(4);
    expect(lastLine(guarded.stderr)).toMatch(
      new RegExp(
        /^sfsync: partial run: API budget: DailyApiRequests: 149\d\d of the org's 15000 in use/.source +
          /.*not started: Account, Contact$/.source,
      ),
    );
    expect(guarded.stdout).toMatch(/Account\s+NOT STARTED/);

    emulator.admin.setApiUsage(DAILY, DAILY);
    const refused = await runCli(
      ['sync', '--objects', 'Account'],
      emulatorEnv(emulator, db.url, { SFSYNC_SCHEMA: 'bcli' }),
    );
    expect(refused.code, refused.stderr).toBe(4);
    // The object list is checked against the org before any object starts, so the refusal may come there.
    expect(lastLine(refused.stderr)).toMatch(
      /^sfsync: (partial run: API budget: Salesforce answered |Salesforce 403 )REQUEST_LIMIT_EXCEEDED/,
    );
    const { rows } = await client.query(
      "SELECT count(*)::int AS n FROM sfsync.watermarks WHERE target_schema = 'bcli'",
    );
    expect(rows[0].n).toBe(0);
  });
});
