// `npm run bench:stream`: how fast `sfsync stream` turns an emulator change into a committed row, and how much memory
// it needs for a burst. Starts the emulator with Change Data Capture for Account in a child process
// (scripts/bench/streamEmulator.ts, which also writes the changes), a PostgreSQL (DATABASE_URL, else embedded), runs
// `sfsync sync --objects Account`, then `sfsync stream --objects Account` as a child process, and measures:
//   - latency at a steady rate (10 and 1,000 changes a second): from the emulator's write of a change to the commit
//     of its row, p50 / p99 / max;
//   - a burst of 100,000 changes written as fast as the emulator can: the stream process's RSS before, at peak and
//     after, and the time until the last of them is committed.
// Commit detection: a row trigger the bench adds to the table NOTIFYs the marker the change wrote; PostgreSQL
// delivers a notification only once its transaction has committed, so the time the bench reads it is the commit
// plus the delivery, which the bench measures on its own first (the "detection" row).
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { openBenchDatabase } from './benchDatabase.ts';
import { runChild } from './measureChild.ts';
import type { Answer, Command, StreamEmulatorInfo } from './streamEmulator.ts';

const HELP = `Usage: npm run bench:stream -- [options]

  --accounts N        Accounts in the emulated org, synced first (default 10000)
  --slow RATE:SECONDS the first steady rate (default 10:30)
  --fast RATE:SECONDS the second steady rate (default 1000:20)
  --burst N           changes in the burst (default 100000; 0 = none)
  --burst-tx N        changes per Salesforce transaction in the burst (default 1000)
  --out DIR           results directory (default bench/results)
  -h, --help          this text

DATABASE_URL selects the PostgreSQL; without it an embedded server runs in a temp dir.`;

