// The fleet's job order, keys and lease timings (pipelines/fleet/jobs.ts, queue.ts, tickJobs.ts).
import { describe, expect, it } from 'vitest';
import type { Config, ObjectOptions } from '../../lib/config.ts';
import { type JobData, describeJob, jobPriority, ranked, singletonKey } from '../../pipelines/fleet/jobs.ts';
import { leaseTimings } from '../../pipelines/fleet/queue.ts';
import { tickJobs } from '../../pipelines/fleet/tickJobs.ts';

const obj = (name: string): ObjectOptions => ({
  name,
  overlapMinutes: 10,
  fullRefresh: false,
  formulaRefreshHours: null,
  reconcileHours: null,
  history: false,
  where: null,
  columns: { include: null, exclude: [], hash: [] },
});

const syncJobs = (org: string, n: number) =>
  ranked(Array.from({ length: n }, (_, i) => ({ kind: 'sync' as const, org, schema: org, object: obj(`O${i}__c`) })));

/** pg-boss's fetch order: priority descending, then the order the jobs were queued in. */
const runOrder = (jobs: JobData[]) =>
  jobs
    .map((job, queued) => ({ job, queued }))
    .sort((a, b) => jobPriority(b.job) - jobPriority(a.job) || a.queued - b.queued)
    .map((x) => x.job);

describe('job priority', () => {
  it('runs every org of a batch in turn: an org with 300 objects does not hold the others back', () => {
    const order = runOrder([...syncJobs('big', 300), ...syncJobs('small', 12), ...syncJobs('tiny', 3)]);
    const places = (org: string) => order.flatMap((j, i) => (j.org === org ? [i + 1] : []));
    expect(places('tiny')).toEqual([3, 6, 9]);
    expect(places('small').at(-1)).toBe(3 * 3 + 2 * 9);
    expect(places('big').slice(0, 4)).toEqual([1, 4, 7, 10]);
    expect(order).toHaveLength(315);
  });

  it('puts an org whose batch came later ahead of the long tail of an earlier one', () => {
    const earlier = syncJobs('big', 300).slice(100);
    const order = runOrder([...earlier, ...syncJobs('late', 2)]);
    expect(order.slice(0, 2).map((j) => j.org)).toEqual(['late', 'late']);
  });

  it('runs backfill windows after every day-to-day job', () => {
    const windows = ranked(
      [0, 1].map((i) => ({
        kind: 'backfill-window' as const,
        org: 'a',
        schema: 'a',
        object: obj('Account'),
        window: { backfillId: 1, field: 'SystemModstamp', from: `2020-0${i + 1}-01`, to: `2020-0${i + 2}-01` },
      })),
    );
    const order = runOrder([...windows, ...syncJobs('a', 500)]);
    expect(order.slice(-2).map((j) => j.kind)).toEqual(['backfill-window', 'backfill-window']);
  });
});

describe('singleton keys', () => {
  it('are one per kind, schema and object (any case), and per backfill window', () => {
    const [a] = syncJobs('east', 1);
    expect(singletonKey(a!)).toBe('sync:east:o0__c');
    expect(singletonKey({ ...a!, object: obj('o0__C'), rank: 7 })).toBe(singletonKey(a!));
    expect(singletonKey({ ...a!, kind: 'formulas' })).toBe('formulas:east:o0__c');
    expect(singletonKey({ ...a!, schema: 'west' })).not.toBe(singletonKey(a!));
    const w = { backfillId: 4, field: 'CreatedDate', from: '2021-01-01T00:00:00.000Z', to: '2021-02-01T00:00:00.000Z' };
    expect(singletonKey({ ...a!, kind: 'backfill-window', window: w })).toBe(
      'backfill-window:east:o0__c:4:2021-01-01T00:00:00.000Z',
    );
    expect(describeJob({ ...a!, kind: 'backfill-window', window: w })).toBe(
      'backfill-window east O0__c [2021-01-01T00:00:00.000Z, 2021-02-01T00:00:00.000Z)',
    );
  });
});

describe('lease timings', () => {
  it('check leases and retry at a fraction of the lease, and stop a job before its lease ends', () => {
    expect(leaseTimings(7200)).toEqual({ maintenanceSeconds: 120, retryDelaySeconds: 60, abortAfterMs: 7_170_000 });
    expect(leaseTimings(600)).toEqual({ maintenanceSeconds: 75, retryDelaySeconds: 10, abortAfterMs: 570_000 });
    expect(leaseTimings(6)).toEqual({ maintenanceSeconds: 1, retryDelaySeconds: 1, abortAfterMs: 5_400 });
  });
});

describe('tickJobs', () => {
  it("queues a sync per object, then the group's pipelines, ranked in that order", () => {
    const config = { org: 'east', schema: 'salesforce_east', objects: [obj('Account'), obj('Contact')] } as Config;
    const pipelines = { pipelines: [{ name: 'opps', soql: '', overlapMinutes: 10, hash: [] }], parsed: [] };
    const jobs = tickJobs(config, pipelines);
    expect(jobs.map((j) => [j.kind, j.object?.name ?? j.pipeline, j.rank, j.schema])).toEqual([
      ['sync', 'Account', 0, 'salesforce_east'],
      ['sync', 'Contact', 1, 'salesforce_east'],
      ['pipeline', 'opps', 2, 'salesforce_east'],
    ]);
  });
});
