// Progress display: the line format, the live terminal block, and the log lines used when stderr is not a terminal.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../lib/log.ts';
import { createProgress, formatProgressLine } from '../../pipelines/runtime/progress.ts';

function sink(isTTY: boolean): Writable & { isTTY: boolean; text: () => string } {
  let text = '';
  const w = new Writable({
    write(chunk, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  return Object.assign(w, { isTTY, text: () => text });
}

describe('progress', () => {
  it('formats records, rate, Bulk state and pages', () => {
    const line = formatProgressLine(
      { object: 'Account', phase: 'bulk', records: 12_000, bulkState: 'JobComplete', pagesDone: 3, startedAt: 0 },
      4000,
    );
    expect(line).toMatch(/^Account\s+bulk\s+12,000 records\s+3,000\/s {2}job JobComplete {2}page 3\/\? {2}4 s$/);
  });

  it('redraws one line per object in flight on a terminal', () => {
    const stream = sink(true);
    let t = 0;
    const p = createProgress({ log: createLogger({ level: 'silent' }), stream, now: () => t, intervalMs: 60_000 });
    p.update('Account', { phase: 'bulk', records: 100 });
    p.update('Contact', { phase: 'rest', records: 5 });
    t = 1000;
    p.flush();
    p.finish('Account');
    p.update('Contact', { records: 50 });
    p.flush();
    p.stop();
    const frames = stream.text().split('\x1b[2F');
    // Drawn, redrawn when Account finished, redrawn by the flush, erased by stop.
    expect(frames).toHaveLength(4);
    expect(frames[0]).toMatch(/Account.*100 records.*\n.*Contact.*5 records/);
    // After Account finished, the block keeps its height: Contact's line, then a cleared line.
    expect(frames[1]).toMatch(/^\x1b\[2KContact.*5 records.*\n\x1b\[2K\n$/);
    expect(frames[2]).toMatch(/^\x1b\[2KContact.*50 records.*\n\x1b\[2K\n$/);
    expect(frames[3]).toBe('\x1b[0J');
  });

  it('logs structured lines when stderr is not a terminal', () => {
    const stream = sink(false);
    const logs = sink(false);
    const p = createProgress({
      log: createLogger({ level: 'info', destination: logs }),
      stream,
      now: () => 2000,
      intervalMs: 60_000,
    });
    p.update('Account', { phase: 'bulk', records: 10, bulkState: 'InProgress' });
    p.flush();
    p.stop();
    expect(stream.text()).toBe('');
    const line = JSON.parse(logs.text().trim()) as Record<string, unknown>;
    expect(line).toMatchObject({
      msg: 'progress',
      object: 'Account',
      phase: 'bulk',
      records: 10,
      bulkState: 'InProgress',
    });
  });
});
