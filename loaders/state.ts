// All sfsync.* SQL: watermarks (moved only forward, in the transaction of the rows they cover) and run history.
import type pg from 'pg';

/** Instants leave the database as ISO 8601 UTC with milliseconds, whatever the session TimeZone. */
const iso = (expr: string) => `to_char(${expr} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** Which tables a watermark or run belongs to: the data schema and the sObject name. */
export interface ObjectKey {
  schema: string;
  object: string;
}

export interface Watermark {
  cursorField: string;
  /** ISO 8601 UTC, e.g. 2024-01-02T03:04:05.000Z */
  value: string;
}

export type RunStatus = 'running' | 'succeeded' | 'failed';

export interface RunOutcome {
  status: Exclude<RunStatus, 'running'>;
  rowsFetched?: number;
  rowsInserted?: number;
  rowsUpdated?: number;
  rowsDeleted?: number;
  bytes?: number;
  apiCalls?: number;
  bulkJobIds?: readonly string[];
  error?: string | null;
  windowFrom?: string | null;
  windowTo?: string | null;
}

export interface RunRecord {
  id: number;
  object: string;
  mode: string;
  status: RunStatus;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  rowsFetched: number | null;
  rowsInserted: number | null;
  rowsUpdated: number | null;
  rowsDeleted: number | null;
  bytes: number | null;
  apiCalls: number | null;
  bulkJobIds: string[];
  windowFrom: string | null;
  windowTo: string | null;
  error: string | null;
}

export interface ObjectStatus {
  object: string;
  watermark: Watermark | null;
  lastRun: RunRecord | null;
}

export async function getWatermark(client: pg.ClientBase, key: ObjectKey): Promise<Watermark | null> {
  const { rows } = await client.query<Watermark>(
    `SELECT cursor_field AS "cursorField", ${iso('watermark')} AS value
     FROM sfsync.watermarks WHERE target_schema = $1 AND object = $2`,
    [key.schema, key.object],
  );
  return rows[0] ?? null;
}

/** Upsert that never moves backwards on the same cursor field; a different cursor field replaces the row. */
export async function advanceWatermark(
  client: pg.ClientBase,
  key: ObjectKey,
  cursorField: string,
  value: string,
): Promise<void> {
  await client.query(
    `INSERT INTO sfsync.watermarks AS w (target_schema, object, cursor_field, watermark, updated_at)
     VALUES ($1, $2, $3, $4, now())
     ON CONFLICT (target_schema, object) DO UPDATE SET
       watermark = CASE WHEN w.cursor_field = EXCLUDED.cursor_field THEN GREATEST(w.watermark, EXCLUDED.watermark)
                        ELSE EXCLUDED.watermark END,
       cursor_field = EXCLUDED.cursor_field,
       updated_at = now()`,
    [key.schema, key.object, cursorField, value],
  );
}

export async function startRun(client: pg.ClientBase, run: ObjectKey & { mode: string }): Promise<number> {
  const { rows } = await client.query<{ id: string }>(
    "INSERT INTO sfsync.runs (target_schema, object, mode, status) VALUES ($1, $2, $3, 'running') RETURNING id",
    [run.schema, run.object, run.mode],
  );
  return Number(rows[0]!.id);
}

/**
 * Runs of the object left `running` by a process that died (kill -9, a lost machine) are closed as failed. Call it
 * holding the object's lock, before the run's own startRun: every run but a backfill's holds that lock from start to
 * end (a backfill takes it per window), so no live process can own one of these. Returns how many were closed.
 */
export async function closeAbandonedRuns(client: pg.ClientBase, key: ObjectKey): Promise<number> {
  const { rowCount } = await client.query(
    `UPDATE sfsync.runs SET status = 'failed', finished_at = clock_timestamp(),
       error = 'abandoned: the process running it stopped before it finished (closed by the next run)'
     WHERE target_schema = $1 AND object = $2 AND status = 'running' AND mode <> 'backfill'`,
    [key.schema, key.object],
  );
  return rowCount ?? 0;
}

/** Every object (or `pipeline:<table>` key) that has run in the schema. */
export async function objectsRun(client: pg.ClientBase, schema: string): Promise<string[]> {
  const { rows } = await client.query<{ object: string }>(
    'SELECT DISTINCT object FROM sfsync.runs WHERE target_schema = $1',
    [schema],
  );
  return rows.map((r) => r.object);
}

/** Omitted counters stay as they are (NULL unless set earlier). */
export async function finishRun(client: pg.ClientBase, runId: number, outcome: RunOutcome): Promise<void> {
  await writeRun(client, runId, outcome, true);
}

/** A committed part of a run still going (one cursor window of a large load): counters, status stays 'running'. */
export async function updateRun(
  client: pg.ClientBase,
  runId: number,
  outcome: Omit<RunOutcome, 'status'>,
): Promise<void> {
  await writeRun(client, runId, { ...outcome, status: 'running' }, false);
}

async function writeRun(
  client: pg.ClientBase,
  runId: number,
  outcome: Omit<RunOutcome, 'status'> & { status: RunStatus },
  finished: boolean,
): Promise<void> {
  await client.query(
    `UPDATE sfsync.runs SET status = $2${finished ? ', finished_at = clock_timestamp()' : ''},
       rows_inserted = COALESCE($3, rows_inserted), rows_updated = COALESCE($4, rows_updated),
       rows_deleted = COALESCE($5, rows_deleted), bytes = COALESCE($6, bytes), api_calls = COALESCE($7, api_calls),
       bulk_job_ids = COALESCE($8, bulk_job_ids), error = $9,
       window_from = COALESCE($10, window_from), window_to = COALESCE($11, window_to),
       rows_fetched = COALESCE($12, rows_fetched)
     WHERE id = $1`,
    [
      runId,
      outcome.status,
      outcome.rowsInserted ?? null,
      outcome.rowsUpdated ?? null,
      outcome.rowsDeleted ?? null,
      outcome.bytes ?? null,
      outcome.apiCalls ?? null,
      outcome.bulkJobIds ?? null,
      outcome.error ?? null,
      outcome.windowFrom ?? null,
      outcome.windowTo ?? null,
      outcome.rowsFetched ?? null,
    ],
  );
}

const RUN_COLUMNS = `r.id::float8 AS id, r.object, r.mode, r.status,
  ${iso('r.started_at')} AS "startedAt", ${iso('r.finished_at')} AS "finishedAt",
  (extract(epoch FROM r.finished_at - r.started_at) * 1000)::float8 AS "durationMs",
  r.rows_fetched::float8 AS "rowsFetched", r.rows_inserted::float8 AS "rowsInserted",
  r.rows_updated::float8 AS "rowsUpdated",
  r.rows_deleted::float8 AS "rowsDeleted", r.bytes::float8 AS bytes, r.api_calls AS "apiCalls",
  COALESCE(r.bulk_job_ids, '{}') AS "bulkJobIds", ${iso('r.window_from')} AS "windowFrom",
  ${iso('r.window_to')} AS "windowTo", r.error`;

/** Newest first. */
export async function listRuns(
  client: pg.ClientBase,
  opts: { schema: string; object?: string; limit: number },
): Promise<RunRecord[]> {
  const { rows } = await client.query<RunRecord>(
    `SELECT ${RUN_COLUMNS} FROM sfsync.runs r
     WHERE r.target_schema = $1 AND ($2::text IS NULL OR r.object = $2) ORDER BY r.id DESC LIMIT $3`,
    [opts.schema, opts.object ?? null, opts.limit],
  );
  return rows;
}

/** One entry per object that has a watermark or a run, ordered by object name. */
export async function readStatus(client: pg.ClientBase, schema: string): Promise<ObjectStatus[]> {
  const { rows } = await client.query<{
    object: string;
    cursorField: string | null;
    value: string | null;
    run: RunRecord | null;
  }>(
    `WITH last AS (SELECT DISTINCT ON (r.object) ${RUN_COLUMNS} FROM sfsync.runs r
                   WHERE r.target_schema = $1 ORDER BY r.object, r.id DESC),
          w AS (SELECT * FROM sfsync.watermarks WHERE target_schema = $1)
     SELECT COALESCE(w.object, last.object) AS object, w.cursor_field AS "cursorField", ${iso('w.watermark')} AS value,
       CASE WHEN last.id IS NULL THEN NULL ELSE to_jsonb(last) END AS run
     FROM w FULL JOIN last ON last.object = w.object
     ORDER BY 1`,
    [schema],
  );
  return rows.map((r) => ({
    object: r.object,
    watermark: r.cursorField && r.value ? { cursorField: r.cursorField, value: r.value } : null,
    lastRun: r.run,
  }));
}

/** The run's final API call count, written once every call of the object (job delete included) is made. */
export async function recordApiCalls(client: pg.ClientBase, runId: number, calls: number): Promise<void> {
  await client.query('UPDATE sfsync.runs SET api_calls = $2 WHERE id = $1', [runId, calls]);
}

/** When each object's latest successful run finished (ISO 8601), for the schedule's metrics. */
export async function lastSuccesses(client: pg.ClientBase, schema: string): Promise<Map<string, string>> {
  const { rows } = await client.query<{ object: string; at: string }>(
    `SELECT object, ${iso('max(finished_at)')} AS at FROM sfsync.runs
     WHERE target_schema = $1 AND status = 'succeeded' GROUP BY object`,
    [schema],
  );
  return new Map(rows.map((r) => [r.object, r.at]));
}
