// Child entry for `npm run bench:stream` (scripts/bench/stream.ts): one emulator with the Pub/Sub API on and Change
// Data Capture for Account, in its own process so that its CPU is not the measured stream's, and the mutation driver
// next to it, so that a change is written at the moment it is due rather than an HTTP round trip later.
// Prints its connection info as ONE JSON line on stdout, then takes commands as JSON lines on stdin and answers each
// with one JSON line on stdout; exits when stdin closes or on SIGTERM.
//
// Every mutation sets an Account's Description to a marker `bench|<tag>|<seq>|<written>`: `written` is
// process.hrtime in microseconds, taken just before the write. On Linux that clock is CLOCK_MONOTONIC, one clock for
// every process of the machine, so the bench compares it with its own.
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { createEmulator } from '../../emulator/index.ts';

export interface StreamEmulatorInfo {
  url: string;
  loginUrl: string;
  clientId: string;
  username: string;
  privateKeyPath: string;
  pubsubEndpoint: string;
  caBundlePath: string;
  accounts: number;
}

/** Steady: `rate` single-record transactions a second for `seconds`. Burst: `changes` in transactions of `perTx`. */
export type Command =
  | { op: 'steady'; tag: string; rate: number; seconds: number }
  | { op: 'burst'; tag: string; changes: number; perTx: number };

export interface Answer {
  op: string;
  tag: string;
  changes: number;
  /** From the first write to the last, ms. */
  ms: number;
  /** How far the writes fell behind their schedule at worst, ms (steady only). */
  maxBehindMs: number;
}

const micros = () => Number(process.hrtime.bigint() / 1000n);
const marker = (tag: string, seq: number) => `bench|${tag}|${seq}|${micros()}`;

const { values } = parseArgs({ options: { accounts: { type: 'string', default: '10000' } } });
const em = await createEmulator({
  accounts: Number(values.accounts),
  seed: 1,
  pubsub: { cdcObjects: ['Account'] },
  dailyApiLimit: 10_000_000,
  dailyBulkQueryJobs: 100_000,
});
const snap = em.store.snapshot('Account');
const ids: string[] = [];
for (let i = 0; i < snap.size; i++) {
  const rec = snap.at(i);
  if (rec && rec.IsDeleted !== true) ids.push(rec.Id);
}
const info: StreamEmulatorInfo = {
  url: em.url,
  loginUrl: em.loginUrl,
  clientId: em.clientId,
  username: em.username,
  privateKeyPath: em.privateKeyPath,
  pubsubEndpoint: em.pubsub!.endpoint,
  caBundlePath: em.pubsub!.caBundlePath,
  accounts: ids.length,
};
process.stdout.write(`${JSON.stringify(info)}\n`);

let next = 0;
/** One update, one Salesforce transaction, one change event; records taken in turn. */
const mutate = (tag: string, seq: number) => {
  em.store.update(ids[next++ % ids.length]!, { Description: marker(tag, seq) });
};
const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

/** Writes each change when it is due (t0 + seq / rate), catching up at once on whatever a late timer left behind. */
async function steady(c: Extract<Command, { op: 'steady' }>): Promise<Answer> {
  const total = Math.round(c.rate * c.seconds);
  const started = performance.now();
  let first = 0;
  let seq = 0;
  let maxBehindMs = 0;
  while (seq < total) {
    const now = performance.now();
    const due = started + (seq * 1000) / c.rate;
    if (due > now) {
      await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.floor(due - now))));
      continue;
    }
    maxBehindMs = Math.max(maxBehindMs, now - due);
    if (seq === 0) first = performance.now();
    mutate(c.tag, seq++);
  }
  return { op: c.op, tag: c.tag, changes: total, ms: performance.now() - first, maxBehindMs };
}

/** As fast as the emulator goes; the event loop gets a turn between transactions, so the gRPC server can send. */
async function burst(c: Extract<Command, { op: 'burst' }>): Promise<Answer> {
  const started = performance.now();
  for (let seq = 0; seq < c.changes; ) {
    const end = Math.min(c.changes, seq + c.perTx);
    em.pubsub!.transaction(() => {
      for (; seq < end; seq++) mutate(c.tag, seq);
    });
    await tick();
  }
  return { op: c.op, tag: c.tag, changes: c.changes, ms: performance.now() - started, maxBehindMs: 0 };
}

let closing = false;
async function shutdown(): Promise<void> {
  if (closing) return;
  closing = true;
  await em.close();
  process.exit(0);
}
process.once('SIGTERM', shutdown).once('SIGINT', shutdown);

for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const c = JSON.parse(line) as Command;
  const answer = c.op === 'steady' ? await steady(c) : await burst(c);
  process.stdout.write(`${JSON.stringify(answer)}\n`);
}
await shutdown();
