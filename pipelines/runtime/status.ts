// collectStatus: per object, the watermark and how far behind it is, the last run, the row count,
// the next scheduled run.
import type pg from 'pg';
import type { ScheduleGroup } from '../../lib/config.ts';
import { qualified, withClient } from '../../loaders/postgres.ts';
import { tableNameOf } from '../../schemas/pgNames.ts';
import { listSchemaEvents, type SchemaEventRecord } from '../../loaders/objectState.ts';
import { readStatus, type ObjectStatus } from '../../loaders/state.ts';
import { nextScheduledRun } from './nextScheduledRun.ts';

export interface StatusEntry extends ObjectStatus {
  table: string;
  rows: number | null;
  /** Seconds from the watermark to now: changes made in Salesforce since then are not in the warehouse yet. */
  lagSeconds: number | null;
  /** The latest schema drift events of the object (new, removed or retyped fields), newest first. */
  schemaEvents: SchemaEventRecord[];
  /** When `sfsync schedule` with this config would next sync the object (ISO 8601); null when no group syncs it. */
  nextRun: string | null;
}

/**
 * The schedule `sfsync schedule` would run with this config: its groups, and the objects a group without a list syncs.
 */
export interface SchedulePlan {
  groups: readonly ScheduleGroup[];
  objects: readonly string[];
}

const EVENTS_SHOWN = 5;

async function rowCount(client: pg.PoolClient, schema: string, object: string): Promise<number | null> {
  const table = tableNameOf(object);
  const { rows } = await client.query('SELECT to_regclass($1) IS NOT NULL AS present', [qualified(schema, table)]);
  if (!rows[0]?.present) return null;
  const result = await client.query(`SELECT count(*)::float8 AS n FROM ${qualified(schema, table)}`);
  return result.rows[0].n as number;
}

export function lagSeconds(watermark: string | undefined, now: Date): number | null {
  if (!watermark) return null;
  return Math.max(0, Math.round((now.getTime() - Date.parse(watermark)) / 1000));
}

export async function collectStatus(
  pool: pg.Pool,
  schema: string,
  now = new Date(),
  schedule?: SchedulePlan,
): Promise<StatusEntry[]> {
  return withClient(pool, async (client) => {
    const entries = await readStatus(client, schema);
    const out: StatusEntry[] = [];
    for (const e of entries) {
      const rows = await rowCount(client, schema, e.object);
      const schemaEvents = await listSchemaEvents(client, { schema, object: e.object, limit: EVENTS_SHOWN });
      const next = schedule ? nextScheduledRun(e.object, schedule.groups, schedule.objects, now) : null;
      out.push({
        ...e,
        table: `${schema}.${tableNameOf(e.object)}`,
        rows,
        lagSeconds: lagSeconds(e.watermark?.value, now),
        schemaEvents,
        nextRun: next?.toISOString() ?? null,
      });
    }
    return out;
  });
}
