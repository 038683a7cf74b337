// Measures the two PostgreSQL job queues that run on Node 20 (graphile-worker 0.17.3, pg-boss 10.4.2) on what the
// worker fleet needs: job pickup latency, when a job held by a killed worker runs again, priority order, and what
// each puts in the database. Neither is a dependency while choosing, so both are loaded from a scratch directory:
//   mkdir /tmp/qc && cd /tmp/qc && npm init -y && npm install graphile-worker@0.17.3 pg-boss@10.4.2
//   QUEUE_CANDIDATES=/tmp/qc DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//     npx tsx scripts/bench/queueChoice.ts
// Each candidate gets a database of its own (created and dropped here). Figures: README.md, Dependencies.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

type Handler = (data: { n: number; sentAt: number }) => Promise<void>;

interface Candidate {
  name: string;
  /** Starts a worker of `concurrency` running `handler` for the queue `q`. */
  work(url: string, concurrency: number, handler: Handler): Promise<{ stop(): Promise<void> }>;
  /** Enqueues jobs; `rank` 0 first (each candidate maps it onto its own priority order). */
  send(url: string, jobs: { n: number; rank: number }[]): Promise<void>;
  /** The queue's own schema. */
  schema: string;
}

const dir = process.env.QUEUE_CANDIDATES ?? '/tmp/qc';
const load = (pkg: string) => createRequire(path.join(dir, 'package.json'))(pkg);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function graphile(): Candidate {
  const gw = load('graphile-worker');
  const silent = new gw.Logger(() => () => {});
  return {
    name: 'graphile-worker 0.17.3',
    schema: 'graphile_worker',
    async work(url, concurrency, handler) {
      const runner = await gw.run({
        connectionString: url,
        concurrency,
        noHandleSignals: true,
        pollInterval: 2000,
        logger: silent,
        taskList: { q: (payload: { n: number; sentAt: number }) => handler(payload) },
      });
      return { stop: () => runner.stop() };
    },
    async send(url, jobs) {
      const utils = await gw.makeWorkerUtils({ connectionString: url, logger: silent });
      try {
        for (const j of jobs) await utils.addJob('q', { n: j.n, sentAt: Date.now() }, { priority: j.rank });
      } finally {
        await utils.release();
      }
    },
  };
}

function pgBoss(): Candidate {
  const PgBoss = load('pg-boss');
  const boss = async (url: string) => {
    const b = new PgBoss({ connectionString: url, maintenanceIntervalSeconds: 1, monitorStateIntervalSeconds: 1 });
    b.on('error', () => {});
    await b.start();
    await b.createQueue('q');
    return b;
  };
  return {
    name: 'pg-boss 10.4.2',
    schema: 'pgboss',
    async work(url, concurrency, handler) {
      const b = await boss(url);
      for (let i = 0; i < concurrency; i++)
        await b.work('q', { pollingIntervalSeconds: 0.5 }, async ([job]: { data: { n: number; sentAt: number } }[]) =>
          handler(job!.data),
        );
      return { stop: () => b.stop({ graceful: false }) };
    },
    async send(url, jobs) {
      const b = await boss(url);
      try {
        for (const j of jobs)
          await b.send('q', { n: j.n, sentAt: Date.now() }, { priority: -j.rank, expireInSeconds: 2, retryLimit: 3 });
      } finally {
        await b.stop({ graceful: false });
      }
    },
  };
}

