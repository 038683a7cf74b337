import { describe, expect, it } from 'vitest';
import { planObject } from '../../pipelines/plan.ts';

const wm = { cursorField: 'SystemModstamp', value: '2024-05-01T10:00:00.000Z' };

describe('planObject', () => {
  it('loads an object with no watermark initially', () => {
    expect(planObject({ cursorField: 'SystemModstamp', watermark: null, fullRefresh: false, overlapMinutes: 10 })).toEqual({ mode: 'initial', cursorField: 'SystemModstamp' });
  });
  it('reads deltas from the watermark minus the overlap', () => {
    expect(planObject({ cursorField: 'SystemModstamp', watermark: wm, fullRefresh: false, overlapMinutes: 10 })).toEqual({
      mode: 'incremental',
      from: '2024-05-01T09:50:00.000Z',
      cursorField: 'SystemModstamp',
    });
  });
  it('honours --full-refresh even with a watermark', () => {
    expect(planObject({ cursorField: 'SystemModstamp', watermark: wm, fullRefresh: true, overlapMinutes: 10 }).mode).toBe('full-refresh');
  });
  it('fully refreshes objects without a cursor field every run', () => {
    expect(planObject({ cursorField: null, watermark: null, fullRefresh: false, overlapMinutes: 10 }).mode).toBe('full-refresh');
  });
  it('starts over when the watermark was kept on another cursor field', () => {
    expect(planObject({ cursorField: 'LastModifiedDate', watermark: wm, fullRefresh: false, overlapMinutes: 10 }).mode).toBe('initial');
  });
});
