// `npm run bench -- --accounts 1000000`: the performance benchmark. Starts the emulator (a child process) and a
// PostgreSQL (DATABASE_URL, else embedded in a temp dir), then measures side by side on Account, each command in its
// own process so its peak RSS is its own: (a) Bulk CSV bytes straight into COPY, no processing (the physical limit);
// (b) sfsync's initial load; (c) jsforce bulk2.query + knex batch inserts; (d) sfsync's incremental sync after 1% of
// the Accounts changed, and (d0) what the same number of changes costs PostgreSQL alone; (bh) and (dh) the same two
// syncs with history mode on (README "History"); (e) sfsync syncing 8 objects at once vs the slowest of them alone,
// with a realistic Bulk per-job latency. Prints a table and writes JSON + Markdown under bench/results/.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pLimit from 'p-limit';
import { type BenchDatabase, openBenchDatabase } from './benchDatabase.ts';
import { type EmulatorHost, startEmulator } from './emulatorHost.ts';
import { type ChildRun, runChild } from './measureChild.ts';
import { type BenchResult, type Check, type Measurement, textTable, writeResults } from './report.ts';

const DEFAULT_E_OBJECTS = 'Account,Contact,Opportunity,Lead,Task,Invoice__c,User,AccountHistory';

const HELP = `Usage: npm run bench -- [options]

  --accounts N        Accounts in the emulated org (default 100000)
  --skip LIST         measurements to leave out, comma separated: a,b,c,d,h,e (d takes d0 with it, h is (bh) and
                      (dh); e.g. --skip c)
  --changed SHARE     share of Accounts changed before (d) (default 0.01)
  --e-accounts N      org size for (e), in its own emulator (default: min(accounts, 100000))
  --e-latency-ms MS   Bulk per-job latency for (e) (default 10000, roughly a real org's fixed overhead)
  --e-objects LIST    objects synced at once in (e) (default ${DEFAULT_E_OBJECTS})
  --a-gzip            (a) asks for gzip like sfsync does (default: plain bytes)
  --e-concurrency N   SFSYNC_CONCURRENCY for (e) (default: sfsync's own default)
  --out DIR           results directory (default bench/results)
  -h, --help          this text

DATABASE_URL selects the PostgreSQL (trust or password auth); without it an embedded server runs in a temp dir.`;

