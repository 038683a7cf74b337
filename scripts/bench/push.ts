// `npx tsx scripts/bench/push.ts [--rows 1000000] [--bad 0.01]`
// `sfsync push --operation upsert` of a generated table into the emulator, through the CLI: prints rows/s and the
// push process's peak RSS (VmHWM), then how many rows reached the org and how many push_results recorded as failed.
// The integration test (test/integration/push-cli.test.ts) pushes 25,000 rows; this one the large sizes.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createEmulator } from '../../emulator/index.ts';
import { openBenchDatabase } from './benchDatabase.ts';

const { values: args } = parseArgs({
  options: { rows: { type: 'string', default: '1000000' }, bad: { type: 'string', default: '0.01' } },
});
const rows = Number(args.rows);
const badEvery = Math.round(1 / Number(args.bad));

/** Peak resident set of a process so far (Linux); 0 elsewhere. */
async function peakRssMb(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

const emulator = await createEmulator({ accounts: 10, seed: 1 });
emulator.admin.addField('Account', {
  name: 'Push_Key__c',
  label: 'Push Key',
  type: 'string',
  length: 40,
  nillable: true,
  custom: true,
  externalId: true,
});
const db = await openBenchDatabase();
try {
  await db.pool.query('DROP SCHEMA IF EXISTS push_bench CASCADE; CREATE SCHEMA push_bench');
  // Every badEvery-th AccountNumber is over the field's 40 characters: STRING_TOO_LONG for that row alone.
  await db.pool.query(`
    CREATE TABLE push_bench.accounts AS
      SELECT 'K-' || i AS push_key__c, 'Account ' || i AS name,
             CASE WHEN i % ${badEvery} = 0 THEN repeat('n', 50) ELSE 'AN' || i END AS accountnumber,
             (i % 5000)::int AS numberofemployees, 'Pushed by the bench' AS description
      FROM generate_series(1, ${rows}) AS i`);
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    LOG_LEVEL: 'warn',
    SF_LOGIN_URL: emulator.loginUrl,
    SF_CLIENT_ID: emulator.clientId,
    SF_USERNAME: emulator.username,
    SF_PRIVATE_KEY_PATH: emulator.privateKeyPath,
    DATABASE_URL: db.url,
  };
  const argv = [
    path.resolve('bin/sfsync.js'),
    'push',
    '--object',
    'Account',
    '--operation',
    'upsert',
    '--external-id',
    'Push_Key__c',
    '--from',
    'push_bench.accounts',
  ];
  const t0 = performance.now();
  const child = spawn(process.execPath, argv, { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let peak = 0;
  const timer = setInterval(async () => {
    peak = Math.max(peak, await peakRssMb(child.pid ?? 0));
  }, 100);
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearInterval(timer);
  const seconds = (performance.now() - t0) / 1000;
  process.stdout.write(out);
  const failed = await db.pool.query(
    'SELECT count(*)::int AS n FROM sfsync.push_results WHERE error_code IS NOT NULL AND run_id = ' +
      '(SELECT max(id) FROM sfsync.push_runs)',
  );
  process.stdout.write(
    `\n${rows} rows in ${seconds.toFixed(1)} s: ${Math.round(rows / seconds)} rows/s, ` +
      `push peak RSS ${peak.toFixed(0)} MB, exit ${code}, ${failed.rows[0].n} rows failed ` +
      `(expected ${Math.floor(rows / badEvery)})\n`,
  );
  await db.pool.query('DROP SCHEMA push_bench CASCADE');
} finally {
  await db.close();
  await emulator.close();
}
