// `npm run bench:stream`: how fast `sfsync stream` turns an emulator change into a committed row, and how much memory
// it needs for a burst. Starts the emulator with Change Data Capture for Account in a child process
// (scripts/bench/streamEmulator.ts, which also writes the changes) and a PostgreSQL (DATABASE_URL, else embedded),
// runs `sfsync sync --objects Account`, then `sfsync stream --objects Account` as a child process, and measures:
//   - latency at two steady rates (default 10/s for 30 s and 1,000/s for 20 s), each change its own Salesforce
//     transaction: from the emulator's write to the commit of the row (scripts/bench/commitWatch.ts), p50/p99/max;
//   - a burst (default 100,000 changes in transactions of 1,000, as fast as the emulator writes them): the stream
//     process's RSS (VmRSS every 100 ms) before, at peak and after, and the time until the last one is committed
//     (the stream's events_applied, polled every 10 ms; the bench's trigger is dropped first, as it costs the
//     stream's transactions time).
// CPU seconds of the stream, the emulator and PostgreSQL's backends are reported per phase: on a 2-core machine they
// tell whether the figures are the stream's or a saturated machine's.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import type pg from 'pg';
import { openBenchDatabase } from './benchDatabase.ts';
import {
  addMarkerTrigger,
  type CommitWatch,
  calibrate,
  dropMarkerTrigger,
  type Latency,
  latencies,
  perSecond,
  watchCommits,
} from './commitWatch.ts';
import { runChild } from './measureChild.ts';
import type { Answer, Command, StreamEmulatorInfo } from './streamEmulator.ts';

const HELP = `Usage: npm run bench:stream -- [options]

  --accounts N        Accounts in the emulated org, synced first (default 10000)
  --slow RATE:SECONDS the first steady rate (default 10:30)
  --fast RATE:SECONDS the second steady rate (default 1000:20)
  --burst N           changes in the burst (default 100000; 0 = none)
  --burst-tx N        changes per Salesforce transaction in the burst (default 1000)
  --out DIR           results directory (default bench/results)
  --cpu-prof DIR      write V8 CPU profiles of the stream and the emulator processes there
  -h, --help          this text

DATABASE_URL selects the PostgreSQL; without it an embedded server runs in a temp dir. Run \`npm run build\` first
to measure the bundled CLI, as installed (bin/sfsync.js runs the sources through tsx when the bundle is stale).`;

const { values: flags } = parseArgs({
  options: {
    accounts: { type: 'string', default: '10000' },
    slow: { type: 'string', default: '10:30' },
    fast: { type: 'string', default: '1000:20' },
    burst: { type: 'string', default: '100000' },
    'burst-tx': { type: 'string', default: '1000' },
    out: { type: 'string', default: 'bench/results' },
    'cpu-prof': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (flags.help) {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}

const SCHEMA = 'bench_stream';
const TABLE = 'account';
/** Latency "after warm-up" leaves out the changes written in a phase's first seconds. */
const WARM_UP_S = 2;
const startedAt = new Date().toISOString();
const logDir = path.join(flags.out, `stream-logs-${startedAt.replace(/[:.]/g, '-')}`);
const say = (msg: string) => process.stderr.write(`[bench:stream] ${msg}\n`);
const profile = () => (flags['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', flags['cpu-prof']] : []);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

// ---- the emulator child ----

interface EmulatorChild {
  info: StreamEmulatorInfo;
  pid: number;
  run(c: Command): Promise<Answer>;
  stop(): Promise<void>;
}

async function startEmulator(accounts: number): Promise<EmulatorChild> {
  const child = spawn(
    process.execPath,
    [...profile(), '--import', 'tsx', 'scripts/bench/streamEmulator.ts', '--accounts', String(accounts)],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  child.stderr!.pipe(createWriteStream(path.join(logDir, 'emulator.log')));
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`emulator child exited with ${code} (see ${logDir}/emulator.log)`))),
  );
  exited.catch(() => {});
  const nextJson = async <T>(): Promise<T> => {
    const line = await Promise.race([lines.next(), exited]);
    if (line.done) throw new Error('emulator child closed its stdout');
    return JSON.parse(line.value) as T;
  };
  const info = await nextJson<StreamEmulatorInfo>();
  return {
    info,
    pid: child.pid!,
    async run(c) {
      child.stdin!.write(`${JSON.stringify(c)}\n`);
      return nextJson<Answer>();
    },
    async stop() {
      if (child.exitCode !== null) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.stdin!.end();
      child.kill('SIGTERM');
      await gone;
    },
  };
}

