// Hard-delete detection decisions without a server (pipelines/completeness/deletes.ts, reconcileObject.ts): objects
// getDeleted refuses are not asked, any 4xx of getDeleted means "reconcile instead", and the reconcile schedule.
import { describe, expect, it } from 'vitest';
import type { SalesforceHttp } from '../../extractors/client/salesforceHttp.ts';
import { SalesforceApiError } from '../../lib/errors.ts';
import { silentLogger } from '../../lib/log.ts';
import { checkDeleted } from '../../pipelines/completeness/deletes.ts';
import {
  DEFAULT_RECONCILE_HOURS_WITHOUT_GETDELETED,
  reconcileHoursOf,
} from '../../pipelines/completeness/reconcileObject.ts';
import type { ObjectSpec } from '../../schemas/records.ts';

const now = new Date('2024-05-01T12:00:00.000Z');
const since = '2024-05-01T10:00:00.000Z';

function spec(extra: Partial<ObjectSpec> = {}): ObjectSpec {
  return {
    name: 'AccountShare',
    table: 'accountshare',
    label: 'Account Share',
    fields: [],
    cursorField: 'LastModifiedDate',
    hasIsDeleted: true,
    ...extra,
  };
}

/** A client whose getDeleted answers `reply` (a body, or an error to throw), counting the calls. */
function fakeHttp(reply: unknown): { http: SalesforceHttp; calls: string[] } {
  const calls: string[] = [];
  const http = {
    serverNow: () => now,
    get: async (path: string) => {
      calls.push(path);
      if (reply instanceof Error) throw reply;
      return reply;
    },
  } as unknown as SalesforceHttp;
  return { http, calls };
}

const refused = (status: number, errorCode: string) =>
  new SalesforceApiError(`${errorCode}: refused`, { status, errorCode, method: 'GET', url: '/sobjects/X/deleted/' });

describe('checkDeleted', () => {
  it('does not call getDeleted for an object that is not replicateable', async () => {
    const { http, calls } = fakeHttp(refused(400, 'INVALID_TYPE'));
    expect(await checkDeleted(http, silentLogger(), spec({ replicateable: false }), since, 10)).toBeNull();
    expect(calls).toEqual([]);
  });

  it.each([
    [400, 'INVALID_TYPE'],
    [403, 'INSUFFICIENT_ACCESS'],
    [404, 'NOT_FOUND'],
    [400, 'INVALID_REPLICATION_DATE'],
  ])('takes getDeleted %s %s as "reconcile instead", not a failed sync', async (status, code) => {
    const { http, calls } = fakeHttp(refused(status, code));
    const check = await checkDeleted(http, silentLogger(), spec({ name: 'Account' }), since, 10);
    expect(calls).toHaveLength(1);
    expect(check).toEqual({ entries: [], coveredUntil: now.toISOString(), lost: true });
  });

  it('still fails on a 5xx (the call retried it already) and stops the run on REQUEST_LIMIT_EXCEEDED', async () => {
    for (const err of [refused(500, 'ERROR_HTTP_500'), refused(403, 'REQUEST_LIMIT_EXCEEDED')]) {
      const { http } = fakeHttp(err);
      await expect(checkDeleted(http, silentLogger(), spec({ name: 'Account' }), since, 10)).rejects.toBe(err);
    }
  });

  it('reads the deletes of a replicateable object', async () => {
    const body = {
      deletedRecords: [{ id: '001000000000001AAA', deletedDate: '2024-05-01T11:00:00.000+0000' }],
      earliestDateAvailable: '2024-04-20T00:00:00.000+0000',
      latestDateCovered: '2024-05-01T11:59:00.000+0000',
    };
    const { http } = fakeHttp(body);
    expect(await checkDeleted(http, silentLogger(), spec({ name: 'Account', replicateable: true }), since, 10)).toEqual(
      { entries: body.deletedRecords, coveredUntil: body.latestDateCovered, lost: false },
    );
  });
});

describe('reconcileHoursOf', () => {
  it('reconciles objects getDeleted refuses once a day unless configured, others only when configured', () => {
    expect(DEFAULT_RECONCILE_HOURS_WITHOUT_GETDELETED).toBe(24);
    expect(reconcileHoursOf({ reconcileHours: null }, spec({ replicateable: false }))).toBe(24);
    expect(reconcileHoursOf({ reconcileHours: 6 }, spec({ replicateable: false }))).toBe(6);
    expect(reconcileHoursOf({ reconcileHours: null }, spec({ replicateable: true }))).toBeNull();
    expect(reconcileHoursOf({ reconcileHours: null }, spec())).toBeNull();
    expect(reconcileHoursOf({ reconcileHours: 12 }, spec())).toBe(12);
  });
});
