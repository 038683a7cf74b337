// Runs one measured command as its own process: wall time from spawn to exit, peak RSS from /proc/<pid>/status
// (VmHWM is the kernel's high-water mark, polled every 100 ms: only growth in the last poll interval can be missed),
// stdout kept (children report a JSON result line), stderr written to a log file.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';

export interface ChildRun {
  code: number | null;
  ms: number;
  peakRssMb: number;
  stdout: string;
  /** Last lines of stderr, for error messages. */
  stderrTail: string;
}

export interface ChildOptions {
  env: NodeJS.ProcessEnv;
  logFile: string;
  cwd?: string;
}

const POLL_MS = 100;
const TAIL_BYTES = 4000;

/** VmHWM in MB, or undefined once the process is gone. */
export async function peakRssMb(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const m = /^VmHWM:\s+(\d+) kB/m.exec(status);
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Polls a pid's VmHWM until stopped; `peak` is the highest value seen. */
export function watchRss(pid: number): { readonly peak: number; stop(): Promise<number> } {
  let peak = 0;
  const poll = async () => {
    const now = await peakRssMb(pid);
    if (now !== undefined) peak = Math.max(peak, now);
  };
  const timer = setInterval(() => void poll(), POLL_MS);
  return {
    get peak() {
      return peak;
    },
    async stop() {
      await poll();
      clearInterval(timer);
      return peak;
    },
  };
}

export function runChild(command: string, args: readonly string[], opts: ChildOptions): Promise<ChildRun> {
  const started = performance.now();
  const child = spawn(command, args, { env: opts.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const rss = watchRss(child.pid ?? -1);
  const log = createWriteStream(opts.logFile);
  let stdout = '';
  let tail = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
  });
  child.stderr.on('data', (b: Buffer) => {
    log.write(b);
    tail = (tail + b.toString('utf8')).slice(-TAIL_BYTES);
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      const ms = performance.now() - started;
      log.end();
      void rss.stop().then((peak) => resolve({ code, ms, peakRssMb: peak, stdout, stderrTail: tail }));
    });
  });
}
