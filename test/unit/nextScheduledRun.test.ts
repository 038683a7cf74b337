// When `sfsync status` says an object is next synced: cron arithmetic from a fixed "now", checked against node-cron.
import { createTask } from 'node-cron';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { nextScheduledRun, nextTick } from '../../pipelines/runtime/nextScheduledRun.ts';

const at = (iso: string) => new Date(iso);

describe('nextTick', () => {
  it('gives the first tick strictly after now', () => {
    expect(nextTick('0 2 * * *', 'UTC', at('2024-05-01T01:59:59.999Z'))).toEqual(at('2024-05-01T02:00:00Z'));
    expect(nextTick('0 2 * * *', 'UTC', at('2024-05-01T02:00:00Z'))).toEqual(at('2024-05-02T02:00:00Z'));
  });

  it('reads an optional leading seconds field', () => {
    expect(nextTick('*/15 * * * * *', 'UTC', at('2024-05-01T12:00:07.500Z'))).toEqual(at('2024-05-01T12:00:15Z'));
    expect(nextTick('30 0 2 * * *', 'UTC', at('2024-05-01T02:00:00Z'))).toEqual(at('2024-05-01T02:00:30Z'));
  });

  it('counts in the group time zone, across a daylight saving change', () => {
    // 02:00 in Paris is 00:00Z in summer (CEST) and 01:00Z in winter (CET); the clocks go back on 27 Oct 2024.
    expect(nextTick('0 2 * * *', 'Europe/Paris', at('2024-10-25T12:00:00Z'))).toEqual(at('2024-10-26T00:00:00Z'));
    expect(nextTick('0 2 * * *', 'Europe/Paris', at('2024-10-27T12:00:00Z'))).toEqual(at('2024-10-28T01:00:00Z'));
    expect(nextTick('30 4 * * *', 'Asia/Kolkata', at('2024-05-01T00:00:00Z'))).toEqual(at('2024-05-01T23:00:00Z'));
  });

  it('skips a wall-clock time that a spring-forward change removes, as node-cron does', () => {
    // New York skips 02:00-02:59 on 10 March 2024.
    expect(nextTick('30 2 * * *', 'America/New_York', at('2024-03-09T12:00:00Z'))).toEqual(at('2024-03-11T06:30:00Z'));
  });

  it('needs both day-of-month and day-of-week, as node-cron does (first Monday of the month)', () => {
    expect(nextTick('0 2 1-7 * 1', 'UTC', at('2024-05-01T00:00:00Z'))).toEqual(at('2024-05-06T02:00:00Z'));
  });
});

describe('nextTick agrees with node-cron, which runs the schedule', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  // A task's getNextRuns only computes from the wall clock, so the clock is fixed for it; it starts no timer here.
  // The nows include the eves of both 2024 daylight saving changes in New York and Paris, and a moment inside the
  // hour each fall-back change repeats.
  it.each([
    ['0 2 * * *', undefined],
    ['*/20 * * * * *', 'UTC'],
    ['30 4 * * *', 'Asia/Kolkata'],
    ['0 2 1-7 * 1', 'Europe/Paris'],
    ['0 0 L * *', 'UTC'],
    ['0 9 * * 1#2', 'America/New_York'],
    ['0 2 * * 7', 'UTC'],
    ['0 */6 * * MON-FRI', 'Australia/Sydney'],
    ['30 2 * * *', 'America/New_York'],
    ['30 2 * * *', 'Europe/Paris'],
    ['30 1 * * *', 'America/New_York'],
  ])('%s in %s', async (cron, timezone) => {
    for (const now of [
      '2024-02-28T23:59:59Z',
      '2024-03-09T12:00:00Z',
      '2024-10-26T22:10:00Z',
      '2024-10-27T00:10:00Z',
      '2024-11-03T05:10:00Z',
      '2025-12-31T23:00:00Z',
    ]) {
      vi.useFakeTimers({ toFake: ['Date'], now: at(now) });
      const task = createTask(cron, () => {}, { timezone });
      try {
        expect(nextTick(cron, timezone, at(now)), `${cron} after ${now}`).toEqual(task.getNextRuns(1)[0]);
      } finally {
        await task.destroy();
      }
    }
  });
});

describe('nextScheduledRun', () => {
  const now = at('2024-05-01T00:00:00Z');
  const groups = [
    { cron: '0 3 * * *', timezone: 'UTC' },
    { cron: '*/15 * * * *', objects: ['Task'], timezone: 'UTC' },
    { cron: '0 1 * * *', objects: ['Account'], timezone: 'UTC' },
  ];
  const configured = ['Account', 'Contact'];

  it('takes the earliest tick of the groups that sync the object', () => {
    expect(nextScheduledRun('Account', groups, configured, now)).toEqual(at('2024-05-01T01:00:00Z'));
    expect(nextScheduledRun('Task', groups, configured, now)).toEqual(at('2024-05-01T00:15:00Z'));
  });

  it('lets a group without a list sync every configured object, ignoring case', () => {
    expect(nextScheduledRun('contact', groups, configured, now)).toEqual(at('2024-05-01T03:00:00Z'));
  });

  it('is null for an object no group syncs', () => {
    expect(nextScheduledRun('Lead', groups, configured, now)).toBeNull();
    expect(nextScheduledRun('Account', [], configured, now)).toBeNull();
  });
});