const { values: flags } = parseArgs({
  options: {
    accounts: { type: 'string', default: '10000' },
    slow: { type: 'string', default: '10:30' },
    fast: { type: 'string', default: '1000:20' },
    burst: { type: 'string', default: '100000' },
    'burst-tx': { type: 'string', default: '1000' },
    out: { type: 'string', default: 'bench/results' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (flags.help) {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}

const SCHEMA = 'bench_stream';
const CHANNEL = 'sfsync_bench';
const startedAt = new Date().toISOString();
const logDir = path.join(flags.out, `stream-logs-${startedAt.replace(/[:.]/g, '-')}`);
const say = (msg: string) => process.stderr.write(`[bench:stream] ${msg}\n`);
/** CLOCK_MONOTONIC in microseconds: the clock streamEmulator.ts stamps its markers with. */
const micros = () => Number(process.hrtime.bigint() / 1000n);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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
    ['--import', 'tsx', 'scripts/bench/streamEmulator.ts', '--accounts', String(accounts)],
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
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.stdin!.end();
      child.kill('SIGTERM');
      await gone;
    },
  };
}

// ---- process figures from /proc ----

async function procStatus(pid: number, key: 'VmRSS' | 'VmHWM'): Promise<number | undefined> {
  try {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(await readFile(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** User + system CPU seconds of a process so far. */
async function cpuSeconds(pid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** VmRSS every 100 ms until stopped. */
function sampleRss(pid: number) {
  const samples: { at: number; mb: number }[] = [];
  const timer = setInterval(async () => {
    const mb = await procStatus(pid, 'VmRSS');
    if (mb !== undefined) samples.push({ at: performance.now(), mb });
  }, 100);
  return {
    samples,
    stop() {
      clearInterval(timer);
      return samples;
    },
  };
}

// ---- commit detection ----

interface Seen {
  written: number;
  seen: number;
}

/** LISTENs for the trigger's notifications; per tag, the changes seen (by sequence number), duplicates counted. */
async function watchCommits(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const byTag = new Map<string, Map<number, Seen>>();
  let duplicates = 0;
  let waiter: (() => void) | undefined;
  client.on('notification', (n) => {
    const seen = micros();
    const [, tag, seq, written] = (n.payload ?? '').split('|');
    if (!tag) return;
    const got = byTag.get(tag) ?? new Map<number, Seen>();
    byTag.set(tag, got);
    if (got.has(Number(seq))) duplicates++;
    else got.set(Number(seq), { written: Number(written), seen });
    waiter?.();
  });
  await client.query(`LISTEN ${CHANNEL}`);
  return {
    client,
    get duplicates() {
      return duplicates;
    },
    seen: (tag: string) => byTag.get(tag) ?? new Map<number, Seen>(),
    /** Resolves once `count` changes of `tag` are seen, or after `ms` without a new one. */
    async until(tag: string, count: number, ms: number): Promise<void> {
      let last = -1;
      let lastChange = performance.now();
      while ((byTag.get(tag)?.size ?? 0) < count) {
        const size = byTag.get(tag)?.size ?? 0;
        if (size !== last) [last, lastChange] = [size, performance.now()];
        if (performance.now() - lastChange > ms) return;
        await new Promise<void>((resolve) => {
          waiter = resolve;
          setTimeout(resolve, 100);
        });
      }
    },
    close: () => client.end(),
  };
}

/** The detection's own delay: a NOTIFY sent on another connection (autocommit) until the listener has it. */
async function calibrate(url: string, watch: Awaited<ReturnType<typeof watchCommits>>, n: number) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (let i = 0; i < n; i++) {
      await client.query('SELECT pg_notify($1, $2)', [CHANNEL, `bench|detect|${i}|${micros()}`]);
      await watch.until('detect', i + 1, 2000);
      await sleep(10);
    }
  } finally {
    await client.end();
  }
  return latencies(watch.seen('detect'));
}

async function addMarkerTrigger(pool: pg.Pool): Promise<void> {
  await pool.query(`
    CREATE FUNCTION ${SCHEMA}.bench_notify() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN PERFORM pg_notify('${CHANNEL}', NEW.description); RETURN NULL; END $$;
    CREATE TRIGGER bench_notify AFTER INSERT OR UPDATE OF description ON ${SCHEMA}.account
      FOR EACH ROW WHEN (NEW.description LIKE 'bench|%') EXECUTE FUNCTION ${SCHEMA}.bench_notify()`);
}

// ---- figures ----

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface Latency {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

function latencies(seen: Map<number, Seen>): Latency {
  const ms = [...seen.values()].map((s) => (s.seen - s.written) / 1000).sort((a, b) => a - b);
  return { n: ms.length, p50: percentile(ms, 50), p99: percentile(ms, 99), max: ms.at(-1) ?? Number.NaN };
}

/** The stream's log: per phase, how many transactions applied how many events, and any syncs it ran. */
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

interface PhaseResult {
  label: string;
  changes: number;
  committed: number;
  rate: number;
  latency: Latency;
  transactions: number;
  maxBehindMs: number;
  streamCpu: number;
  emulatorCpu: number;
  seconds: number;
}

const fmt = (ms: number) => (Number.isNaN(ms) ? '-' : ms < 10 ? ms.toFixed(1) : ms.toFixed(0));

function table(phases: PhaseResult[], detect: Latency, burst: BurstResult | undefined): string {
  const head = ['phase', 'changes', 'committed', 'rate /s', 'p50 ms', 'p99 ms', 'max ms', 'events/tx', 'CPU s'];
  const rows = [
    [
      'detection (NOTIFY alone)',
      String(detect.n),
      String(detect.n),
      '-',
      fmt(detect.p50),
      fmt(detect.p99),
      fmt(detect.max),
      '-',
      '-',
    ],
    ...phases.map((p) => [
      p.label,
      p.changes.toLocaleString('en-US'),
      p.committed.toLocaleString('en-US'),
      p.rate.toFixed(1),
      fmt(p.latency.p50),
      fmt(p.latency.p99),
      fmt(p.latency.max),
      p.transactions > 0 ? (p.changes / p.transactions).toFixed(1) : '-',
      `${p.streamCpu.toFixed(1)} / ${p.emulatorCpu.toFixed(1)}`,
    ]),
  ];
  const widths = head.map((_, i) => Math.max(...[head, ...rows].map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const out = [line(head), ...rows.map(line)];
  out.push('', 'latency: emulator write -> row committed (notification read); CPU s: stream / emulator in the phase');
  if (burst)
    out.push(
      '',
      `burst: ${burst.changes.toLocaleString('en-US')} changes (${burst.perTx} per transaction) written in ` +
        `${(burst.writeMs / 1000).toFixed(1)} s, all committed ${(burst.drainMs / 1000).toFixed(1)} s after the ` +
        `first write (${Math.round(burst.committed / (burst.drainMs / 1000)).toLocaleString('en-US')} /s); ` +
        `committed ${burst.committed.toLocaleString('en-US')}`,
      `stream RSS: ${burst.rssBefore.toFixed(0)} MB before, peak ${burst.rssPeak.toFixed(0)} MB, ` +
        `${burst.rssAfter.toFixed(0)} MB after; VmHWM over the whole run ${burst.hwm.toFixed(0)} MB; ` +
        `${burst.transactions} transactions, ${burst.syncs} syncs; latency p50 ${fmt(burst.latency.p50)} ms, ` +
        `p99 ${fmt(burst.latency.p99)} ms, max ${fmt(burst.latency.max)} ms`,
    );
  return `${out.join('\n')}\n`;
}

interface BurstResult {
  changes: number;
  perTx: number;
  committed: number;
  writeMs: number;
  drainMs: number;
  rssBefore: number;
  rssPeak: number;
  rssAfter: number;
  hwm: number;
  transactions: number;
  syncs: number;
  latency: Latency;
  rss: { s: number; mb: number }[];
}

// ---- the run ----

function rateOf(spec: string): { rate: number; seconds: number } {
  const [rate, seconds] = spec.split(':').map(Number);
  if (!rate || !seconds) throw new Error(`expected RATE:SECONDS, got ${spec}`);
  return { rate, seconds };
}

/** What bin/sfsync.js will run: the bundle when it matches the sources (scripts/build/sourceManifest.js), else tsx. */
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

async function main(): Promise<void> {
  await mkdir(logDir, { recursive: true });
  const load = () =>
    os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  const loadBefore = load();
  const cli = await cliMode();
  say(`load average ${loadBefore}; CLI runs as ${cli}`);
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
  let watch: Awaited<ReturnType<typeof watchCommits>> | undefined;
  try {
    await db.dropTarget(SCHEMA);
    const sync = await runChild(process.execPath, ['bin/sfsync.js', 'sync', '--objects', 'Account'], {
      env,
      logFile: path.join(logDir, 'sync.log'),
    });
    if (sync.code !== 0) throw new Error(`sfsync sync exited with ${sync.code}:\n${sync.stderrTail}`);
    say(`initial sync: ${(sync.ms / 1000).toFixed(1)} s`);
    await addMarkerTrigger(db.pool);
    watch = await watchCommits(db.url);

    const counter = streamLogCounter();
    const log = createWriteStream(path.join(logDir, 'stream.log'));
    stream = spawn(process.execPath, ['bin/sfsync.js', 'stream', '--objects', 'Account'], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    createInterface({ input: stream.stderr! }).on('line', (l) => {
      log.write(`${l}\n`);
      counter.line(l);
    });
    const pid = stream.pid!;
    await waitConnected(db.pool, stream);
    counter.take();
    say(`stream connected (pid ${pid}), RSS ${(await procStatus(pid, 'VmRSS'))?.toFixed(0)} MB`);

    const detect = await calibrate(db.url, watch, 200);
    say(`detection alone: p50 ${fmt(detect.p50)} ms, p99 ${fmt(detect.p99)} ms`);

    const phases: PhaseResult[] = [];
    for (const [label, spec] of [
      ['slow', flags.slow],
      ['fast', flags.fast],
    ] as const) {
      const { rate, seconds } = rateOf(spec);
      const tag = `${label}${rate}`;
      const cpu0 = [await cpuSeconds(pid), await cpuSeconds(em.pid)];
      const t0 = performance.now();
      say(`${rate} changes/s for ${seconds} s ...`);
      const answer = await em.run({ op: 'steady', tag, rate, seconds });
      await watch.until(tag, answer.changes, 30_000);
      const cpu1 = [await cpuSeconds(pid), await cpuSeconds(em.pid)];
      const seen = watch.seen(tag);
      const applied = counter.take();
      const phase: PhaseResult = {
        label: `${rate}/s for ${seconds} s`,
        changes: answer.changes,
        committed: seen.size,
        rate: answer.changes / (answer.ms / 1000),
        latency: latencies(seen),
        transactions: applied.transactions,
        maxBehindMs: answer.maxBehindMs,
        streamCpu: cpu1[0]! - cpu0[0]!,
        emulatorCpu: cpu1[1]! - cpu0[1]!,
        seconds: (performance.now() - t0) / 1000,
      };
      phases.push(phase);
      say(
        `${phase.label}: achieved ${phase.rate.toFixed(1)}/s (schedule missed by at most ` +
          `${answer.maxBehindMs.toFixed(0)} ms), committed ${seen.size}/${answer.changes}, p50 ` +
          `${fmt(phase.latency.p50)} ms, p99 ${fmt(phase.latency.p99)} ms, max ${fmt(phase.latency.max)} ms, ` +
          `${applied.transactions} transactions`,
      );
      await sleep(2000);
    }

    let burst: BurstResult | undefined;
    const burstChanges = Number(flags.burst);
    if (burstChanges > 0) {
      const perTx = Number(flags['burst-tx']);
      counter.take();
      const rssBefore = (await procStatus(pid, 'VmRSS')) ?? Number.NaN;
      const sampler = sampleRss(pid);
      const t0 = performance.now();
      say(`burst of ${burstChanges} changes ...`);
      const answer = await em.run({ op: 'burst', tag: 'burst', changes: burstChanges, perTx });
      say(`burst written in ${(answer.ms / 1000).toFixed(1)} s`);
      await watch.until('burst', burstChanges, 60_000);
      const seen = watch.seen('burst');
      await sleep(1000);
      const samples = sampler.stop();
      let [firstWritten, lastSeen] = [Number.POSITIVE_INFINITY, 0];
      for (const s of seen.values())
        [firstWritten, lastSeen] = [Math.min(firstWritten, s.written), Math.max(lastSeen, s.seen)];
      const applied = counter.take();
      burst = {
        changes: burstChanges,
        perTx,
        committed: seen.size,
        writeMs: answer.ms,
        drainMs: (lastSeen - firstWritten) / 1000,
        rssBefore,
        rssPeak: Math.max(...samples.map((s) => s.mb)),
        rssAfter: samples.at(-1)?.mb ?? Number.NaN,
        hwm: (await procStatus(pid, 'VmHWM')) ?? Number.NaN,
        transactions: applied.transactions,
        syncs: applied.syncs,
        latency: latencies(seen),
        rss: samples.map((s) => ({ s: Number(((s.at - t0) / 1000).toFixed(1)), mb: Math.round(s.mb) })),
      };
    }

    const code = await new Promise<number | null>((resolve) => {
      stream!.once('exit', resolve);
      stream!.kill('SIGTERM');
    });
    stream = undefined;
    const result = {
      startedAt,
      settings: {
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
        streamExit: code,
        duplicates: watch.duplicates,
        logs: logDir,
      },
      detection: detect,
      phases,
      burst,
    };
    process.stdout.write(table(phases, detect, burst));
    process.stdout.write(
      `load average before ${loadBefore}, after ${result.settings.loadAfter}; duplicates ${watch.duplicates}; ` +
        `stream exit ${code}\n`,
    );
    const file = path.join(flags.out, `stream-${startedAt.replace(/[:.]/g, '-')}.json`);
    await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
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
