// Staging tables: where a delta lands before merge.ts upserts it into the target.
import type pg from 'pg';
import { pgIdentifier } from '../schemas/pgNames.ts';
import { qualified, quoteIdent } from './postgres.ts';

/** The schema to pass with a stage name to copyCsv/mergeStage: the session's own temp schema. */
export const STAGE_SCHEMA = 'pg_temp';

export function stageName(table: string): string {
  return pgIdentifier(`sfsync_stage_${table}`);
}

/**
 * Creates an empty TEMP copy of the target's columns and returns its name (in schema pg_temp).
 * Decision: ON COMMIT DROP, so the caller must be inside a transaction (BEGIN -> createStage -> copy -> merge ->
 * COMMIT). COMMIT and ROLLBACK both remove it, and a crash takes the session (and the table) with it: nothing to
 * clean up. TEMP tables skip WAL, which is what makes staging cheap. No indexes: DISTINCT ON sorts anyway.
 */
export async function createStage(client: pg.ClientBase, schema: string, table: string): Promise<string> {
  const name = stageName(table);
  // Two loads of one object in one transaction reuse the name; start from an empty stage either way.
  await client.query(`DROP TABLE IF EXISTS ${qualified(STAGE_SCHEMA, name)}`);
  await client.query(
    `CREATE TEMP TABLE ${quoteIdent(name)} (LIKE ${qualified(schema, table)} INCLUDING DEFAULTS) ON COMMIT DROP`,
  );
  return name;
}
