// sfsync.org_budgets against a real PostgreSQL: a stop confirmed again counts as recent, and a /limits reading
// clears only the stops recorded before it began (a worker's stop recorded while another reads /limits stays).
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseNow, readOrgBudget, saveReading, saveStop } from '../../loaders/orgBudget.ts';
import { migrate } from '../../migrations/index.ts';
import { useTestDatabase } from '../support/db.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const limits = { DailyApiRequests: { max: 15_000, remaining: 14_000 } };

describe('org budgets', () => {
  const db = useTestDatabase();
  let pool: pg.Pool;

  beforeAll(async () => {
    await migrate(db.url);
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
  });
  afterAll(async () => {
    await pool?.end();
  });

  it('keeps the first reason of a stop but the time of its latest confirmation', async () => {
    const key = { schema: 'salesforce_a', org: 'a' };
    await saveStop(pool, key, 'API budget: first');
    await sleep(400);
    await saveStop(pool, key, 'API budget: second');
    const row = await readOrgBudget(pool, key.schema);
    expect(row?.stopped).toBe('API budget: first');
    expect(row?.stoppedAgoMs).toBeLessThan(300);
  });

  it('clears a stop older than the reading, not one recorded while the reading was under way', async () => {
    const key = { schema: 'salesforce_b', org: 'b' };
    await saveStop(pool, key, 'API budget: old');
    await sleep(20);
    await saveReading(pool, key, limits, await databaseNow(pool));
    expect((await readOrgBudget(pool, key.schema))?.stopped).toBeNull();

    // Worker A begins a reading; worker B records a stop; A's (slow) reading is saved afterwards.
    const startedAt = await databaseNow(pool);
    await sleep(20);
    await saveStop(pool, key, 'API budget: REQUEST_LIMIT_EXCEEDED');
    await saveReading(pool, key, limits, startedAt);
    const row = await readOrgBudget(pool, key.schema);
    expect(row?.stopped).toBe('API budget: REQUEST_LIMIT_EXCEEDED');
    expect(row?.limits).toEqual(limits);
  });
});
