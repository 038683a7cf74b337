// `npx tsx scripts/bench/incremental.ts [--accounts 1000000] [--edits 10000] [--rounds 3] [--cpu-prof DIR]`
// Bench (d) of scripts/bench/main.ts alone, repeated: one initial load of Account, then per round `--edits` Accounts
// changed through the emulator's admin API and `sfsync sync --objects Account` timed as a whole process. Each round
// prints the wall time and a timeline of the run's log lines (LOG_LEVEL=debug), milliseconds from the process spawn, so
// the phases of an incremental run can be read off; `--cpu-prof DIR` writes a V8 CPU profile of each round there.
// DATABASE_URL or an embedded PostgreSQL, as `npm run bench`. Asserts nothing.
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pLimit from 'p-limit';
import { openBenchDatabase } from './benchDatabase.ts';
import { startEmulator } from './emulatorHost.ts';
import { runChild } from './measureChild.ts';

const { values: args } = parseArgs({
  options: {
    accounts: { type: 'string', default: '1000000' },
    edits: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '3' },
    'cpu-prof': { type: 'string' },
  },
});

const SCHEMA = 'bench_inc';
const dir = path.join(tmpdir(), `benchIncremental-${process.pid}`);
const say = (msg: string) => process.stdout.write(`${msg}\n`);

const db = await openBenchDatabase();
const em = await startEmulator({ accounts: Number(args.accounts) }, `${dir}-emulator.log`);
const env = {
  ...process.env,
  SF_AUTH_FLOW: 'jwt',
  SF_LOGIN_URL: em.info.loginUrl,
  SF_CLIENT_ID: em.info.clientId,
  SF_USERNAME: em.info.username,
  SF_PRIVATE_KEY_PATH: em.info.privateKeyPath,
  DATABASE_URL: db.url,
  SFSYNC_HOME: path.join(dir, 'home'),
  SFSYNC_SCHEMA: SCHEMA,
  // Rounds run seconds apart: with the default overlap every round would re-read the ones before it.
  SFSYNC_OVERLAP_MINUTES: '0',
};

async function sync(name: string, level: string, profile = false) {
  const logFile = `${dir}-${name}.log`;
  const spawnedAt = Date.now();
  const prof = profile && args['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', args['cpu-prof']] : [];
  const run = await runChild(process.execPath, [...prof, 'bin/sfsync.js', 'sync', '--objects', 'Account'], {
    env: { ...env, LOG_LEVEL: level },
    logFile,
  });
  if (run.code !== 0) throw new Error(`${name} exited with ${run.code}:\n${run.stderrTail}`);
  return { run, spawnedAt, logFile };
}

async function timeline(logFile: string, spawnedAt: number): Promise<string[]> {
  const lines = (await readFile(logFile, 'utf8')).split('\n').filter((l) => l.startsWith('{'));
  return lines.map((l) => {
    const { time, msg, level, object: _o, ...rest } = JSON.parse(l) as Record<string, unknown>;
    const extra = JSON.stringify(rest).slice(0, 140);
    return `  ${String(Number(time) - spawnedAt).padStart(6)} ms  ${String(msg)} ${extra === '{}' ? '' : extra}`;
  });
}

try {
  await db.dropTarget(SCHEMA);
  const initial = await sync('initial', 'info');
  say(`initial load of ${args.accounts} Accounts: ${(initial.run.ms / 1000).toFixed(1)} s`);
  const edits = Number(args.edits);
  for (let round = 1; round <= Number(args.rounds); round++) {
    const { rows } = await db.pool.query<{ id: string }>(
      `SELECT id FROM ${SCHEMA}.account ORDER BY md5(id || $2) LIMIT $1`,
      [edits, String(round)],
    );
    const limit = pLimit(8);
    await Promise.all(
      rows.map((r, i) =>
        limit(() => em.admin('PATCH', `records/${r.id}`, { Description: `round ${round} edit ${i}` })),
      ),
    );
    const { run, spawnedAt, logFile } = await sync(`round-${round}`, 'debug', true);
    const [last] = (await db.runs(SCHEMA)).slice(-1);
    say(
      `round ${round}: ${rows.length} edited, ${last?.fetched} fetched, wall ${run.ms.toFixed(0)} ms, ` +
        `sfsync's run ${last?.ms.toFixed(0)} ms, peak RSS ${run.peakRssMb.toFixed(0)} MB`,
    );
    for (const line of await timeline(logFile, spawnedAt)) say(line);
  }
} finally {
  await db.dropTarget(SCHEMA);
  await em.stop();
  await db.close();
}
