// What a person reads in a terminal: log lines printed above the live progress block, counts grouped one way,
// relative times, and tables cut to the terminal's width.
import { describe, expect, it } from 'vitest';
import { formatRunsTable } from '../../cli/runs.ts';
import { formatStatusTable } from '../../cli/status.ts';
import { formatRelativeTime, formatTextTable } from '../../cli/textTable.ts';
import { formatCount } from '../../lib/format.ts';
import { createLogger } from '../../lib/log.ts';
import { liveRegion } from '../../lib/terminal.ts';
import type { RunRecord } from '../../loaders/state.ts';
import { createProgress } from '../../pipelines/runtime/progress.ts';
import type { StatusEntry } from '../../pipelines/runtime/status.ts';

function tty(columns = 120): { write(s: string): boolean; isTTY: true; columns: number; text: () => string } {
  let text = '';
  return {
    isTTY: true,
    columns,
    write(s: string) {
      text += s;
      return true;
    },
    text: () => text,
  };
}

const plain = (s: string) => s.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');

describe('the live region', () => {
  it('prints a line above the block: erases the block, writes the line, draws the block again', () => {
    const stream = tty();
    const region = liveRegion(stream);
    region.render(['Account  bulk', 'Contact  rest']);
    region.print('a warning');
    expect(stream.text()).toBe(
      '\x1b[2KAccount  bulk\n\x1b[2KContact  rest\n' +
        '\x1b[2F\x1b[0Ja warning\n\x1b[2KAccount  bulk\n\x1b[2KContact  rest\n',
    );
    region.clear();
    expect(stream.text().endsWith('\x1b[2F\x1b[0J')).toBe(true);
  });

  it('cuts block lines to the terminal width, so a redraw moves up exactly the lines it drew', () => {
    const stream = tty(20);
    liveRegion(stream).render(['x'.repeat(50)]);
    expect(plain(stream.text())).toBe(`${'x'.repeat(18)}…\n`);
  });
});

describe('the terminal logger', () => {
  const record = (log: ReturnType<typeof createLogger>) => {
    log.info({ object: 'Account', mode: 'initial', fetched: 200_000 }, 'object sync started');
    log.info(
      { object: 'Account', mode: 'initial', via: 'bulk', fetched: 200_000, inserted: 200_000, updated: 0, ms: 12_345 },
      'object synced',
    );
    log.warn({ object: 'Contact', err: 'socket hang up', accessToken: '00Dxx!secret' }, 'retrying');
  };

  it('shows warnings and one line per finished object, each on one line, through the progress block', () => {
    const stream = tty();
    const log = createLogger({ level: 'info', pretty: true, terminal: stream });
    const progress = createProgress({ log, stream, intervalMs: 60_000, now: () => 0 });
    progress.update('Contact', { phase: 'rest', records: 1_500 });
    progress.flush();
    record(log);
    progress.stop();
    const lines = plain(stream.text()).split('\n').filter(Boolean);
    expect(lines.filter((l) => l.startsWith('Contact'))).toHaveLength(3);
    expect(lines.filter((l) => !l.startsWith('Contact '))).toEqual([
      expect.stringMatching(
        /^\d\d:\d\d:\d\d done Account: initial via bulk: 200,000 read, 200,000 inserted, 0 updated, 0 deleted/,
      ),
      expect.stringMatching(/^\d\d:\d\d:\d\d WARN Contact: retrying err="socket hang up" accessToken=\[redacted\]$/),
    ]);
    expect(lines.join('\n')).toContain('0 deleted (12.3 s)');
    expect(stream.text()).not.toContain('secret');
  });

  it('with verbose, shows every record as one compact line', () => {
    const stream = tty();
    record(createLogger({ level: 'info', pretty: true, verbose: true, terminal: stream }));
    const lines = plain(stream.text()).split('\n').filter(Boolean);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/INFO Account: object sync started mode=initial fetched=200,000$/);
  });
});

