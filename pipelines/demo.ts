// `sfsync demo`: emulator + PostgreSQL, an initial load, some changes in the org, an incremental sync, next steps.
import { createEmulator } from '../emulator/index.ts';
import type { OrgStore } from '../emulator/types.ts';
import { ConfigError } from '../lib/errors.ts';
import { loadConfig } from '../lib/config.ts';
import { createLogger } from '../lib/log.ts';
import { describeUrl } from './database.ts';
import { formatSummary, syncAll, withSyncContext } from './sync.ts';

const DEMO_OBJECTS = 'Account,Contact,Opportunity,Lead,Invoice__c';
const DEMO_SCHEMA = 'sfsync_demo';

/** Change a few records the way users do: edits, a new record, a delete and an undelete. */
function changeSomeRecords(store: OrgStore): string {
  const accounts = store.snapshot('Account');
  const live = [];
  for (let i = 0; i < accounts.size && live.length < 30; i++) {
    const rec = accounts.at(i);
    if (rec && rec.IsDeleted === false) live.push(rec);
  }
  for (const rec of live.slice(0, 20)) store.update(rec.Id, { Description: `Reviewed in the sfsync demo at ${store.now()}` });
  for (let i = 0; i < 5; i++) store.insert('Account', { Name: `Demo Account ${i + 1}`, Type: 'Prospect' });
  for (const rec of live.slice(20, 23)) store.softDelete(rec.Id);
  return '20 Accounts edited, 5 inserted, 3 deleted';
}

export async function runDemo(opts: { accounts: string }): Promise<void> {
  const accounts = Number(opts.accounts);
  if (!Number.isInteger(accounts) || accounts < 1) throw new ConfigError(`--accounts must be a positive whole number (got '${opts.accounts}')`);
  const emulator = await createEmulator({ port: 0, accounts });
  try {
    const config = loadConfig(
      {
        ...process.env,
        SF_LOGIN_URL: emulator.loginUrl,
        SF_AUTH_FLOW: 'jwt',
        SF_CLIENT_ID: emulator.clientId,
        SF_USERNAME: emulator.username,
        SF_PRIVATE_KEY_PATH: emulator.privateKeyPath,
        SFSYNC_SCHEMA: DEMO_SCHEMA,
      },
      { objects: DEMO_OBJECTS },
    );
    const log = createLogger({ level: process.env.LOG_LEVEL ?? 'warn', pretty: process.stderr.isTTY });
    const out = (s: string) => process.stdout.write(s);
    out(`Salesforce emulator: ${emulator.url} (${accounts} Accounts and related records)\n`);
    await withSyncContext(config, log, async (ctx) => {
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
      const url = ctx.pool.options.connectionString ?? '';
      out(`\nThe warehouse is in ${describeUrl(url)}, schema ${DEMO_SCHEMA}. Query it:\n`);
      out(`  psql '${url}'\n\n`);
      out(`  -- contacts per account\n  SELECT a.name, count(c.id) AS contacts FROM ${DEMO_SCHEMA}.account a\n    JOIN ${DEMO_SCHEMA}.contact c ON c.accountid = a.id WHERE NOT c.isdeleted GROUP BY a.name ORDER BY contacts DESC LIMIT 5;\n\n`);
      out(`  -- open pipeline by industry\n  SELECT a.industry, sum(o.amount) FROM ${DEMO_SCHEMA}.opportunity o JOIN ${DEMO_SCHEMA}.account a ON a.id = o.accountid\n    WHERE NOT o.isdeleted AND NOT o.isclosed GROUP BY a.industry ORDER BY 2 DESC NULLS LAST;\n`);
    });
  } finally {
    await emulator.close();
  }
}
