// migrate(url): applies the sfsync metadata migrations with knex over a static list (no directory globbing).
import type { Knex } from 'knex';
import pg from 'pg';
import * as m0001 from './0001_sfsync.ts';
import * as m0002 from './0002_completeness.ts';
import * as m0003 from './0003_backfill.ts';
import * as m0004 from './0004_push.ts';
import * as m0005 from './0005_picklist_values.ts';
import * as m0006 from './0006_stream.ts';
import * as m0007 from './0007_object_filter.ts';
import * as m0008 from './0008_orgs.ts';
import * as m0009 from './0009_org_budgets.ts';

export const SCHEMA = 'sfsync';

interface StaticMigration extends Knex.Migration {
  name: string;
}

/** In order. Works the same from .ts sources and from compiled dist/ because nothing is looked up on disk. */
const MIGRATIONS: readonly StaticMigration[] = [m0001, m0002, m0003, m0004, m0005, m0006, m0007, m0008, m0009];

const staticSource: Knex.MigrationSource<StaticMigration> = {
  getMigrations: async () => [...MIGRATIONS],
  getMigrationName: (m) => m.name,
  getMigration: async (m) => m,
};

/**
 * Safe to run repeatedly and from several processes at once. knex's own lock row makes a concurrent migrator
 * FAIL ("Migration table is already locked") rather than wait, and its bookkeeping tables can race on creation;
 * so migrators first queue on a session advisory lock, released by unlock or by the session ending on a crash.
 */
export async function migrate(databaseUrl: string): Promise<void> {
  const lock = new pg.Client({ connectionString: databaseUrl, application_name: 'sfsync' });
  await lock.connect();
  try {
    // Every command migrates first: when nothing is pending, one query answers and knex (~0.3 s to load) is skipped.
    if (await upToDate(lock)) return;
    await lock.query("SELECT pg_advisory_lock(hashtext('sfsync.migrate'))");
    await lock.query(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`);
    await runKnexMigrations(databaseUrl);
  } finally {
    await lock.end();
  }
}

async function upToDate(client: pg.Client): Promise<boolean> {
  const { rows } = await client.query<{ table: string | null }>(
    `SELECT to_regclass('${SCHEMA}.knex_migrations')::text AS table`,
  );
  if (!rows[0]?.table) return false;
  const applied = await client.query<{ name: string }>(`SELECT name FROM ${SCHEMA}.knex_migrations`);
  const names = new Set(applied.rows.map((r) => r.name));
  return MIGRATIONS.every((m) => names.has(m.name));
}

async function runKnexMigrations(databaseUrl: string): Promise<void> {
  const { default: knexFactory } = await import('knex');
  const knex = knexFactory({ client: 'pg', connection: { connectionString: databaseUrl, application_name: 'sfsync' } });
  try {
    await knex.migrate.latest({
      migrationSource: staticSource as Knex.MigrationSource<unknown>,
      schemaName: SCHEMA,
      tableName: 'knex_migrations',
    });
  } finally {
    await knex.destroy();
  }
}
