// `sfsync migrate`: create or upgrade the sfsync schema (openDatabase migrates; this just reports it, and the org each
// schema belongs to).
import { loadConfigs, type Env } from '../lib/config.ts';
import { commandLogger } from './logger.ts';
import { describeUrl, openDatabase } from '../pipelines/runtime/database.ts';
import { listOrgs } from '../loaders/orgs.ts';
import { withClient } from '../loaders/postgres.ts';

export async function runMigrate(env: Env): Promise<void> {
  // The database settings are the same for every org.
  const config = loadConfigs(env, { needSalesforce: false })[0]!;
  const log = commandLogger(config);
  const db = await openDatabase(config, log);
  try {
    const orgs = await withClient(db.pool, listOrgs);
    const lines = orgs.map(
      (o) => `  schema ${o.schema}: org ${o.name}${o.salesforceOrgId ? ` (${o.salesforceOrgId})` : ''}`,
    );
    process.stdout.write(
      `sfsync schema is up to date in ${describeUrl(db.url)}\n${lines.map((l) => `${l}\n`).join('')}`,
    );
  } finally {
    await db.close();
  }
}