describe('formats', () => {
  it('groups counts and reads instants relative to now', () => {
    expect(formatCount(200_000)).toBe('200,000');
    expect(formatCount(7)).toBe('7');
    const now = new Date('2024-05-01T12:00:00Z');
    expect(formatRelativeTime('2024-05-01T11:57:00Z', now)).toBe('3 min ago');
    expect(formatRelativeTime('2024-05-01T17:30:00Z', now)).toBe('in 5 h');
    expect(formatRelativeTime('2024-05-01T11:59:15Z', now)).toBe('45 s ago');
    expect(formatRelativeTime('2024-04-28T12:00:00Z', now)).toBe('3 d ago');
    expect(formatRelativeTime(null, now)).toBe('-');
  });

  it('cuts the one shrinkable column so the table fits the width', () => {
    const table = formatTextTable(['a', 'error'], [['x', 'e'.repeat(100)]], { width: 30, shrink: 1 });
    for (const line of table.trimEnd().split('\n')) expect(line.length).toBeLessThanOrEqual(30);
    expect(table).toContain(`${'e'.repeat(26)}…`);
  });
});

const now = new Date('2024-05-01T12:00:00Z');
const run: RunRecord = {
  id: 42,
  object: 'OpportunityLineItem',
  mode: 'incremental',
  status: 'failed',
  startedAt: '2024-05-01T11:56:00.000Z',
  finishedAt: '2024-05-01T11:57:00.000Z',
  durationMs: 60_000,
  rowsFetched: 1_234_567,
  rowsInserted: 1_000,
  rowsUpdated: 234_567,
  rowsDeleted: 3,
  bytes: 5_000_000,
  apiCalls: 12,
  bulkJobIds: ['750xx'],
  windowFrom: '2024-05-01T00:00:00.000Z',
  windowTo: '2024-05-01T11:00:00.000Z',
  error: `REQUEST_LIMIT_EXCEEDED: ${'the org has used its daily allowance '.repeat(5)}`,
};
const entry: StatusEntry = {
  object: 'OpportunityLineItem',
  table: 'salesforce.opportunitylineitem',
  rows: 1_234_567,
  watermark: { cursorField: 'SystemModstamp', value: '2024-05-01T10:00:00.000Z' },
  lagSeconds: 7_200,
  lastRun: run,
  schemaEvents: [],
  nextRun: '2024-05-01T17:30:00.000Z',
};

describe('status and runs tables', () => {
  it('status: the useful columns first, relative times, no line wider than the terminal', () => {
    const table = formatStatusTable([entry], { width: 80, now });
    const lines = table.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^object\s+rows\s+lag\s+last run\s+finished\s+next run\s+error$/);
    expect(lines[2]).toMatch(/^OpportunityLineItem\s+1,234,567\s+2h 0m\s+failed\s+3 min ago\s+in 5 h\s+REQUEST_L/);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(80);
    const wide = formatStatusTable([entry], { wide: true, width: 80, now });
    expect(wide.split('\n')[0]).toMatch(/^object\s+rows\s+watermark\s+lag\s+next run\s+last run\s+status/);
    expect(wide).toContain('2024-05-01T17:30:00Z');
    expect(wide).toContain(run.error);
  });

  it('runs: relative start, grouped counts, cut to the width; --wide keeps every column', () => {
    const lines = formatRunsTable([run], { width: 120, now }).trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^id\s+object\s+mode\s+status\s+started\s+duration\s+fetched\s+inserted\s+updated\s+error$/,
    );
    expect(lines[2]).toMatch(
      /^42\s+OpportunityLineItem\s+incremental\s+failed\s+4 min ago\s+60\.0 s\s+1,234,567\s+1,000/,
    );
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(120);
    // Narrower: the duration and the updates give way before the error is cut to nothing.
    const narrow = formatRunsTable([run], { width: 90, now }).trimEnd().split('\n');
    expect(narrow[0]).toMatch(/^id\s+object\s+mode\s+status\s+started\s+fetched\s+inserted\s+error$/);
    for (const line of narrow) expect(line.length).toBeLessThanOrEqual(90);
    const wide = formatRunsTable([run], { wide: true, now });
    expect(wide.split('\n')[0]).toMatch(/deleted\s+MB\s+api calls\s+bulk jobs\s+window\s+error$/);
    expect(wide).toContain('2024-05-01T11:56:00.000Z');
  });
});
