// One loader per object at a time, across processes and machines: a session-level Postgres advisory lock.
import type pg from 'pg';
import { LockedError } from '../../lib/errors.ts';
import { sleep } from '../../lib/retry.ts';
import type { RunContext } from './runContext.ts';

/**
 * Runs fn holding the session advisory lock on `key`. While another session holds it, `whenTaken` runs before the
 * next try: it throws to give up or returns to try again.
 */
async function withAdvisoryLock<T>(
  client: pg.ClientBase,
  key: string,
  whenTaken: () => Promise<void>,
  fn: () => Promise<T>,
): Promise<T> {
  for (;;) {
    const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [
      key,
    ]);
    if (rows[0]?.ok) break;
    await whenTaken();
  }
  try {
    return await fn();
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [key]).catch(() => {});
  }
}

const objectKey = (schema: string, object: string) => `sfsync:${schema}.${object}`;

/** The `whenTaken` of a lock that is not waited for. */
const giveUp = (message: string) => async (): Promise<never> => {
  throw new LockedError(message);
};

export async function withObjectLock<T>(
  client: pg.ClientBase,
  schema: string,
  object: string,
  fn: () => Promise<T>,
): Promise<T> {
  const taken = giveUp(`another sfsync process is loading ${object} into schema ${schema}; skipped`);
  return withAdvisoryLock(client, objectKey(schema, object), taken, fn);
}

/** How often a waiting loader asks for the lock again (a window's merge usually takes well under a second). */
const LOCK_POLL_MS = 250;

/**
 * Like withObjectLock, but waits for the lock instead of failing: a backfill commits its windows between the runs of
 * a concurrent `sync`. It polls pg_try_advisory_lock rather than blocking in pg_advisory_lock so that an abort
 * (SIGINT/SIGTERM) stops the wait at once, with no query to cancel.
 */
export async function withObjectLockWaiting<T>(
  client: pg.ClientBase,
  schema: string,
  object: string,
  signal: AbortSignal,
  fn: () => Promise<T>,
): Promise<T> {
  signal.throwIfAborted();
  return withAdvisoryLock(
    client,
    objectKey(schema, object),
    async () => {
      await sleep(LOCK_POLL_MS, signal);
      signal.throwIfAborted();
    },
    fn,
  );
}

/**
 * One backfill per object at a time (fails fast): a second `sfsync backfill` of the same object would load the same
 * windows twice and take the first one's unfinished windows for abandoned ones. Separate from the object lock,
 * which the backfill takes only per window.
 */
export async function withBackfillLock<T>(
  client: pg.ClientBase,
  schema: string,
  object: string,
  fn: () => Promise<T>,
): Promise<T> {
  const taken = giveUp(`another sfsync backfill of ${object} into schema ${schema} is running`);
  return withAdvisoryLock(client, `sfsync-backfill:${schema}.${object}`, taken, fn);
}

/**
 * One `sfsync stream` per topic and schema at a time (fails fast): two would apply the same events and race on the
 * stored replay id. Held for the stream's lifetime on a session of its own; the object lock is taken per batch.
 */
export async function withStreamLock<T>(
  client: pg.ClientBase,
  schema: string,
  topic: string,
  fn: () => Promise<T>,
): Promise<T> {
  const taken = giveUp(`another sfsync stream is following ${topic} into schema ${schema}`);
  return withAdvisoryLock(client, `sfsync-stream:${schema}.${topic}`, taken, fn);
}

/** Another process is loading the object -> skip it (LockedError) or, with config waitForLock, wait for it. */
export function lockObject<T>(
  ctx: RunContext,
  client: pg.ClientBase,
  object: string,
  fn: () => Promise<T>,
): Promise<T> {
  const { schema, waitForLock } = ctx.config;
  return waitForLock
    ? withObjectLockWaiting(client, schema, object, ctx.signal, fn)
    : withObjectLock(client, schema, object, fn);
}
