// sfsync.org_budgets: one row per org (keyed by its schema) that every `sfsync worker` reads before a job or window
// and writes when it reads /limits or finds the budget spent (pipelines/fleet/sharedBudget.ts).
import type pg from 'pg';

/** A /limits reading as extractors/limits.ts gives it: allowance name -> {max, remaining}. */
export type Limits = Record<string, { max: number; remaining: number }>;

export interface OrgBudgetRow {
  limits: Limits | null;
  /** Milliseconds since the limits were read (by any worker); null when never. */
  readAgoMs: number | null;
  stopped: string | null;
  /** Milliseconds since the stop was recorded; null when not stopped. */
  stoppedAgoMs: number | null;
}

/** Ages come from the database's clock, so that workers whose clocks differ agree. */
export async function readOrgBudget(client: pg.ClientBase | pg.Pool, schema: string): Promise<OrgBudgetRow | null> {
  const { rows } = await client.query<OrgBudgetRow>(
    `SELECT limits,
            (extract(epoch FROM clock_timestamp() - read_at) * 1000)::float8 AS "readAgoMs",
            stopped,
            (extract(epoch FROM clock_timestamp() - stopped_at) * 1000)::float8 AS "stoppedAgoMs"
     FROM sfsync.org_budgets WHERE schema = $1`,
    [schema],
  );
  return rows[0] ?? null;
}

export interface OrgKey {
  schema: string;
  org: string;
}

/** The database's clock (as text: microseconds kept), for saveReading's `startedAt`. */
export async function databaseNow(client: pg.ClientBase | pg.Pool): Promise<string> {
  const { rows } = await client.query<{ now: string }>('SELECT clock_timestamp()::text AS now');
  return rows[0]!.now;
}

/**
 * A fresh reading, begun at `startedAt` (databaseNow before /limits was asked); clears a stop recorded before then.
 * A stop another worker recorded while this reading was under way is newer than it, and stays.
 */
export async function saveReading(
  client: pg.ClientBase | pg.Pool,
  key: OrgKey,
  limits: Limits,
  startedAt: string,
): Promise<void> {
  await client.query(
    `INSERT INTO sfsync.org_budgets (schema, org, limits, read_at) VALUES ($1, $2, $3, clock_timestamp())
     ON CONFLICT (schema) DO UPDATE SET org = EXCLUDED.org, limits = EXCLUDED.limits, read_at = EXCLUDED.read_at,
       stopped = CASE WHEN org_budgets.stopped_at < $4::timestamptz THEN NULL ELSE org_budgets.stopped END,
       stopped_at = CASE WHEN org_budgets.stopped_at < $4::timestamptz THEN NULL ELSE org_budgets.stopped_at END`,
    [key.schema, key.org, JSON.stringify(limits), startedAt],
  );
}

/**
 * Nothing more starts for the org; the first reason recorded stays until a reading clears it, but the time is the
 * latest confirmation's, so that a stop found again counts as recent (trusted without reading /limits).
 */
export async function saveStop(client: pg.ClientBase | pg.Pool, key: OrgKey, reason: string): Promise<void> {
  await client.query(
    `INSERT INTO sfsync.org_budgets (schema, org, stopped, stopped_at) VALUES ($1, $2, $3, clock_timestamp())
     ON CONFLICT (schema) DO UPDATE SET stopped = COALESCE(org_budgets.stopped, EXCLUDED.stopped),
       stopped_at = EXCLUDED.stopped_at`,
    [key.schema, key.org, reason],
  );
}
