// One loader per object at a time, across processes and machines: a session-level Postgres advisory lock.
import type pg from 'pg';
import { LockedError } from '../lib/errors.ts';

export async function withObjectLock<T>(client: pg.ClientBase, schema: string, object: string, fn: () => Promise<T>): Promise<T> {
  const key = `sfsync:${schema}.${object}`;
  const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [key]);
  if (!rows[0]?.ok) throw new LockedError(`another sfsync process is loading ${object} into schema ${schema}; skipped`);
  try {
    return await fn();
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [key]).catch(() => {});
  }
}
