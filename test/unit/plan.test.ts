import { describe, expect, it } from 'vitest';
import { cappedWatermark, deletedWindow, planObject } from '../../pipelines/sync/plan.ts';

const wm = { cursorField: 'SystemModstamp', value: '2024-05-01T10:00:00.000Z' };

describe('planObject', () => {
  it('loads an object with no watermark initially', () => {
    expect(
      planObject({ cursorField: 'SystemModstamp', watermark: null, fullRefresh: false, overlapMinutes: 10 }),
    ).toEqual({ mode: 'initial' });
  });
  it('reads deltas from the watermark minus the overlap', () => {
    expect(
      planObject({ cursorField: 'SystemModstamp', watermark: wm, fullRefresh: false, overlapMinutes: 10 }),
    ).toEqual({
      mode: 'incremental',
      from: '2024-05-01T09:50:00.000Z',
    });
  });
  it('honours --full-refresh even with a watermark', () => {
    expect(
      planObject({ cursorField: 'SystemModstamp', watermark: wm, fullRefresh: true, overlapMinutes: 10 }).mode,
    ).toBe('full-refresh');
  });
  it('fully refreshes objects without a cursor field every run', () => {
    expect(planObject({ cursorField: null, watermark: null, fullRefresh: false, overlapMinutes: 10 }).mode).toBe(
      'full-refresh',
    );
  });
  it('starts over when the watermark was kept on another cursor field', () => {
    expect(
      planObject({ cursorField: 'LastModifiedDate', watermark: wm, fullRefresh: false, overlapMinutes: 10 }).mode,
    ).toBe('initial');
  });
});

describe('cappedWatermark', () => {
  const now = new Date('2024-05-01T12:00:00.000Z');
  it('keeps the highest cursor loaded when it is older than now minus the overlap', () => {
    expect(cappedWatermark('2024-05-01T11:00:00.000Z', now, 10)).toBe('2024-05-01T11:00:00.000Z');
  });
  it('never moves past the server clock minus the overlap', () => {
    expect(cappedWatermark('2024-05-01T11:59:00.000Z', now, 10)).toBe('2024-05-01T11:50:00.000Z');
  });
  it('has nothing to save when nothing was loaded', () => {
    expect(cappedWatermark(null, now, 10)).toBeNull();
  });
});

describe('deletedWindow', () => {
  const now = new Date('2024-05-20T12:00:00.000Z');
  it('reads from the last check minus the lookback up to the server clock', () => {
    expect(deletedWindow('2024-05-20T11:00:00.000Z', now, 10)).toEqual({
      start: new Date('2024-05-20T10:50:00.000Z'),
      end: now,
      gap: false,
    });
  });
  it('clips a window older than 15 days and flags the gap', () => {
    const w = deletedWindow('2024-05-01T00:00:00.000Z', now, 10)!;
    expect(w.gap).toBe(true);
    expect(w.start.toISOString()).toBe('2024-05-05T12:02:00.000Z');
  });
  it('skips a window shorter than two minutes and an object never checked', () => {
    expect(deletedWindow('2024-05-20T11:59:30.000Z', now, 0)).toBeNull();
    expect(deletedWindow(null, now, 10)).toBeNull();
  });
});