async function withDatabase<T>(admin: string, fn: (url: string) => Promise<T>): Promise<T> {
  const name = `queue_choice_${process.pid}`;
  const run = async (sql: string) => {
    const c = new pg.Client({ connectionString: admin });
    await c.connect();
    await c.query(sql).finally(() => c.end());
  };
  await run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await run(`CREATE DATABASE ${name}`);
  const u = new URL(admin);
  u.pathname = `/${name}`;
  try {
    return await fn(u.toString());
  } finally {
    await run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

/** Median ms from send to the handler's start, a job at a time on an idle worker. */
async function pickupLatency(c: Candidate, url: string): Promise<number> {
  const seen = new Map<number, number>();
  const worker = await c.work(url, 1, async (d) => {
    seen.set(d.n, Date.now() - d.sentAt);
  });
  const samples: number[] = [];
  for (let n = 0; n < 15; n++) {
    await sleep(300 + Math.random() * 700);
    await c.send(url, [{ n, rank: 0 }]);
    while (!seen.has(n)) await sleep(5);
    samples.push(seen.get(n)!);
  }
  await worker.stop();
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

/** 30 jobs of org A (ranks 0..29), then 3 of org B (ranks 0..2): where B's jobs run with one worker. */
async function priorityOrder(c: Candidate, url: string): Promise<number[]> {
  await c.send(url, [
    ...Array.from({ length: 30 }, (_, i) => ({ n: 100 + i, rank: i })),
    ...Array.from({ length: 3 }, (_, i) => ({ n: 200 + i, rank: i })),
  ]);
  const order: number[] = [];
  const worker = await c.work(url, 1, async (d) => {
    order.push(d.n);
  });
  while (order.length < 33) await sleep(20);
  await worker.stop();
  return order.flatMap((n, i) => (n >= 200 ? [i + 1] : []));
}

/** A child worker takes the job and is killed (SIGKILL); seconds until a second worker runs it, up to `limitS`. */
async function crashRecovery(c: Candidate, url: string, limitS: number): Promise<number | null> {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), 'child', c.name, url], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const taken = new Promise<void>((resolve) => child.stdout.on('data', () => resolve()));
  await c.send(url, [{ n: 1, rank: 0 }]);
  await taken;
  child.kill('SIGKILL');
  const killedAt = Date.now();
  let ranAt: number | undefined;
  const worker = await c.work(url, 1, async () => {
    ranAt ??= Date.now();
  });
  while (ranAt === undefined && Date.now() - killedAt < limitS * 1000) await sleep(50);
  await worker.stop();
  return ranAt === undefined ? null : (ranAt - killedAt) / 1000;
}

async function footprint(c: Candidate, url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const q = async (sql: string) => Number((await client.query(sql, [c.schema])).rows[0].n);
    const tables = await q(
      'SELECT count(*) AS n FROM pg_class k JOIN pg_namespace s ON s.oid = k.relnamespace ' +
        "WHERE s.nspname = $1 AND k.relkind IN ('r','p')",
    );
    const functions = await q(
      'SELECT count(*) AS n FROM pg_proc p JOIN pg_namespace s ON s.oid = p.pronamespace ' + 'WHERE s.nspname = $1',
    );
    const other = await q(
      "SELECT count(*) AS n FROM pg_namespace WHERE nspname NOT IN ('public', 'information_schema', $1) " +
        "AND nspname NOT LIKE 'pg\\_%'",
    );
    const tail = `${functions} functions; other schemas: ${other}`;
    return `schema ${c.schema}: ${tables} tables (partitions included), ${tail}`;
  } finally {
    await client.end();
  }
}

const candidates = [graphile(), pgBoss()];

if (process.argv[2] === 'child') {
  const c = candidates.find((x) => x.name === process.argv[3])!;
  // Takes the job, says so, and hangs until killed.
  await c.work(process.argv[4]!, 1, async () => {
    process.stdout.write('taken\n');
    await new Promise(() => {});
  });
} else {
  const admin = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  for (const c of candidates) {
    const figures = await withDatabase(admin, async (url) => ({
      latency: await pickupLatency(c, url),
      order: await priorityOrder(c, url),
      crash: await crashRecovery(c, url, 30),
      footprint: await footprint(c, url),
    }));
    console.log(c.name);
    console.log(`  pickup latency, idle worker (median of 15): ${figures.latency} ms`);
    console.log(`  org B's 3 jobs after org A's 30, one worker: ran at positions ${figures.order.join(', ')}`);
    const crash = figures.crash === null ? 'not within 30 s' : `${figures.crash} s`;
    console.log(`  job of a SIGKILLed worker ran again after: ${crash}`);
    console.log(`  ${figures.footprint}`);
  }
  process.exit(0);
}
