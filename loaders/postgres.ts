// Connections and SQL quoting: the one place that creates pg pools and turns names into SQL identifiers.
import pg from 'pg';
import { DataError } from '../lib/errors.ts';
// PostgreSQL keeps at most 63 bytes of an identifier and silently truncates the rest (NAMEDATALEN - 1): names are
// shortened before they get here (schemas/pgNames.ts), and quoteIdent refuses any that was not.
import { MAX_IDENTIFIER_BYTES } from '../schemas/pgNames.ts';

export function createPool(url: string, opts: { max?: number } = {}): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, application_name: 'sfsync', max: opts.max ?? 10 });
  // An idle client losing its connection emits 'error' on the pool; pg already discards that client, and the
  // next query reports the real problem, so this must not crash the process as an unhandled 'error' event.
  pool.on('error', () => {});
  return pool;
}

export async function withClient<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    return await fn(client);
  } catch (err) {
    // Only a server-reported error leaves the protocol in a known state; after anything else (an aborted COPY,
    // a dropped socket) the connection is discarded rather than handed to the next object.
    broken = err instanceof pg.DatabaseError ? undefined : err instanceof Error ? err : new Error(String(err));
    throw err;
  } finally {
    client.release(broken);
  }
}

/** BEGIN, fn, COMMIT; ROLLBACK on any error (the original error is rethrown, never a rollback failure). */
export async function withTransaction<T>(client: pg.ClientBase, fn: (client: pg.ClientBase) => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  }
}

/** Always quoted, so mixed case, reserved words and odd characters in Salesforce names stay exact. */
export function quoteIdent(name: string): string {
  if (name.length === 0 || name.includes('\0')) throw new DataError(`invalid SQL identifier ${JSON.stringify(name)}`);
  if (Buffer.byteLength(name) > MAX_IDENTIFIER_BYTES) {
    throw new DataError(`identifier ${JSON.stringify(name)} is longer than PostgreSQL's ${MAX_IDENTIFIER_BYTES} bytes`);
  }
  return '"' + name.replaceAll('"', '""') + '"';
}

export function qualified(schema: string, table: string): string {
  return quoteIdent(schema) + '.' + quoteIdent(table);
}

/** A string literal for statements that take no parameters (COMMENT ON); standard_conforming_strings is on. */
export function quoteLiteral(text: string): string {
  return "'" + text.replaceAll('\0', '').replaceAll("'", "''") + "'";
}
