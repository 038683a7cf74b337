// Progress of long loads: in a terminal, a live block of one line per object on stderr, redrawn in place; otherwise
// (journald, CI, files) one structured log line per object in flight every so often.
import type { Logger } from '../../lib/log.ts';

export interface ObjectProgress {
  object: string;
  /** e.g. 'describe', 'count', 'bulk', 'rest', 'commit' */
  phase: string;
  records: number;
  /**
   * Bulk job state (docs/salesforce.md#bulk-api-20-job-states: UploadComplete, InProgress, JobComplete, ...), when
   * loading through Bulk.
   */
  bulkState?: string;
  pagesDone?: number;
  /** Known only when Salesforce said how many records to expect and how many a page holds. */
  pagesTotal?: number;
  startedAt: number;
  /** Counters read at each redraw, e.g. the Bulk CSV stream being loaded: its records add to `records`. */
  live?: LiveCounts;
}

export interface LiveCounts {
  readonly records: number;
  readonly pages?: number;
  readonly pagesTotal?: number | undefined;
}

/** The entry with its live counters folded in. */
function current(p: ObjectProgress): ObjectProgress {
  if (!p.live) return p;
  const { records, pages, pagesTotal } = p.live;
  return {
    ...p,
    records: p.records + records,
    pagesDone: pages ?? p.pagesDone,
    pagesTotal: pagesTotal ?? p.pagesTotal,
  };
}

export type ProgressPatch = Partial<Omit<ObjectProgress, 'object' | 'startedAt'>>;

export interface ProgressReporter {
  update(object: string, patch: ProgressPatch): void;
  finish(object: string): void;
  /** Draws or logs the current state now; the timer calls it, and stop() once more at the end. */
  flush(): void;
  stop(): void;
}

export interface ProgressOptions {
  log: Logger;
  /** A TTY stream gets the live display; anything else gets log lines. */
  stream: NodeJS.WritableStream & { isTTY?: boolean };
  intervalMs?: number;
  now?: () => number;
}

export function recordsPerSecond(p: ObjectProgress, now: number): number {
  const seconds = (now - p.startedAt) / 1000;
  return seconds > 0 ? Math.round(p.records / seconds) : 0;
}

export function formatProgressLine(entry: ObjectProgress, now: number): string {
  const p = current(entry);
  const parts = [
    p.object.padEnd(24),
    p.phase.padEnd(8),
    `${p.records.toLocaleString('en-US')} records`.padStart(18),
    `${recordsPerSecond(p, now).toLocaleString('en-US')}/s`.padStart(10),
  ];
  if (p.bulkState) parts.push(`job ${p.bulkState}`);
  if (p.pagesDone !== undefined) parts.push(`page ${p.pagesDone}/${p.pagesTotal ?? '?'}`);
  parts.push(`${((now - p.startedAt) / 1000).toFixed(0)} s`);
  return parts.join('  ');
}

/** ANSI: move to the start of the line `n` lines up, and clear a line. */
const up = (n: number) => (n > 0 ? `\x1b[${n}F` : '');
const CLEAR = '\x1b[2K';

export function createProgress(opts: ProgressOptions): ProgressReporter {
  const now = opts.now ?? Date.now;
  const live = new Map<string, ObjectProgress>();
  const tty = Boolean(opts.stream.isTTY);
  let drawn = 0;

  const draw = () => {
    const lines = [...live.values()].map((p) => formatProgressLine(p, now()));
    // Redraw over the previous block; finished objects leave it, so clear the lines no longer used.
    const out = lines.map((l) => `${CLEAR}${l}\n`).join('') + `${CLEAR}\n`.repeat(Math.max(0, drawn - lines.length));
    opts.stream.write(up(drawn) + out);
    drawn = Math.max(drawn, lines.length);
  };
  const logLines = () => {
    for (const entry of live.values()) {
      const p = current(entry);
      const { object, phase, records, bulkState, pagesDone, pagesTotal } = p;
      opts.log.info(
        { object, phase, records, perSecond: recordsPerSecond(p, now()), bulkState, pagesDone, pagesTotal },
        'progress',
      );
    }
  };
  const flush = tty ? draw : logLines;
  const timer = setInterval(flush, opts.intervalMs ?? (tty ? 250 : 10_000));
  // Progress never keeps the process alive on its own.
  timer.unref();

  return {
    update(object, patch) {
      const current = live.get(object) ?? { object, phase: 'start', records: 0, startedAt: now() };
      live.set(object, { ...current, ...patch });
    },
    finish(object) {
      live.delete(object);
    },
    flush,
    stop() {
      clearInterval(timer);
      if (tty) flush();
    },
  };
}
