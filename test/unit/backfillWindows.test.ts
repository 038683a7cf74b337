// Backfill window splitting and argument validation (pure).
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/errors.ts';
import { MAX_WINDOWS, parseInstant, parseWindowSpec, splitWindows } from '../../pipelines/backfill/calendarWindows.ts';

const d = (iso: string) => new Date(iso);
const iso = (ws: { from: Date; to: Date }[]) => ws.map((w) => [w.from.toISOString(), w.to.toISOString()]);

describe('parseWindowSpec', () => {
  it.each([
    ['1mo', { count: 1, unit: 'mo' }],
    ['2w', { count: 2, unit: 'w' }],
    ['7d', { count: 7, unit: 'd' }],
    ['12h', { count: 12, unit: 'h' }],
  ])('reads %s', (text, spec) => {
    expect(parseWindowSpec(text)).toEqual(spec);
  });

  it.each(['', '0d', '1m', '1y', 'mo', '1.5d', '-1d', 'd1', '1 mo'])(
    'refuses %j with one line naming --window',
    (text) => {
      expect(() => parseWindowSpec(text)).toThrow(ConfigError);
      expect(() => parseWindowSpec(text)).toThrow(
        /^--window: '.*' is not a window size; use .* e\.g\. 1mo, 2w, 7d, 12h$/,
      );
    },
  );
});

describe('parseInstant', () => {
  it('reads a date as UTC midnight and a date-time without offset as UTC', () => {
    expect(parseInstant('2024-01-02', '--since').toISOString()).toBe('2024-01-02T00:00:00.000Z');
    expect(parseInstant('2024-01-02T03:04', '--since').toISOString()).toBe('2024-01-02T03:04:00.000Z');
    expect(parseInstant('2024-01-02T03:04:05.5Z', '--since').toISOString()).toBe('2024-01-02T03:04:05.500Z');
    expect(parseInstant('2024-01-02T03:04:05+02:00', '--until').toISOString()).toBe('2024-01-02T01:04:05.000Z');
  });

  it.each(['yesterday', '2024-02-30', '2024-13-01', '2024-1-1', '01/02/2024', '2024-01-02T25:00Z', ''])(
    'refuses %j naming the flag',
    (text) => {
      expect(() => parseInstant(text, '--until')).toThrow(ConfigError);
      expect(() => parseInstant(text, '--until')).toThrow(/^--until: '.*' is not an ISO 8601 date or date-time/);
    },
  );
});

describe('splitWindows', () => {
  it('cuts by calendar month, the last window ending at until', () => {
    expect(iso(splitWindows(d('2024-01-01T00:00:00Z'), d('2024-03-15T12:00:00Z'), parseWindowSpec('1mo')))).toEqual([
      ['2024-01-01T00:00:00.000Z', '2024-02-01T00:00:00.000Z'],
      ['2024-02-01T00:00:00.000Z', '2024-03-01T00:00:00.000Z'],
      ['2024-03-01T00:00:00.000Z', '2024-03-15T12:00:00.000Z'],
    ]);
  });

  it('clamps the day to the month without drifting (Jan 31 -> Feb 29 -> Mar 31)', () => {
    expect(
      iso(splitWindows(d('2024-01-31T06:00:00Z'), d('2024-05-01T00:00:00Z'), parseWindowSpec('1mo'))).map((w) => w[0]),
    ).toEqual([
      '2024-01-31T06:00:00.000Z',
      '2024-02-29T06:00:00.000Z',
      '2024-03-31T06:00:00.000Z',
      '2024-04-30T06:00:00.000Z',
    ]);
  });

  it('steps several months across a year end', () => {
    expect(iso(splitWindows(d('2023-11-01T00:00:00Z'), d('2024-05-01T00:00:00Z'), parseWindowSpec('3mo')))).toEqual([
      ['2023-11-01T00:00:00.000Z', '2024-02-01T00:00:00.000Z'],
      ['2024-02-01T00:00:00.000Z', '2024-05-01T00:00:00.000Z'],
    ]);
  });

  it('cuts by weeks, days and hours in fixed UTC steps', () => {
    expect(splitWindows(d('2024-03-01T00:00:00Z'), d('2024-03-29T00:00:00Z'), parseWindowSpec('2w'))).toHaveLength(2);
    expect(splitWindows(d('2024-03-30T00:00:00Z'), d('2024-04-02T00:00:00Z'), parseWindowSpec('1d'))).toHaveLength(3);
    expect(iso(splitWindows(d('2024-03-31T00:00:00Z'), d('2024-04-01T01:00:00Z'), parseWindowSpec('12h')))).toEqual([
      ['2024-03-31T00:00:00.000Z', '2024-03-31T12:00:00.000Z'],
      ['2024-03-31T12:00:00.000Z', '2024-04-01T00:00:00.000Z'],
      ['2024-04-01T00:00:00.000Z', '2024-04-01T01:00:00.000Z'],
    ]);
  });

  it('gives one window when the range is shorter than the window size', () => {
    expect(iso(splitWindows(d('2024-01-01T00:00:00Z'), d('2024-01-01T00:00:01Z'), parseWindowSpec('1mo')))).toEqual([
      ['2024-01-01T00:00:00.000Z', '2024-01-01T00:00:01.000Z'],
    ]);
  });

  it('covers the range exactly: contiguous, ordered, no gaps', () => {
    const windows = splitWindows(d('2021-05-17T13:00:00Z'), d('2024-02-03T04:05:06Z'), parseWindowSpec('1mo'));
    expect(windows[0]!.from.toISOString()).toBe('2021-05-17T13:00:00.000Z');
    expect(windows[windows.length - 1]!.to.toISOString()).toBe('2024-02-03T04:05:06.000Z');
    for (let i = 1; i < windows.length; i++) expect(windows[i]!.from).toEqual(windows[i - 1]!.to);
    for (const w of windows) expect(w.from.getTime()).toBeLessThan(w.to.getTime());
  });

  it('refuses since >= until with one line', () => {
    expect(() => splitWindows(d('2024-02-01T00:00:00Z'), d('2024-01-01T00:00:00Z'), parseWindowSpec('1d'))).toThrow(
      /^--since \(2024-02-01T00:00:00.000Z\) must be before --until \(2024-01-01T00:00:00.000Z\)$/,
    );
    expect(() => splitWindows(d('2024-01-01T00:00:00Z'), d('2024-01-01T00:00:00Z'), parseWindowSpec('1d'))).toThrow(
      ConfigError,
    );
  });

  it(`refuses more than ${MAX_WINDOWS} windows`, () => {
    expect(() => splitWindows(d('2000-01-01T00:00:00Z'), d('2024-01-01T00:00:00Z'), parseWindowSpec('1d'))).toThrow(
      /more than 1000 windows .* use a larger window/,
    );
  });
});