const { values: flags } = parseArgs({
  options: {
    accounts: { type: 'string', default: '100000' },
    skip: { type: 'string', multiple: true, default: [] },
    changed: { type: 'string', default: '0.01' },
    'e-accounts': { type: 'string' },
    'e-latency-ms': { type: 'string', default: '10000' },
    'e-objects': { type: 'string', default: DEFAULT_E_OBJECTS },
    'e-concurrency': { type: 'string' },
    'a-gzip': { type: 'boolean', default: false },
    out: { type: 'string', default: 'bench/results' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (flags.help) {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}

const accounts = Number(flags.accounts);
const skip = new Set(flags.skip.flatMap((s) => s.split(',')).map((s) => s.trim().toLowerCase()));
const eAccounts = Number(flags['e-accounts'] ?? Math.min(accounts, 100_000));
const eLatencyMs = Number(flags['e-latency-ms']);
const changedShare = Number(flags.changed);
const startedAt = new Date().toISOString();
const logDir = path.join(flags.out, `logs-${startedAt.replace(/[:.]/g, '-')}`);
const TSX = ['--import', 'tsx'];

const say = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

interface Env {
  db: BenchDatabase;
  em: EmulatorHost;
}

function childEnv(env: Env, extra: Record<string, string>): NodeJS.ProcessEnv {
  const { info } = env.em;
  return {
    ...process.env,
    SF_AUTH_FLOW: 'jwt',
    SF_LOGIN_URL: info.loginUrl,
    SF_CLIENT_ID: info.clientId,
    SF_USERNAME: info.username,
    SF_PRIVATE_KEY_PATH: info.privateKeyPath,
    DATABASE_URL: env.db.url,
    SFSYNC_HOME: path.join(logDir, 'home'),
    LOG_LEVEL: 'info',
    ...extra,
  };
}

async function measured(
  env: Env,
  name: string,
  args: string[],
  extra: Record<string, string>,
  opts: { mayFail?: boolean } = {},
): Promise<{ run: ChildRun; bytes: number }> {
  const before = await env.em.counters();
  say(`${name}: node ${args.join(' ')}`);
  const run = await runChild(process.execPath, args, {
    env: childEnv(env, extra),
    logFile: path.join(logDir, `${name}.log`),
  });
  const after = await env.em.counters();
  if (run.code !== 0 && !opts.mayFail) throw new Error(`${name} exited with ${run.code}:\n${run.stderrTail}`);
  say(`${name}: ${(run.ms / 1000).toFixed(1)} s, peak RSS ${run.peakRssMb.toFixed(0)} MB`);
  return { run, bytes: after.bulkResultBytes - before.bulkResultBytes };
}

const lastJson = (stdout: string) =>
  JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { rows: number; pages?: number; batchSize?: number };

async function physicalLimit(env: Env): Promise<Measurement> {
  await env.db.dropTarget('bench_a');
  const { run, bytes } = await measured(env, 'a-physical', [...TSX, 'scripts/bench/physicalCopy.ts'], {
    BENCH_SCHEMA: 'bench_a',
    BENCH_OBJECT: 'Account',
    BENCH_GZIP: flags['a-gzip'] ? '1' : '',
  });
  await env.db.dropTarget('bench_a');
  const out = lastJson(run.stdout);
  return {
    id: 'a',
    label: 'Bulk CSV -> COPY, no processing',
    rows: out.rows,
    bytes,
    seconds: run.ms / 1000,
    peakRssMb: run.peakRssMb,
    note:
      `${out.pages} result pages, one COPY each, into sfsync's typed, indexed table` +
      `${flags['a-gzip'] ? ', gzip' : ''}`,
  };
}

async function sfsync(
  env: Env,
  name: string,
  schema: string,
  objects: string,
  extra: Record<string, string> = {},
): Promise<{ run: ChildRun; bytes: number }> {
  return measured(env, name, ['bin/sfsync.js', 'sync', '--objects', objects], { SFSYNC_SCHEMA: schema, ...extra });
}

/** sfsync's initial load of Account into `schema`; `history` turns history mode on for it (a config file). */
async function initialLoad(env: Env, id: 'b' | 'bh', schema: string, history = false): Promise<Measurement> {
  await env.db.dropTarget(schema);
  const name = history ? 'bh-sfsync-initial-history' : 'b-sfsync-initial';
  const { run, bytes } = await sfsync(env, name, schema, 'Account', history ? await historyConfig() : {});
  const [r] = await env.db.runs(schema);
  return {
    id,
    label: `sfsync sync (initial${history ? ', history mode' : ''})`,
    rows: r?.fetched ?? 0,
    bytes,
    seconds: run.ms / 1000,
    peakRssMb: run.peakRssMb,
    note:
      `sfsync's own run time ${((r?.ms ?? 0) / 1000).toFixed(1)} s (process start, login and describe excluded)` +
      (history ? `; ${await historyRows(env, schema)} versions in account_history` : ''),
  };
}

/** A config file that keeps Account's history; `--objects Account` still picks the object. */
async function historyConfig(): Promise<Record<string, string>> {
  const file = path.join(logDir, 'history.config.json');
  await writeFile(file, JSON.stringify({ objects: [{ name: 'Account', history: true }] }));
  return { SFSYNC_CONFIG: file };
}

async function historyRows(env: Env, schema: string): Promise<number> {
  const { rows } = await env.db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${schema}.account_history`);
  return Number(rows[0]?.n ?? 0);
}

/** Changes `share` of the live Accounts through the admin API (SystemModstamp moves, as a user edit would). */
async function changeAccounts(env: Env, share: number): Promise<number> {
  const want = Math.max(1, Math.round(accounts * share));
  const { rows } = await env.db.pool.query<{ id: string }>(
    'SELECT id FROM bench_b.account WHERE isdeleted IS NOT TRUE ORDER BY md5(id) LIMIT $1',
    [want],
  );
  const limit = pLimit(8);
  const started = performance.now();
  await Promise.all(
    rows.map((r, i) => limit(() => env.em.admin('PATCH', `records/${r.id}`, { Description: `bench change ${i}` }))),
  );
  say(`changed ${rows.length} Accounts in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return rows.length;
}

/** sfsync's incremental sync of `schema` after `changed` Accounts changed; `history` as in initialLoad. */
async function incremental(
  env: Env,
  changed: number,
  id: 'd' | 'dh',
  schema: string,
  history = false,
): Promise<Measurement> {
  await env.em.admin('DELETE', 'log');
  // Debug level: the log (under --out) then has the run's timeline, a line per merged page (a few lines in all).
  const name = history ? 'dh-sfsync-incremental-history' : 'd-sfsync-incremental';
  const { run, bytes } = await sfsync(env, name, schema, 'Account', {
    LOG_LEVEL: 'debug',
    ...(history ? await historyConfig() : {}),
  });
  const served = await env.em.admin<{ path: string; ms: number }[]>('GET', 'log');
  const serverMs = served.reduce((sum, e) => sum + e.ms, 0);
  const what = (path: string) =>
    path
      .replace(/^\/services\/data\/v[\d.]+\//, '')
      .replace(/\?.*$/, '')
      .replace(/\/[^/]+-(\d+)$/, '/…-$1');
  const slowest = [...served]
    .sort((x, y) => y.ms - x.ms)
    .slice(0, 4)
    .map((e) => `${what(e.path)} ${e.ms} ms`)
    .join(', ');
  const r = (await env.db.runs(schema)).at(-1);
  const fetched = r?.fetched ?? 0;
  return {
    id,
    label: `sfsync sync (incremental, ${changed} changed${history ? ', history mode' : ''})`,
    rows: fetched,
    bytes: bytes > 0 ? bytes : null,
    seconds: run.ms / 1000,
    peakRssMb: run.peakRssMb,
    note:
      `changed ${changed}, fetched ${fetched} (${(fetched / changed).toFixed(2)}x), inserted ${r?.inserted}, ` +
      `updated ${r?.updated}, mode ${r?.mode}; sfsync's run ${((r?.ms ?? 0) / 1000).toFixed(1)} s, ` +
      `of which the emulator spent ${(serverMs / 1000).toFixed(1)} s answering its ${served.length} requests ` +
      `(slowest: ${slowest})` +
      (history ? `; ${await historyRows(env, schema)} versions in account_history` : ''),
  };
}

/** (d0): what (d)'s changes cost PostgreSQL alone (scripts/bench/applyFloor.ts), on the table (d) left. */
async function applyFloor(env: Env): Promise<Measurement> {
  const changed = Math.max(1, Math.round(accounts * changedShare));
  const { run } = await measured(env, 'd0-postgres-apply-floor', [...TSX, 'scripts/bench/applyFloor.ts'], {
    BENCH_SCHEMA: 'bench_b',
    BENCH_TABLE: 'account',
    BENCH_CHANGED: String(changed),
  });
  const out = lastJson(run.stdout) as { rows: number; ms: number; copyMs: number; mergeMs: number };
  return {
    id: 'd0',
    label: `PostgreSQL alone applies ${out.rows} changes`,
    rows: out.rows,
    bytes: null,
    seconds: out.ms / 1000,
    peakRssMb: run.peakRssMb,
    note:
      `the floor under (d): COPY into a TEMP stage ${out.copyMs} ms + sfsync's merge ${out.mergeMs} ms, ` +
      'one transaction, timed inside one connection (no Salesforce, no parsing, no process start); ' +
      `another random ${out.rows} rows of the table (d) left`,
  };
}

async function jsforceBaseline(env: Env): Promise<Measurement> {
  await env.db.dropTarget('bench_c');
  // docs/salesforce.md#jsforce-and-multi-page-bulk-results: jsforce 3.10.16 ends its one CSV parser with the first
  // result page, so it can only read a job served as ONE page; the emulator's default page size is raised for (c) only.
  await env.em.admin('POST', 'bulkLatency', { defaultMaxRecords: accounts + 1000 });
  try {
    const { run, bytes } = await measured(
      env,
      'c-jsforce-knex',
      [...TSX, 'scripts/bench/jsforceKnex.ts'],
      { BENCH_SCHEMA: 'bench_c', BENCH_OBJECT: 'Account' },
      { mayFail: true },
    );
    // The baseline failing (e.g. out of heap) is a result too, not a reason to lose the other measurements.
    if (run.code !== 0) {
      const why = run.stderrTail.trim().split('\n').slice(-3).join(' / ');
      return {
        id: 'c',
        label: 'jsforce bulk2.query + knex inserts',
        rows: 0,
        bytes,
        seconds: run.ms / 1000,
        peakRssMb: run.peakRssMb,
        note: `FAILED (exit ${run.code}): ${why}`,
      };
    }
    const out = lastJson(run.stdout);
    return {
      id: 'c',
      label: 'jsforce bulk2.query + knex inserts',
      rows: out.rows,
      bytes,
      seconds: run.ms / 1000,
      peakRssMb: run.peakRssMb,
      note: `knex batches of ${out.batchSize}; one result page (jsforce cannot follow locators)`,
    };
  } finally {
    await env.em.admin('POST', 'bulkLatency', { defaultMaxRecords: 50_000 });
    await env.db.dropTarget('bench_c');
  }
}

async function multiObject(db: BenchDatabase, log: string): Promise<Measurement[]> {
  say(`(e): own emulator, ${eAccounts} Accounts, Bulk latency ${eLatencyMs} ms per job`);
  const em = await startEmulator({ accounts: eAccounts, bulkLatencyMs: eLatencyMs }, log);
  const env = { db, em };
  try {
    await db.dropTarget('bench_e8');
    const concurrency: Record<string, string> = flags['e-concurrency']
      ? { SFSYNC_CONCURRENCY: flags['e-concurrency'] }
      : {};
    const all = await sfsync(env, 'e-sfsync-8-objects', 'bench_e8', flags['e-objects'], concurrency);
    const runs = await db.runs('bench_e8');
    const failed = runs.filter((r) => r.status !== 'succeeded');
    // The slowest single object is found by running each alone (the concurrent run's per-object times include
    // waiting for a work slot, so they cannot tell).
    let slowest: { object: string; one: Awaited<ReturnType<typeof sfsync>>; fetched: number } | undefined;
    for (const r of runs) {
      await db.dropTarget('bench_e1');
      const one = await sfsync(env, `e-sfsync-alone-${r.object}`, 'bench_e1', r.object);
      const [single] = await db.runs('bench_e1');
      if (!slowest || one.run.ms > slowest.one.run.ms)
        slowest = { object: r.object, one, fetched: single?.fetched ?? 0 };
    }
    const { one } = slowest!;
    const perObject = runs.map((r) => `${r.object} ${r.fetched} rows ${(r.ms / 1000).toFixed(1)} s`).join(', ');
    return [
      {
        id: 'e8',
        label: `sfsync sync, ${runs.length} objects at once`,
        rows: runs.reduce((s, r) => s + r.fetched, 0),
        bytes: all.bytes,
        seconds: all.run.ms / 1000,
        peakRssMb: all.run.peakRssMb,
        note:
          `org of ${eAccounts} Accounts, Bulk latency ${eLatencyMs} ms/job; ${perObject}` +
          `${failed.length ? `; FAILED: ${failed.map((f) => f.object).join(', ')}` : ''}`,
      },
      {
        id: 'e1',
        label: `sfsync sync, slowest alone (${slowest!.object})`,
        rows: slowest!.fetched,
        bytes: one.bytes,
        seconds: one.run.ms / 1000,
        peakRssMb: one.run.peakRssMb,
      },
    ];
  } finally {
    await db.dropTarget('bench_e8');
    await db.dropTarget('bench_e1');
    await em.stop();
  }
}

function checks(ms: Measurement[]): Check[] {
  const by = (id: string) => ms.find((m) => m.id === id);
  const rate = (m: Measurement) => m.rows / m.seconds;
  const out: Check[] = [];
  const [a, b, c, d, d0, bh, dh, e8, e1] = ['a', 'b', 'c', 'd', 'd0', 'bh', 'dh', 'e8', 'e1'].map(by);
  if (a && b)
    out.push({
      target: '(b) rows/s >= 0.75 x (a)',
      measured: `${(rate(b) / rate(a)).toFixed(2)} x`,
      pass: rate(b) >= 0.75 * rate(a),
    });
  if (b)
    out.push({ target: '(b) peak RSS < 256 MB', measured: `${b.peakRssMb.toFixed(0)} MB`, pass: b.peakRssMb < 256 });
  if (b && c) {
    const measuredText = c.rows === 0 ? '(c) failed' : `${(rate(b) / rate(c)).toFixed(2)} x the rows/s`;
    out.push({ target: '(b) >= 3 x faster than (c)', measured: measuredText, pass: rate(b) >= 3 * rate(c) });
  }
  if (d) {
    const changed = Number(/changed (\d+)/.exec(d.note ?? '')?.[1] ?? 0);
    out.push({
      target: '(d) fetched <= 1.1 x changed',
      measured: `${d.rows} / ${changed} = ${(d.rows / changed).toFixed(2)} x`,
      pass: d.rows <= 1.1 * changed,
    });
    const floor = b && d0 ? ` (PostgreSQL alone, (d0): ${((100 * d0.seconds) / b.seconds).toFixed(1)} %)` : '';
    if (b)
      out.push({
        target: '(d) wall time < 5% of (b)',
        measured: `${((100 * d.seconds) / b.seconds).toFixed(1)} %${floor}`,
        pass: d.seconds < 0.05 * b.seconds,
      });
  }
  for (const [with_, without] of [
    [bh, b],
    [dh, d],
  ])
    if (with_ && without)
      out.push({
        target: `(${with_.id}) wall time <= 1.5 x (${without.id}), history mode's cost`,
        measured: `${(with_.seconds / without.seconds).toFixed(2)} x`,
        pass: with_.seconds <= 1.5 * without.seconds,
      });
  if (e8 && e1)
    out.push({
      target: '(e) 8 objects <= 1.3 x slowest alone',
      measured: `${(e8.seconds / e1.seconds).toFixed(2)} x`,
      pass: e8.seconds <= 1.3 * e1.seconds,
    });
  return out;
}

async function measureAll(db: BenchDatabase, em: EmulatorHost): Promise<Measurement[]> {
  const env = { db, em };
  const ms: Measurement[] = [];
  if (!skip.has('a')) ms.push(await physicalLimit(env));
  // (bh) and (dh) run right after (b) and (d), against the same org and the same changes: ratios of one run.
  const history = !skip.has('h');
  if (!skip.has('b')) {
    ms.push(await initialLoad(env, 'b', 'bench_b'));
    if (history) ms.push(await initialLoad(env, 'bh', 'bench_bh', true));
    if (!skip.has('d')) {
      const changed = await changeAccounts(env, changedShare);
      ms.push(await incremental(env, changed, 'd', 'bench_b'));
      if (history) ms.push(await incremental(env, changed, 'dh', 'bench_bh', true));
      ms.push(await applyFloor(env));
    }
    await db.dropTarget('bench_b');
    await db.dropTarget('bench_bh');
  }
  if (!skip.has('c')) ms.push(await jsforceBaseline(env));
  return ms;
}

async function main(): Promise<void> {
  await mkdir(logDir, { recursive: true });
  const db = await openBenchDatabase();
  say(
    `PostgreSQL: ${db.embedded ? 'embedded (temp dir)' : 'DATABASE_URL'}; ` +
      `starting the emulator with ${accounts} Accounts`,
  );
  const em = await startEmulator({ accounts }, path.join(logDir, 'emulator.log'));
  say(`emulator ready in ${(em.info.startupMs / 1000).toFixed(1)} s`);
  const ms: Measurement[] = [];
  try {
    ms.push(...(await measureAll(db, em)));
  } finally {
    await em.stop();
  }
  const emulatorPeak = em.peakRssMb;
  try {
    if (!skip.has('e')) ms.push(...(await multiObject(db, path.join(logDir, 'emulator-e.log'))));
  } finally {
    await db.close();
  }
  const result: BenchResult = {
    startedAt,
    settings: {
      accounts,
      aGzip: flags['a-gzip'],
      skip: [...skip],
      changedShare,
      eAccounts,
      eLatencyMs,
      eObjects: flags['e-objects'],
      eConcurrency: flags['e-concurrency'] ?? 'sfsync default',
      database: db.embedded ? 'embedded' : 'DATABASE_URL',
      node: process.version,
      emulatorPeakRssMb: Math.round(emulatorPeak),
      logs: logDir,
    },
    measurements: ms,
    checks: checks(ms),
  };
  process.stdout.write(textTable(result));
  for (const file of await writeResults(flags.out, result)) say(`wrote ${file}`);
}

await main();
