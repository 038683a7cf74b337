// The parent's handle on an emulator child (scripts/bench/emulatorProcess.ts): start it, call its HTTP admin API
// (/__admin/…, emulator/admin.ts), watch its memory, stop it.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { EmulatorInfo } from './emulatorProcess.ts';
import { watchRss } from './measureChild.ts';

export interface EmulatorSettings {
  accounts: number;
  seed?: number;
  bulkLatencyMs?: number;
  bulkMsPerRecord?: number;
}

export interface Counters {
  apiCalls: number;
  bulkQueryJobs: number;
  bulkResultBytes: number;
}

export interface EmulatorHost {
  info: EmulatorInfo;
  /** JSON in, JSON (or nothing) out; throws on a non-2xx answer. */
  admin<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  counters(): Promise<Counters>;
  readonly pid: number;
  readonly peakRssMb: number;
  stop(): Promise<void>;
}

const TSX = ['--import', 'tsx'];

export async function startEmulator(settings: EmulatorSettings, logFile: string): Promise<EmulatorHost> {
  const args = [
    ...TSX,
    'scripts/bench/emulatorProcess.ts',
    '--accounts',
    String(settings.accounts),
    '--seed',
    String(settings.seed ?? 1),
    '--bulk-latency-ms',
    String(settings.bulkLatencyMs ?? 0),
    '--bulk-ms-per-record',
    String(settings.bulkMsPerRecord ?? 0.001),
  ];
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stderr?.pipe(createWriteStream(logFile));
  const info = await firstLine(child);
  const rss = watchRss(child.pid ?? -1);
  async function admin<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${info.url}/__admin/${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`emulator admin ${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }
  return {
    info,
    admin,
    counters: () => admin<Counters>('GET', 'counters'),
    pid: child.pid ?? -1,
    get peakRssMb() {
      return rss.peak;
    },
    async stop() {
      await rss.stop();
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin?.end();
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function firstLine(child: ChildProcess): Promise<EmulatorInfo> {
  const lines = createInterface({ input: child.stdout! });
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) =>
      reject(new Error(`emulator child exited with ${code} before it was ready (see its log)`)),
    ),
  );
  const ready = (async () => {
    for await (const line of lines) if (line.startsWith('{')) return JSON.parse(line) as EmulatorInfo;
    throw new Error('emulator child closed stdout before it was ready');
  })();
  return Promise.race([ready, exited]);
}
