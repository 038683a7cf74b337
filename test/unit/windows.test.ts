// planWindows / halveWindow: cursor windows sized by COUNT, over a fake set of cursor values (pure logic).
import { describe, expect, it } from 'vitest';
import type { CursorWindow } from '../../extractors/soql.ts';
import { halveWindow, planWindows, type WindowPlanning } from '../../pipelines/sync/cursorWindows.ts';

const NOW = new Date('2026-01-01T00:00:00.000Z');

function planning(stamps: number[], maxRows: number): WindowPlanning & { counts: number } {
  const inWindow = (w: CursorWindow, t: number) =>
    (w.from === undefined || t >= Date.parse(w.from)) && (w.to === undefined || t < Date.parse(w.to));
  const p = {
    counts: 0,
    maxRows,
    now: NOW,
    earliest: async () => (stamps.length ? new Date(Math.min(...stamps)).toISOString() : null),
    count: async (w: CursorWindow) => {
      p.counts++;
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
      expect(w.count).toBeLessThanOrEqual(100);
      if (i > 0) expect(w.from).toBe(windows[i - 1]!.to ?? 'adjoining');
    }
    expect(windows.reduce((n, w) => n + w.count, 0)).toBe(stamps.length);
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
