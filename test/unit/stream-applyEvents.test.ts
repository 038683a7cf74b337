// Which records a batch of change events reads again by Id (pipelines/stream/applyEvents.ts).
import { describe, expect, it } from 'vitest';
import { needsSync, rereadIdsOf } from '../../pipelines/stream/applyEvents.ts';
import type { ChangeType, DecodedChange } from '../../transforms/changeEvent.ts';

const change = (changeType: ChangeType, incomplete: string[] = []): DecodedChange => ({
  changeType,
  entityName: 'Account',
  recordIds: ['001000000000001AAA'],
  transactionKey: 'tx',
  sequenceNumber: 1,
  commitTimestamp: 0,
  values: new Map(),
  diffFields: [],
  incomplete,
  cursor: null,
});

describe('rereadIdsOf', () => {
  it('reads deletes, undeletes, gap events and incomplete changes again; complete creates and updates not', () => {
    const ids = ['001000000000001AAA'];
    for (const t of ['DELETE', 'UNDELETE', 'GAP_UPDATE', 'GAP_UNDELETE'] as const)
      expect(rereadIdsOf(change(t))).toEqual(ids);
    expect(rereadIdsOf(change('UPDATE', ['Name']))).toEqual(ids);
    expect(rereadIdsOf(change('UPDATE'))).toEqual([]);
    expect(rereadIdsOf(change('CREATE'))).toEqual([]);
    expect(needsSync(change('GAP_OVERFLOW'))).toBe(true);
  });
});
