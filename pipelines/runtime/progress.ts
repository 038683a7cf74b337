// Progress of long loads: in a terminal, a live block of one line per object on stderr, redrawn in place; otherwise
// (journald, CI, files) one structured log line per object in flight every so often.
import { formatCount } from '../../lib/format.ts';
import type { Logger } from '../../lib/log.ts';
import { liveRegion, type TerminalStream } from '../../lib/terminal.ts';

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
  /** Draws or logs the current state now; the timer calls it. */
  flush(): void;
  /** Stops the timer; a terminal's block is erased. */
  stop(): void;
}

export interface ProgressOptions {
  log: Logger;
  /** A TTY stream gets the live display (shared with the logger's terminal lines); anything else gets log lines. */
  stream: TerminalStream;
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
    `${formatCount(p.records)} records`.padStart(18),
    `${formatCount(recordsPerSecond(p, now))}/s`.padStart(10),
  ];
  if (p.bulkState) parts.push(`job ${p.bulkState}`);
  if (p.pagesDone !== undefined) parts.push(`page ${p.pagesDone}/${p.pagesTotal ?? '?'}`);
  parts.push(`${((now - p.startedAt) / 1000).toFixed(0)} s`);
  return parts.join('  ');
}

export function createProgress(opts: ProgressOptions): ProgressReporter {
  const now = opts.now ?? Date.now;
  const live = new Map<string, ObjectProgress>();
  const tty = Boolean(opts.stream.isTTY);
  const region = tty ? liveRegion(opts.stream) : undefined;

  const draw = () => region?.render([...live.values()].map((p) => formatProgressLine(p, now())));
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
      // Redrawn at once, so that no line printed above the block next shows the object still in flight.
      if (live.delete(object) && tty) draw();
    },
    flush,
    stop() {
      clearInterval(timer);
      // The block goes: what follows (a summary, the next run's block) starts where it began.
      region?.clear();
    },
  };
}
