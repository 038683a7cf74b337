// All sfsync.backfills / sfsync.backfill_windows SQL: which backfill a command continues and which windows are done.
import type pg from 'pg';

/** Instants leave the database as ISO 8601 UTC with milliseconds, whatever the session TimeZone. */
const iso = (expr: string) => `to_char(${expr} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** What makes two backfill commands the same backfill. `until` omitted = whatever the unfinished one used. */
export interface BackfillKey {
  schema: string;
  object: string;
  field: string;
  since: string;
  until?: string;
  windowSpec: string;
}

export type WindowStatus = 'pending' | 'running' | 'done' | 'failed';

export interface BackfillWindowRow {
  from: string;
  to: string;
  status: WindowStatus;
  bulkJobId: string | null;
}

export interface WindowCounts {
  fetched: number;
  inserted: number;
  updated: number;
}

/** The newest backfill with this key that has not finished every window, if any. */
export async function findUnfinishedBackfill(
  client: pg.ClientBase,
  key: BackfillKey,
): Promise<{ id: number; until: string } | null> {
  const { rows } = await client.query<{ id: number; until: string }>(
    `SELECT id::float8 AS id, ${iso('until')} AS until FROM sfsync.backfills
     WHERE target_schema = $1 AND object = $2 AND field = $3 AND since = $4 AND window_spec = $5
       AND ($6::timestamptz IS NULL OR until = $6) AND status <> 'succeeded'
     ORDER BY id DESC LIMIT 1`,
    [key.schema, key.object, key.field, key.since, key.windowSpec, key.until ?? null],
  );
  return rows[0] ?? null;
}

/** The backfill row and all its windows (pending), in one statement so no backfill exists without its windows. */
export async function createBackfill(
  client: pg.ClientBase,
  key: BackfillKey & { until: string },
  windows: readonly { from: string; to: string }[],
): Promise<number> {
  const { rows } = await client.query<{ id: number }>(
    `WITH b AS (
       INSERT INTO sfsync.backfills (target_schema, object, field, since, until, window_spec, status)
       VALUES ($1, $2, $3, $4, $5, $6, 'running') RETURNING id
     ), w AS (
       INSERT INTO sfsync.backfill_windows (backfill_id, window_from, window_to)
       SELECT b.id, f, t FROM b, unnest($7::timestamptz[], $8::timestamptz[]) AS u(f, t)
     )
     SELECT id::float8 AS id FROM b`,
    [
      key.schema,
      key.object,
      key.field,
      key.since,
      key.until,
      key.windowSpec,
      windows.map((w) => w.from),
      windows.map((w) => w.to),
    ],
  );
  return rows[0]!.id;
}

export async function listWindows(client: pg.ClientBase, backfillId: number): Promise<BackfillWindowRow[]> {
  const { rows } = await client.query<BackfillWindowRow>(
    `SELECT ${iso('window_from')} AS "from", ${iso('window_to')} AS "to", status, bulk_job_id AS "bulkJobId"
     FROM sfsync.backfill_windows WHERE backfill_id = $1 ORDER BY window_from`,
    [backfillId],
  );
  return rows;
}

/**
 * Windows left 'running' by a process that died (kill -9, lost machine): their runs are marked failed and the
 * windows pending again. Call it only while holding the backfill lock, so no live process owns them.
 */
export async function releaseAbandonedWindows(
  client: pg.ClientBase,
  backfillId: number,
  reason: string,
): Promise<number> {
  const { rowCount } = await client.query(
    `WITH w AS (
       UPDATE sfsync.backfill_windows SET status = 'pending'
       WHERE backfill_id = $1 AND status = 'running' RETURNING run_id
     )
     UPDATE sfsync.runs r SET status = 'failed', finished_at = clock_timestamp(), error = $2
     FROM w WHERE r.id = w.run_id AND r.status = 'running'`,
    [backfillId, reason],
  );
  return rowCount ?? 0;
}

export async function startWindow(
  client: pg.ClientBase,
  backfillId: number,
  from: string,
  runId: number,
): Promise<void> {
  await client.query(
    `UPDATE sfsync.backfill_windows SET status = 'running', run_id = $3, bulk_job_id = NULL, error = NULL
     WHERE backfill_id = $1 AND window_from = $2`,
    [backfillId, from, runId],
  );
}

/**
 * Recorded as soon as the job exists, so a window interrupted mid-job still says which job it started
 * (docs/salesforce.md#bulk-api-20-abort-and-delete).
 */
export async function setWindowJob(
  client: pg.ClientBase,
  backfillId: number,
  from: string,
  jobId: string,
): Promise<void> {
  await client.query(
    'UPDATE sfsync.backfill_windows SET bulk_job_id = $3 WHERE backfill_id = $1 AND window_from = $2',
    [backfillId, from, jobId],
  );
}

/** Inside the transaction that merged the window's rows. */
export async function finishWindow(
  client: pg.ClientBase,
  backfillId: number,
  from: string,
  counts: WindowCounts,
): Promise<void> {
  await client.query(
    `UPDATE sfsync.backfill_windows SET status = 'done', rows_fetched = $3, rows_inserted = $4, rows_updated = $5,
       error = NULL, finished_at = clock_timestamp()
     WHERE backfill_id = $1 AND window_from = $2`,
    [backfillId, from, counts.fetched, counts.inserted, counts.updated],
  );
}

export async function failWindow(
  client: pg.ClientBase,
  backfillId: number,
  from: string,
  error: string,
): Promise<void> {
  await client.query(
    "UPDATE sfsync.backfill_windows SET status = 'failed', error = $3 " +
      "WHERE backfill_id = $1 AND window_from = $2 AND status <> 'done'",
    [backfillId, from, error],
  );
}

/** succeeded once every window is done (and then never continued again); failed otherwise (a rerun continues it). */
export async function finishBackfill(client: pg.ClientBase, backfillId: number): Promise<'succeeded' | 'failed'> {
  const { rows } = await client.query<{ status: 'succeeded' | 'failed' }>(
    `UPDATE sfsync.backfills b SET
       status = CASE WHEN NOT EXISTS (SELECT 1 FROM sfsync.backfill_windows w
                                      WHERE w.backfill_id = b.id AND w.status <> 'done')
                     THEN 'succeeded' ELSE 'failed' END,
       finished_at = clock_timestamp()
     WHERE id = $1 RETURNING status`,
    [backfillId],
  );
  return rows[0]!.status;
}

/** A rerun continues an unfinished backfill: running again until its windows are all done. */
export async function resumeBackfill(client: pg.ClientBase, backfillId: number): Promise<void> {
  await client.query("UPDATE sfsync.backfills SET status = 'running', finished_at = NULL WHERE id = $1", [backfillId]);
}