// ---- process figures from /proc ----

async function vm(pid: number, key: 'VmRSS' | 'VmHWM'): Promise<number> {
  try {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(await readFile(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** User + system CPU seconds of a process so far. */
async function cpuSeconds(pid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime, in clock ticks of 1/100 s (USER_HZ on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** CPU seconds of the stream, the emulator and PostgreSQL's processes (those pg_stat_activity lists), so far. */
async function cpuNow(pool: pg.Pool, streamPid: number, emulatorPid: number) {
  const { rows } = await pool.query<{ pid: number }>('SELECT pid FROM pg_stat_activity');
  const pg = new Map<number, number>();
  for (const r of rows) pg.set(r.pid, await cpuSeconds(r.pid));
  return { stream: await cpuSeconds(streamPid), emulator: await cpuSeconds(emulatorPid), pg };
}

type Cpu = Awaited<ReturnType<typeof cpuNow>>;

function cpuSince(a: Cpu, b: Cpu): { stream: number; emulator: number; postgres: number } {
  let postgres = 0;
  for (const [pid, s] of b.pg) {
    const before = a.pg.get(pid);
    if (before !== undefined && Number.isFinite(s - before)) postgres += s - before;
  }
  return { stream: b.stream - a.stream, emulator: b.emulator - a.emulator, postgres };
}

// ---- the stream's log ----

/** Per phase, how many transactions applied how many events, and any syncs the stream ran. */
function streamLogCounter() {
  let transactions = 0;
  let events = 0;
  let syncs = 0;
  return {
    line(text: string) {
      if (!text.startsWith('{')) return;
      try {
        const rec = JSON.parse(text) as { msg?: string; events?: number };
        if (rec.msg === 'stream: events applied') {
          transactions++;
          events += rec.events ?? 0;
        } else if (rec.msg === 'stream: syncing the object') syncs++;
      } catch {}
    },
    take() {
      const out = { transactions, events, syncs };
      [transactions, events, syncs] = [0, 0, 0];
      return out;
    },
  };
}

type LogCounter = ReturnType<typeof streamLogCounter>;

// ---- the measurements ----

interface Running {
  db: Awaited<ReturnType<typeof openBenchDatabase>>;
  em: EmulatorChild;
  watch: CommitWatch;
  counter: LogCounter;
  streamPid: number;
}

interface SteadyResult {
  label: string;
  changes: number;
  committed: number;
  /** Changes per second the emulator achieved, first write to last. */
  rate: number;
  maxBehindMs: number;
  latency: Latency;
  afterWarmUp: Latency;
  transactions: number;
  cpu: ReturnType<typeof cpuSince>;
  loadAfter: string;
  perSecond: ReturnType<typeof perSecond>;
}

async function steady(r: Running, tag: string, spec: string): Promise<SteadyResult> {
  const [rate, seconds] = spec.split(':').map(Number);
  if (!rate || !seconds) throw new Error(`expected RATE:SECONDS, got ${spec}`);
  r.counter.take();
  const cpu0 = await cpuNow(r.db.pool, r.streamPid, r.em.pid);
  say(`${rate} changes/s for ${seconds} s ...`);
  const answer = await r.em.run({ op: 'steady', tag, rate, seconds });
  await r.watch.until(tag, answer.changes, 30_000);
  const cpu = cpuSince(cpu0, await cpuNow(r.db.pool, r.streamPid, r.em.pid));
  const seen = r.watch.seen(tag);
  const out: SteadyResult = {
    label: `${rate}/s for ${seconds} s`,
    changes: answer.changes,
    committed: seen.size,
    rate: answer.changes / (answer.ms / 1000),
    maxBehindMs: answer.maxBehindMs,
    latency: latencies(seen),
    afterWarmUp: latencies(seen, WARM_UP_S * 1e6),
    transactions: r.counter.take().transactions,
    cpu,
    loadAfter: load(),
    perSecond: perSecond(seen),
  };
  say(
    `${out.label}: achieved ${out.rate.toFixed(1)}/s (writes at most ${answer.maxBehindMs.toFixed(0)} ms behind ` +
      `schedule), committed ${seen.size}/${answer.changes}, p50 ${fmt(out.latency.p50)} ms, p99 ` +
      `${fmt(out.latency.p99)} ms, max ${fmt(out.latency.max)} ms, ${out.transactions} transactions`,
  );
  return out;
}

interface BurstResult {
  changes: number;
  perTx: number;
  writeMs: number;
  drainMs: number;
  committed: number;
  rssBefore: number;
  rssPeak: number;
  rssAfter: number;
  transactions: number;
  syncs: number;
  cpu: ReturnType<typeof cpuSince>;
  /** Rows that hold a burst marker, and the highest sequence number among them (the last change: changes - 1). */
  rowsWithMarker: number;
  lastSeq: number;
  rss: { s: number; mb: number }[];
}

async function eventsApplied(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(
    'SELECT events_applied AS n FROM sfsync.stream_state WHERE target_schema = $1',
    [SCHEMA],
  );
  return Number(rows[0]?.n ?? 0);
}

async function burst(r: Running, changes: number, perTx: number): Promise<BurstResult> {
  await dropMarkerTrigger(r.db.pool, SCHEMA, TABLE);
  r.counter.take();
  const before = await eventsApplied(r.db.pool);
  const rssBefore = await vm(r.streamPid, 'VmRSS');
  const cpu0 = await cpuNow(r.db.pool, r.streamPid, r.em.pid);
  const samples: { at: number; mb: number }[] = [];
  const sampler = setInterval(async () => {
    const mb = await vm(r.streamPid, 'VmRSS');
    if (!Number.isNaN(mb)) samples.push({ at: performance.now(), mb });
  }, 100);
  say(`burst of ${changes} changes ...`);
  const t0 = performance.now();
  const written = r.em.run({ op: 'burst', tag: 'burst', changes, perTx });
  let applied = before;
  let quietSince = performance.now();
  while (applied < before + changes && performance.now() - quietSince < 60_000) {
    await sleep(10);
    const now = await eventsApplied(r.db.pool);
    if (now !== applied) [applied, quietSince] = [now, performance.now()];
  }
  const drainMs = performance.now() - t0;
  const cpu = cpuSince(cpu0, await cpuNow(r.db.pool, r.streamPid, r.em.pid));
  const answer = await written;
  await sleep(2000);
  clearInterval(sampler);
  const { rows } = await r.db.pool.query<{ n: string; last: number | null }>(
    `SELECT count(*) AS n, max(split_part(description, '|', 3)::int) AS last FROM ${SCHEMA}.${TABLE}
      WHERE description LIKE 'bench|burst|%'`,
  );
  const logged = r.counter.take();
  return {
    changes,
    perTx,
    writeMs: answer.ms,
    drainMs,
    committed: applied - before,
    rssBefore,
    rssPeak: Math.max(...samples.map((s) => s.mb)),
    rssAfter: samples.at(-1)?.mb ?? Number.NaN,
    transactions: logged.transactions,
    syncs: logged.syncs,
    cpu,
    rowsWithMarker: Number(rows[0]?.n ?? 0),
    lastSeq: rows[0]?.last ?? -1,
    rss: samples.map((s) => ({ s: Number(((s.at - t0) / 1000).toFixed(1)), mb: Math.round(s.mb) })),
  };
}

// ---- the report ----

const fmt = (ms: number) => (Number.isNaN(ms) ? '-' : ms < 10 ? ms.toFixed(1) : ms.toFixed(0));
const int = (n: number) => Math.round(n).toLocaleString('en-US');
const cpuText = (c: ReturnType<typeof cpuSince>) =>
  `${c.stream.toFixed(1)} / ${c.postgres.toFixed(1)} / ${c.emulator.toFixed(1)}`;

function table(detect: Latency, phases: SteadyResult[], b: BurstResult | undefined): string {
  const head = ['', 'changes', 'committed', 'rate /s', 'p50 ms', 'p99 ms', 'max ms', `p99 after ${WARM_UP_S} s`];
  head.push('events/tx', 'CPU s stream / pg / emulator');
  const rows = [
    ['detection (NOTIFY alone)', int(detect.n), int(detect.n), '-', fmt(detect.p50), fmt(detect.p99)],
    ...phases.map((p) => [
      p.label,
      int(p.changes),
      int(p.committed),
      p.rate.toFixed(1),
      fmt(p.latency.p50),
      fmt(p.latency.p99),
      fmt(p.latency.max),
      fmt(p.afterWarmUp.p99),
      p.transactions > 0 ? (p.committed / p.transactions).toFixed(1) : '-',
      cpuText(p.cpu),
    ]),
  ];
  rows[0]!.push(fmt(detect.max), '-', '-', '-');
  const widths = head.map((_, i) => Math.max(...[head, ...rows].map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const out = [line(head), ...rows.map(line), '', 'latency: the emulator writes a change -> its row is committed'];
  if (b)
    out.push(
      '',
      `burst: ${int(b.changes)} changes, ${b.perTx} per Salesforce transaction, written in ` +
        `${(b.writeMs / 1000).toFixed(1)} s; ${int(b.committed)} committed ${(b.drainMs / 1000).toFixed(1)} s ` +
        `after the first write (${int(b.committed / (b.drainMs / 1000))} /s) in ${b.transactions} transactions, ` +
        `${b.syncs} syncs; ${int(b.rowsWithMarker)} rows hold a burst change, the last one ${b.lastSeq}`,
      `  stream RSS ${b.rssBefore.toFixed(0)} MB before, peak ${b.rssPeak.toFixed(0)} MB, ` +
        `${b.rssAfter.toFixed(0)} MB 2 s after; CPU s stream / pg / emulator ${cpuText(b.cpu)}`,
    );
  return `${out.join('\n')}\n`;
}

// ---- the run ----

/** What bin/sfsync.js runs: the bundle when it matches the sources (scripts/build/sourceManifest.js), else tsx. */
async function cliMode(): Promise<string> {
  if (process.env.SFSYNC_NO_BUNDLE === '1') return 'tsx';
  const manifest = (await import(path.resolve('scripts/build/sourceManifest.js'))) as {
    MANIFEST: string;
    sourceFingerprint(): string;
  };
  try {
    return readFileSync(manifest.MANIFEST, 'utf8') === manifest.sourceFingerprint() ? 'bundle' : 'tsx';
  } catch {
    return 'tsx';
  }
}

async function waitConnected(pool: pg.Pool, stream: ChildProcess): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (stream.exitCode !== null) throw new Error(`sfsync stream exited with ${stream.exitCode} (see its log)`);
    const { rows } = await pool
      .query('SELECT status FROM sfsync.stream_state WHERE target_schema = $1', [SCHEMA])
      .catch(() => ({ rows: [] as { status: string }[] }));
    if (rows[0]?.status === 'connected') return;
    await sleep(100);
  }
  throw new Error('sfsync stream did not connect within 120 s');
}

function startStream(env: NodeJS.ProcessEnv, counter: LogCounter): ChildProcess {
  const log = createWriteStream(path.join(logDir, 'stream.log'));
  const stream = spawn(process.execPath, [...profile(), 'bin/sfsync.js', 'stream', '--objects', 'Account'], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  createInterface({ input: stream.stderr! }).on('line', (l) => {
    log.write(`${l}\n`);
    counter.line(l);
  });
  return stream;
}

async function main(): Promise<void> {
  await mkdir(logDir, { recursive: true });
  const loadBefore = load();
  say(`load average ${loadBefore}`);
  const db = await openBenchDatabase();
  const em = await startEmulator(Number(flags.accounts));
  say(`emulator up: ${em.info.accounts} Accounts, Pub/Sub at ${em.info.pubsubEndpoint}`);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SF_AUTH_FLOW: 'jwt',
    SF_LOGIN_URL: em.info.loginUrl,
    SF_CLIENT_ID: em.info.clientId,
    SF_USERNAME: em.info.username,
    SF_PRIVATE_KEY_PATH: em.info.privateKeyPath,
    SF_PUBSUB_ENDPOINT: em.info.pubsubEndpoint,
    // grpc-js trusts this file alone when it is set (it is on this machine): the bundle adds the emulator's CA.
    GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: em.info.caBundlePath,
    DATABASE_URL: db.url,
    SFSYNC_SCHEMA: SCHEMA,
    SFSYNC_HOME: path.join(logDir, 'home'),
    LOG_LEVEL: 'info',
  };
  let stream: ChildProcess | undefined;
  let watch: CommitWatch | undefined;
  try {
    await db.dropTarget(SCHEMA);
    const sync = await runChild(process.execPath, ['bin/sfsync.js', 'sync', '--objects', 'Account'], {
      env,
      logFile: path.join(logDir, 'sync.log'),
    });
    if (sync.code !== 0) throw new Error(`sfsync sync exited with ${sync.code}:\n${sync.stderrTail}`);
    say(`initial sync: ${(sync.ms / 1000).toFixed(1)} s`);
    await addMarkerTrigger(db.pool, SCHEMA, TABLE);
    watch = await watchCommits(db.url);

    const cli = await cliMode();
    const counter = streamLogCounter();
    stream = startStream(env, counter);
    const streamPid = stream.pid!;
    await waitConnected(db.pool, stream);
    const rssConnected = await vm(streamPid, 'VmRSS');
    say(`sfsync stream (${cli}) connected, pid ${streamPid}, RSS ${rssConnected.toFixed(0)} MB`);
    const detect = await calibrate(db.url, watch, 200);
    say(`detection alone: p50 ${fmt(detect.p50)} ms, p99 ${fmt(detect.p99)} ms`);

    const running: Running = { db, em, watch, counter, streamPid };
    const phases: SteadyResult[] = [];
    phases.push(await steady(running, 'slow', flags.slow));
    await sleep(2000);
    phases.push(await steady(running, 'fast', flags.fast));
    await sleep(2000);
    const burstChanges = Number(flags.burst);
    const b = burstChanges > 0 ? await burst(running, burstChanges, Number(flags['burst-tx'])) : undefined;
    const hwm = await vm(streamPid, 'VmHWM');

    const code = await new Promise<number | null>((resolve) => {
      stream!.once('exit', resolve);
      stream!.kill('SIGTERM');
    });
    stream = undefined;
    const settings = {
      accounts: em.info.accounts,
      slow: flags.slow,
      fast: flags.fast,
      burst: burstChanges,
      burstTx: Number(flags['burst-tx']),
      cli,
      database: db.embedded ? 'embedded' : 'DATABASE_URL',
      node: process.version,
      cpus: `${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}`,
      loadBefore,
      loadAfter: load(),
      rssConnectedMb: Math.round(rssConnected),
      streamVmHwmMb: Math.round(hwm),
      streamExit: code,
      duplicates: watch.duplicates,
      logs: logDir,
    };
    process.stdout.write(table(detect, phases, b));
    process.stdout.write(
      `\nsfsync stream ran as ${cli}; RSS ${rssConnected.toFixed(0)} MB once connected, VmHWM ${hwm.toFixed(0)} MB ` +
        `at the end; exit ${code}; changes seen twice ${watch.duplicates}; load average ${loadBefore} before, ` +
        `${settings.loadAfter} after\n`,
    );
    const file = path.join(flags.out, `stream-${startedAt.replace(/[:.]/g, '-')}.json`);
    await writeFile(file, `${JSON.stringify({ startedAt, settings, detection: detect, phases, burst: b }, null, 2)}\n`);
    say(`wrote ${file}`);
  } finally {
    stream?.kill('SIGTERM');
    await watch?.close().catch(() => {});
    await em.stop();
    await db.dropTarget(SCHEMA).catch(() => {});
    await db.close();
  }
}

await main();
