// The worker fleet's scaling: 3 emulated orgs x 12 objects (the enterprise profile's objects that Bulk API 2.0
// serves), each Bulk job taking a realistic 10 s, loaded by 1 and then by 3 `sfsync worker` processes of the same
// --concurrency. The jobs are queued at once (as one `schedule --enqueue` tick of every org would); the time is from
// then to the last object's committed load. Most of it is waiting for Salesforce, so workers scale even on 2 cores.
//   npm run bench:fleet [-- --latency-ms 10000 --concurrency 4 --workers 1,3 --accounts 50]
// DATABASE_URL: a server where CREATE DATABASE is allowed (each run gets a database of its own); else an embedded one.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createEmulator, ENTERPRISE } from '../../emulator/index.ts';
import { loadConfigs } from '../../lib/config.ts';
import { silentLogger } from '../../lib/log.ts';
import { openQueue } from '../../pipelines/fleet/queue.ts';
import { tickJobs } from '../../pipelines/fleet/tickJobs.ts';
import { openBenchDatabase } from './benchDatabase.ts';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const LATENCY_MS = Number(arg('--latency-ms', '10000'));
const CONCURRENCY = arg('--concurrency', '4');
const WORKERS = arg('--workers', '1,3').split(',').map(Number);
const ACCOUNTS = Number(arg('--accounts', '50'));
const BIN = path.resolve('bin/sfsync.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function databaseUrl(server: string, name: string): string {
  const u = new URL(server);
  u.pathname = `/${name}`;
  return u.toString();
}

async function admin(server: string, sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: server });
  await c.connect();
  await c.query(sql).finally(() => c.end());
}

/** A worker process, resolved once it has logged that it started. */
function startWorker(env: Record<string, string>) {
  const child = spawn(process.execPath, [BIN, 'worker', '--concurrency', CONCURRENCY], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  const started = new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (c: Buffer) => {
      log += c.toString();
      if (log.includes('"worker started"')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`worker exited with ${code} before starting:\n${log.slice(-2000)}`)));
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return { child, started, exited };
}

const server = await openBenchDatabase();
const emulators = await Promise.all(
  [1, 2, 3].map((i) =>
    createEmulator({
      port: 0,
      accounts: ACCOUNTS,
      seed: 60 + i,
      orgNumber: 600 + i,
      profile: 'enterprise',
      bulkLatencyMs: LATENCY_MS,
    }),
  ),
);
const objects = emulators[0]!.store
  .objects()
  .map((d) => d.name)
  // RecordType is org metadata (a few rows): the bench loads the profile's 12 data objects.
  .filter((n) => n !== ENTERPRISE.bulkUnsupportedObject && n !== 'RecordType');
const dir = mkdtempSync(path.join(tmpdir(), 'sfsync-bench-fleet-'));
const file = path.join(dir, 'orgs.json');
writeFileSync(
  file,
  JSON.stringify({
    objects,
    orgs: emulators.map((e, i) => ({
      name: `org${i + 1}`,
      loginUrl: e.loginUrl,
      clientId: e.clientId,
      username: e.username,
      privateKey: { file: e.privateKeyPath },
    })),
  }),
);
const results: { workers: number; seconds: number; objects: number; failed: number }[] = [];
try {
  for (const n of WORKERS) {
    const name = `sfsync_bench_fleet_${n}_${process.pid}`;
    await admin(server.url, `CREATE DATABASE ${name}`);
    const url = databaseUrl(server.url, name);
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      DATABASE_URL: url,
      SFSYNC_CONFIG: file,
      LOG_LEVEL: 'info',
    };
    const configs = loadConfigs(env, {}, process.cwd());
    const workers = [];
    // One first, so that the database's migrations are not raced by the others' start.
    workers.push(startWorker(env));
    await workers[0]!.started;
    for (let i = 1; i < n; i++) workers.push(startWorker(env));
    await Promise.all(workers.map((w) => w.started));
    const queue = await openQueue({ url, leaseSeconds: 7200, log: silentLogger(), supervise: false });
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const t0 = Date.now();
    await queue.enqueue(configs.flatMap((c) => tickJobs(c)));
    const want = configs.length * objects.length;
    let done = { ok: 0, failed: 0 };
    while (done.ok + done.failed < want) {
      await sleep(200);
      const { rows } = await client.query<{ ok: number; failed: number }>(
        `SELECT count(DISTINCT (target_schema, object)) FILTER (WHERE status = 'succeeded')::int AS ok,
                count(DISTINCT (target_schema, object)) FILTER (WHERE status = 'failed')::int AS failed
         FROM sfsync.runs`,
      );
      done = rows[0]!;
      if (Date.now() - t0 > 20 * 60_000) throw new Error(`gave up after 20 minutes: ${JSON.stringify(done)}`);
    }
    const seconds = (Date.now() - t0) / 1000;
    results.push({ workers: n, seconds, objects: done.ok, failed: done.failed });
    console.log(`${n} worker(s): ${seconds.toFixed(1)} s for ${done.ok} objects (${done.failed} failed)`);
    for (const w of workers) w.child.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.exited));
    await client.end();
    await queue.close();
    await admin(server.url, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
} finally {
  await Promise.all(emulators.map((e) => e.close()));
  await server.close();
}
const base = results.find((r) => r.workers === 1);
console.log(
  `\n${objects.length} objects x ${emulators.length} orgs, Bulk latency ${LATENCY_MS / 1000} s per job, ` +
    `--concurrency ${CONCURRENCY}\n| workers | wall time | vs 1 worker |\n|---|---|---|`,
);
for (const r of results)
  console.log(
    `| ${r.workers} | ${r.seconds.toFixed(1)} s | ${base ? `${(r.seconds / base.seconds).toFixed(2)}x` : '-'} |`,
  );
process.exit(0);
