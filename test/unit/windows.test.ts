// planWindows / halveWindow: cursor windows sized by COUNT, over a fake set of cursor values (pure logic).
import { describe, expect, it } from 'vitest';
import type { CursorWindow } from '../../extractors/soql.ts';
import { halveWindow, planWindows, timeWindows, type WindowPlanning } from '../../pipelines/sync/cursorWindows.ts';

const NOW = new Date('2026-01-01T00:00:00.000Z');

/** `timesOut`: COUNT answers QUERY_TIMEOUT (null) for windows this wide or wider, in ms. */
function planning(stamps: number[], maxRows: number, timesOut = Infinity): WindowPlanning & { counts: number } {
  const inWindow = (w: CursorWindow, t: number) =>
    (w.from === undefined || t >= Date.parse(w.from)) && (w.to === undefined || t < Date.parse(w.to));
  const p = {
    counts: 0,
    maxRows,
    now: NOW,
    earliest: async () => (stamps.length ? new Date(Math.min(...stamps)).toISOString() : null),
    count: async (w: CursorWindow) => {
      p.counts++;
      const span = (w.to ? Date.parse(w.to) : NOW.getTime()) - (w.from ? Date.parse(w.from) : 0);
      if (span >= timesOut) return null;
      return stamps.filter((t) => inWindow(w, t)).length;
    },
  };
  return p;
}

describe('planWindows', () => {
  it('keeps a load within the limit as one window with its own bounds', async () => {
    const p = planning(
      [1, 2, 3].map((d) => Date.parse('2025-01-01') + d * 86_400_000),
      10,
    );
    expect(await planWindows({ from: '2024-06-01T00:00:00.000Z' }, 3, p)).toEqual([
      { from: '2024-06-01T00:00:00.000Z', count: 3 },
    ]);
    expect(p.counts).toBe(0);
  });

  it('covers the range with ordered, adjoining windows of at most maxRows, the first and last left open', async () => {
    // 1,000 records spread over two years, a quarter of them in one busy week.
    const start = Date.parse('2024-01-01');
    const stamps = Array.from({ length: 750 }, (_, i) => start + i * 84_000_000).concat(
      Array.from({ length: 250 }, (_, i) => Date.parse('2025-03-01') + i * 2_000_000),
    );
    const p = planning(stamps, 100);
    const windows = await planWindows({}, stamps.length, p);
    expect(windows[0]!.from).toBeUndefined();
    expect(windows.at(-1)!.to).toBeUndefined();
    for (const [i, w] of windows.entries()) {
      expect(w.count!).toBeLessThanOrEqual(100);
      if (i > 0) expect(w.from).toBe(windows[i - 1]!.to ?? 'adjoining');
    }
    expect(windows.reduce((n, w) => n + w.count!, 0)).toBe(stamps.length);
    // One COUNT per split: a binary tree with these leaves has leaves - 1 inner nodes (no half was empty here).
    expect(p.counts).toBe(windows.length - 1);
  });

  it('leaves a window it cannot split (every record in the same second) as it is', async () => {
    const t = Date.parse('2025-05-05T05:05:05.000Z');
    const p = planning(Array(50).fill(t), 10);
    const windows = await planWindows({ from: new Date(t).toISOString(), to: new Date(t + 1000).toISOString() }, 50, p);
    expect(windows).toEqual([{ from: new Date(t).toISOString(), to: new Date(t + 1000).toISOString(), count: 50 }]);
  });

  it('plans nothing for an empty range', async () => {
    expect(await planWindows({}, 0, planning([], 10))).toEqual([]);
  });
});

describe('windows of a load Salesforce cannot count (QUERY_TIMEOUT on SELECT COUNT())', () => {
  const DAY = 86_400_000;

  it('cuts the range by time from the earliest cursor value, without a COUNT, first and last left open', async () => {
    const p = planning([Date.parse('2025-10-01T00:00:00.000Z'), Date.parse('2025-12-30T00:00:00.000Z')], 10);
    const windows = await planWindows({}, null, p);
    expect(p.counts).toBe(0);
    // 2025-10-01 to NOW (2026-01-01) is 92 days: three 30-day windows and the open rest.
    expect(windows).toEqual([
      { to: '2025-10-31T00:00:00.000Z', count: null },
      { from: '2025-10-31T00:00:00.000Z', to: '2025-11-30T00:00:00.000Z', count: null },
      { from: '2025-11-30T00:00:00.000Z', to: '2025-12-30T00:00:00.000Z', count: null },
      { from: '2025-12-30T00:00:00.000Z', count: null },
    ]);
  });

  it("starts a delta's windows at its lower bound, and keeps a range shorter than a span as one window", async () => {
    const p = planning([], 10);
    const from = new Date(NOW.getTime() - 45 * DAY).toISOString();
    expect(await timeWindows({ from }, p)).toEqual([
      { from, to: new Date(NOW.getTime() - 15 * DAY).toISOString(), count: null },
      { from: new Date(NOW.getTime() - 15 * DAY).toISOString(), count: null },
    ]);
    expect(await timeWindows({ from: new Date(NOW.getTime() - DAY).toISOString() }, p)).toHaveLength(1);
    // Nothing to start from (no records): one window, which a Bulk job reads as it is.
    expect(await timeWindows({}, p)).toEqual([{ count: null }]);
  });

  it('counts the halves when it can, and cuts by time a range whose halves cannot be counted', async () => {
    const start = Date.parse('2024-01-01');
    const stamps = Array.from({ length: 700 }, (_, i) => start + i * DAY);
    // COUNT over 400 days or more times out, but the whole was counted (700) and its halves can be: by count.
    const p = planning(stamps, 100, 400 * DAY);
    const windows = await planWindows({ from: '2024-01-01T00:00:00.000Z' }, 700, p);
    expect(windows.every((w) => w.count !== null && w.count <= 100)).toBe(true);
    expect(windows.reduce((n, w) => n + w.count!, 0)).toBe(700);

    // Halves that cannot be counted: the range is cut into 30-day spans instead.
    const q = planning(stamps, 100, 100 * DAY);
    const byTime = await planWindows({ from: '2024-01-01T00:00:00.000Z' }, 700, q);
    expect(byTime.every((w) => w.count === null)).toBe(true);
    expect(byTime).toHaveLength(Math.ceil((NOW.getTime() - start) / (30 * DAY)));
    expect(byTime[0]!.from).toBe('2024-01-01T00:00:00.000Z');
    expect(byTime.at(-1)!.to).toBeUndefined();
    for (const [i, w] of byTime.entries()) if (i > 0) expect(w.from).toBe(byTime[i - 1]!.to);
  });
});

describe('halveWindow', () => {
  it('splits at the middle of the time span, keeping open ends open', async () => {
    const p = planning([Date.parse('2024-01-01T00:00:00.000Z')], 1);
    const [a, b] = (await halveWindow({}, p))!;
    // 2024 is a leap year: 731 days to NOW, so the middle is 365.5 days on.
    expect(a).toEqual({ to: '2024-12-31T12:00:00.000Z' });
    expect(b).toEqual({ from: '2024-12-31T12:00:00.000Z' });
  });

  it('refuses a span under two seconds and an empty object', async () => {
    expect(
      await halveWindow({ from: '2025-01-01T00:00:00.000Z', to: '2025-01-01T00:00:01.500Z' }, planning([], 1)),
    ).toBeNull();
    expect(await halveWindow({}, planning([], 1))).toBeNull();
  });
});
