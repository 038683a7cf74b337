// How `npm run bench:stream` sees a change committed: a row trigger it adds to the streamed table NOTIFYs the marker
// each change wrote (scripts/bench/streamEmulator.ts), and PostgreSQL delivers a notification only once the
// transaction that raised it has committed. The time the bench reads it is therefore the commit plus the delivery;
// `calibrate` measures that delivery on its own.
import pg from 'pg';
import { quoteIdent } from '../../loaders/postgres.ts';

const CHANNEL = 'sfsync_bench';

/** CLOCK_MONOTONIC in microseconds (on Linux one clock for every process): the clock the markers carry. */
export const micros = () => Number(process.hrtime.bigint() / 1000n);

export interface Seen {
  /** When the emulator wrote the change (µs). */
  written: number;
  /** When the bench read its notification (µs). */
  seen: number;
}

export interface Latency {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

/** The trigger NOTIFYs markers only (`bench|...`): the stream's own catch-up sync writes none. */
export async function addMarkerTrigger(pool: pg.Pool, schema: string, table: string): Promise<void> {
  const fn = `${quoteIdent(schema)}.bench_notify`;
  await pool.query(`
    CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN PERFORM pg_notify('${CHANNEL}', NEW.description); RETURN NULL; END $$;
    CREATE TRIGGER bench_notify AFTER INSERT OR UPDATE OF description ON ${quoteIdent(schema)}.${quoteIdent(table)}
      FOR EACH ROW WHEN (NEW.description LIKE 'bench|%') EXECUTE FUNCTION ${fn}()`);
}

export async function dropMarkerTrigger(pool: pg.Pool, schema: string, table: string): Promise<void> {
  await pool.query(`DROP TRIGGER bench_notify ON ${quoteIdent(schema)}.${quoteIdent(table)}`);
}

export type CommitWatch = Awaited<ReturnType<typeof watchCommits>>;

/** LISTENs for the markers: per tag, the changes seen by sequence number; a change seen twice is counted. */
export async function watchCommits(url: string) {
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
    get duplicates() {
      return duplicates;
    },
    seen: (tag: string) => byTag.get(tag) ?? new Map<number, Seen>(),
    /** Resolves once `count` changes of `tag` are seen, or after `quietMs` without a new one. */
    async until(tag: string, count: number, quietMs: number): Promise<void> {
      let last = -1;
      let lastChange = performance.now();
      for (let size = byTag.get(tag)?.size ?? 0; size < count; size = byTag.get(tag)?.size ?? 0) {
        if (size !== last) [last, lastChange] = [size, performance.now()];
        if (performance.now() - lastChange > quietMs) return;
        await new Promise<void>((resolve) => {
          waiter = resolve;
          setTimeout(resolve, 100);
        });
      }
    },
    close: () => client.end(),
  };
}

/** The detection's own delay: a NOTIFY sent on another connection (autocommit) until the listener reads it. */
export async function calibrate(url: string, watch: CommitWatch, n: number): Promise<Latency> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (let i = 0; i < n; i++) {
      await client.query('SELECT pg_notify($1, $2)', [CHANNEL, `bench|detect|${i}|${micros()}`]);
      await watch.until('detect', i + 1, 2000);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  } finally {
    await client.end();
  }
  return latencies(watch.seen('detect'));
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Write to commit, ms; `fromUs`: only changes written that long after the first one. */
export function latencies(seen: Map<number, Seen>, fromUs = 0): Latency {
  let first = Number.POSITIVE_INFINITY;
  for (const s of seen.values()) first = Math.min(first, s.written);
  const ms = [...seen.values()]
    .filter((s) => s.written - first >= fromUs)
    .map((s) => (s.seen - s.written) / 1000)
    .sort((a, b) => a - b);
  return { n: ms.length, p50: percentile(ms, 50), p99: percentile(ms, 99), max: ms.at(-1) ?? Number.NaN };
}

/** p99 and max per second of writes: a steady tail and a few stalls look alike in one p99. */
export function perSecond(seen: Map<number, Seen>): { s: number; n: number; p99: number; max: number }[] {
  let first = Number.POSITIVE_INFINITY;
  for (const s of seen.values()) first = Math.min(first, s.written);
  const buckets = new Map<number, number[]>();
  for (const s of seen.values()) {
    const second = Math.floor((s.written - first) / 1e6);
    const bucket = buckets.get(second) ?? [];
    bucket.push((s.seen - s.written) / 1000);
    buckets.set(second, bucket);
  }
  return [...buckets.entries()]
    .sort(([a], [b]) => a - b)
    .map(([s, ms]) => {
      ms.sort((a, b) => a - b);
      return { s, n: ms.length, p99: Number(percentile(ms, 99).toFixed(1)), max: Number(ms.at(-1)!.toFixed(1)) };
    });
}
