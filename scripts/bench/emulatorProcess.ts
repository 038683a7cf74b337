// Child entry for the bench: one emulator in its own process (so its CPU and memory are not the measured client's).
// Prints its connection info as ONE JSON line on stdout, then serves until stdin closes or SIGTERM. The bench drives
// it through the HTTP admin API (/__admin/…, emulator/admin.ts).
// Usage: node --import tsx scripts/bench/emulatorProcess.ts --accounts 100000 [--seed 1] [--bulk-latency-ms 0]
import { parseArgs } from 'node:util';
import { createEmulator } from '../../emulator/index.ts';

export interface EmulatorInfo {
  url: string;
  loginUrl: string;
  clientId: string;
  username: string;
  privateKeyPath: string;
  startupMs: number;
}

const { values } = parseArgs({
  options: {
    accounts: { type: 'string', default: process.env.BENCH_ACCOUNTS ?? '100000' },
    seed: { type: 'string', default: '1' },
    'bulk-latency-ms': { type: 'string', default: '0' },
    'bulk-ms-per-record': { type: 'string', default: '0.001' },
  },
});

const started = performance.now();
const em = await createEmulator({
  accounts: Number(values.accounts),
  seed: Number(values.seed),
  bulkLatencyMs: Number(values['bulk-latency-ms']),
  bulkMsPerRecord: Number(values['bulk-ms-per-record']),
  // The bench runs sync after sync against one org: never let the Developer Edition allowance stop it.
  dailyApiLimit: 10_000_000,
  dailyBulkQueryJobs: 100_000,
});
const info: EmulatorInfo = {
  url: em.url,
  loginUrl: em.loginUrl,
  clientId: em.clientId,
  username: em.username,
  privateKeyPath: em.privateKeyPath,
  startupMs: Math.round(performance.now() - started),
};
process.stdout.write(`${JSON.stringify(info)}\n`);

let closing = false;
async function shutdown(): Promise<void> {
  if (closing) return;
  closing = true;
  await em.close();
  process.exit(0);
}
process.once('SIGTERM', shutdown).once('SIGINT', shutdown);
// The parent holds our stdin open: when it goes away (even by crash), so do we.
process.stdin.on('end', shutdown).on('close', shutdown).resume();
