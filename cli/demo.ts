// `sfsync demo`: emulator + PostgreSQL, an initial load, some changes in the org, an incremental sync, next steps.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { createEmulator } from '../emulator/index.ts';
import type { OrgStore } from '../emulator/types.ts';
import { ConfigError } from '../lib/errors.ts';
import { loadConfig, requestedLogLevel, type Env } from '../lib/config.ts';
import { createLogger } from '../lib/log.ts';
import { describeUrl } from '../pipelines/runtime/database.ts';
import { withRunContext } from '../pipelines/runtime/runContext.ts';
import { syncAll } from '../pipelines/sync/syncAll.ts';
import { formatSummary } from './sync.ts';

const DEMO_OBJECTS = 'Account,Contact,Opportunity,Lead,Invoice__c';
const DEMO_SCHEMA = 'sfsync_demo';

/** Two analyst queries joining Contact to Account, run at the end of the demo. */
const SAMPLE_QUERIES = [
  {
    title: 'the latest contacts with their account and its city',
    sql:
      `SELECT c.name AS contact, a.name AS account, a.billingcity AS city FROM ${DEMO_SCHEMA}.contact c ` +
      `JOIN ${DEMO_SCHEMA}.account a ON a.id = c.accountid WHERE NOT c.isdeleted ` +
      'ORDER BY c.createddate DESC, c.id LIMIT 3;',
  },
  {
    title: 'contacts per industry, from the contact side',
    sql:
      `SELECT coalesce(a.industry, '(none)') AS industry, count(c.id) AS contacts FROM ${DEMO_SCHEMA}.contact c ` +
      `LEFT JOIN ${DEMO_SCHEMA}.account a ON a.id = c.accountid WHERE NOT c.isdeleted ` +
      'GROUP BY 1 ORDER BY 2 DESC LIMIT 3;',
  },
];

/** The commands that reach the warehouse now, from the same folder and environment (never printing a password). */
export function queryHint(embeddedDataDir: string | undefined): string {
  const sql = `npx sfsync sql "select count(*) from ${DEMO_SCHEMA}.account"`;
  if (!embeddedDataDir) return [`Query it now:  ${sql}`, `or with psql:  psql "$DATABASE_URL"`].join('\n');
  return [
    `The embedded PostgreSQL keeps its data in ${embeddedDataDir}. Query it now (it starts for the query):`,
    `  ${sql}`,
    'or keep it running in the background for psql or any other client (sfsync db stop stops it):',
    '  npx sfsync db start && psql "$(npx sfsync db url)"',
  ].join('\n');
}

/** The embedded server's data directory, shown relative to the working directory when it is inside it. */
async function embeddedDataDir(pool: pg.Pool): Promise<string> {
  const dir = (await pool.query<{ data_directory: string }>('SHOW data_directory')).rows[0]!.data_directory;
  const rel = path.relative(process.cwd(), dir);
  return rel.startsWith('..') || path.isAbsolute(rel) ? dir : `.${path.sep}${rel}`;
}

/** Change a few records the way users do: edits, a new record, a delete and an undelete. */
function changeSomeRecords(store: OrgStore): string {
  const accounts = store.snapshot('Account');
  const live = [];
  for (let i = 0; i < accounts.size && live.length < 30; i++) {
    const rec = accounts.at(i);
    if (rec && rec.IsDeleted === false) live.push(rec);
  }
  for (const rec of live.slice(0, 20))
    store.update(rec.Id, { Description: `Reviewed in the sfsync demo at ${store.now()}` });
  for (let i = 0; i < 5; i++) store.insert('Account', { Name: `Demo Account ${i + 1}`, Type: 'Prospect' });
  for (const rec of live.slice(20, 23)) store.softDelete(rec.Id);
  return '20 Accounts edited, 5 inserted, 3 deleted';
}

/** An empty config file for the demo, in a folder of its own. */
function emptyConfigFile(): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'sfsync-demo-')), 'sfsync.config.json');
  writeFileSync(file, '{}\n');
  return file;
}

export async function runDemo(opts: { accounts: string }, env: Env): Promise<void> {
  const accounts = Number(opts.accounts);
  if (!Number.isInteger(accounts) || accounts < 1)
    throw new ConfigError(`--accounts must be a positive whole number (got '${opts.accounts}')`);
  const emulator = await createEmulator({ port: 0, accounts });
  try {
    const config = loadConfig(
      {
        ...env,
        SF_LOGIN_URL: emulator.loginUrl,
        SF_AUTH_FLOW: 'jwt',
        SF_CLIENT_ID: emulator.clientId,
        SF_USERNAME: emulator.username,
        SF_PRIVATE_KEY_PATH: emulator.privateKeyPath,
        SFSYNC_SCHEMA: DEMO_SCHEMA,
        // The demo is its emulator's org alone: a config file of the user's (other objects, orgs, filters) is not it.
        SFSYNC_CONFIG: emptyConfigFile(),
      },
      { objects: DEMO_OBJECTS },
    );
    const log = createLogger({ level: requestedLogLevel(env) ?? 'warn', pretty: process.stderr.isTTY });
    const out = (s: string) => process.stdout.write(s);
    out(`Salesforce emulator: ${emulator.url} (${accounts} Accounts and related records)\n`);
    await withRunContext(config, log, async (ctx) => {
      // As root the data may not be under SFSYNC_HOME (loaders/embeddedCluster.ts): say where it is.
      const dataDir = config.databaseUrl ? undefined : await embeddedDataDir(ctx.pool);
      if (dataDir) out(`PostgreSQL: embedded, its data in ${dataDir}\n`);
      await ctx.pool.query(`DROP SCHEMA IF EXISTS ${DEMO_SCHEMA} CASCADE`);
      await ctx.pool.query('DELETE FROM sfsync.watermarks WHERE target_schema = $1', [DEMO_SCHEMA]);
      out('\n1. Initial load (Bulk API 2.0 -> COPY)\n');
      const first = await syncAll(ctx, false);
      out(formatSummary(first));
      out(`\n2. In Salesforce: ${changeSomeRecords(emulator.store)}\n`);
      out('\n3. Incremental sync (REST queryAll from the watermark)\n');
      const second = await syncAll(ctx, false);
      out(formatSummary(second));
      const failed = [...first, ...second].filter((s) => s.status === 'failed');
      if (failed.length > 0) throw new Error(`demo sync failed for ${failed.map((s) => s.object).join(', ')}`);
      out(`\nThe warehouse is in ${describeUrl(ctx.pool.options.connectionString ?? '')}, schema ${DEMO_SCHEMA}.\n`);
      out(`${queryHint(dataDir)}\n`);
      for (const q of SAMPLE_QUERIES) {
        out(`\n  -- ${q.title}\n  ${q.sql}\n`);
        const { rows } = await ctx.pool.query(q.sql);
        for (const r of rows) out(`     ${Object.values(r).join(' | ')}\n`);
      }
    });
  } finally {
    await emulator.close();
  }
}
