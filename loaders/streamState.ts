// sfsync.stream_state: per followed topic, the replay id of the last event applied (moved only in the transaction of
// the rows it produced, docs/salesforce.md#replay-ids) and the stream's connection status for `sfsync status`.
import type pg from 'pg';

export interface StreamKey {
  schema: string;
  topic: string;
}

export type StreamStatus = 'connected' | 'reconnecting' | 'catching-up' | 'stopped';

export interface StreamRecord {
  topic: string;
  object: string;
  /** ISO 8601 UTC, or null before the first event. */
  lastEventAt: string | null;
  appliedAt: string | null;
  eventsApplied: number;
  status: StreamStatus;
  statusAt: string;
  /** The status as written, and the process that wrote it still connected to PostgreSQL. */
  alive: boolean;
  error: string | null;
}

const iso = (expr: string) => `to_char(${expr} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

export async function getReplayId(client: pg.ClientBase, key: StreamKey): Promise<Buffer | null> {
  const { rows } = await client.query<{ replay_id: Buffer | null }>(
    'SELECT replay_id FROM sfsync.stream_state WHERE target_schema = $1 AND topic = $2',
    [key.schema, key.topic],
  );
  return rows[0]?.replay_id ?? null;
}

/**
 * In the caller's transaction, with the rows the events produced. A keepalive's latest replay id (no events, no
 * lastEventAt) moves only the replay id: the last event and when it was applied stay what they were.
 */
export async function saveReplayId(
  client: pg.ClientBase,
  key: StreamKey,
  object: string,
  progress: { replayId: Buffer; lastEventAt: Date | null; events: number },
): Promise<void> {
  await client.query(
    `INSERT INTO sfsync.stream_state AS s
       (target_schema, topic, object, replay_id, last_event_at, applied_at, events_applied)
     VALUES ($1, $2, $3, $4, $5, CASE WHEN $6::bigint > 0 THEN now() END, $6)
     ON CONFLICT (target_schema, topic) DO UPDATE SET replay_id = EXCLUDED.replay_id,
       last_event_at = GREATEST(s.last_event_at, EXCLUDED.last_event_at),
       applied_at = CASE WHEN EXCLUDED.events_applied > 0 THEN now() ELSE s.applied_at END,
       events_applied = s.events_applied + EXCLUDED.events_applied`,
    [key.schema, key.topic, object, progress.replayId, progress.lastEventAt, progress.events],
  );
}

/** The stream's connection status, and this session's backend as the one that holds it. */
export async function setStreamStatus(
  client: pg.ClientBase,
  key: StreamKey,
  object: string,
  status: StreamStatus,
  error: string | null = null,
): Promise<void> {
  await client.query(
    `INSERT INTO sfsync.stream_state AS s (target_schema, topic, object, status, status_at, backend_pid, error)
     VALUES ($1, $2, $3, $4, now(), pg_backend_pid(), $5)
     ON CONFLICT (target_schema, topic) DO UPDATE SET status = EXCLUDED.status, status_at = now(),
       backend_pid = EXCLUDED.backend_pid, error = EXCLUDED.error`,
    [key.schema, key.topic, object, status, error],
  );
}

export async function listStreams(client: pg.ClientBase, schema: string): Promise<StreamRecord[]> {
  const { rows } = await client.query<StreamRecord & { eventsApplied: string }>(
    `SELECT topic, object, ${iso('last_event_at')} AS "lastEventAt", ${iso('applied_at')} AS "appliedAt",
       events_applied AS "eventsApplied", status, ${iso('status_at')} AS "statusAt", error,
       (status <> 'stopped' AND EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = s.backend_pid)) AS alive
     FROM sfsync.stream_state s WHERE target_schema = $1 ORDER BY topic`,
    [schema],
  );
  return rows.map((r) => ({ ...r, eventsApplied: Number(r.eventsApplied) }));
}
