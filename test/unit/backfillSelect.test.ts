// The SOQL a backfill window sends: bounds on the cursor, or on CreatedDate with --by created
// (docs/salesforce.md#incremental-cursor-windows, #bulk-api-20-soql-restrictions).
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/errors.ts';
import { buildSelect } from '../../extractors/soql.ts';
import type { ObjectSpec } from '../../schemas/records.ts';
import { backfillField } from '../../pipelines/backfill/backfillObject.ts';
import { fieldSpec } from '../support/fieldSpec.ts';

const field = (name: string) => fieldSpec(name, 'datetime');
const spec = (fields: string[], cursorField: ObjectSpec['cursorField']): ObjectSpec => ({
  name: 'Account',
  table: 'account',
  label: 'Account',
  fields: fields.map(field),
  cursorField,
  hasIsDeleted: true,
});
const account = spec(['Id', 'CreatedDate', 'SystemModstamp'], 'SystemModstamp');
const window = { from: '2024-01-01T00:00:00.000Z', to: '2024-02-01T00:00:00.000Z' };

describe('backfill window SOQL', () => {
  it('bounds the cursor by default, with no ORDER BY (Bulk)', () => {
    expect(buildSelect(account, { window: { ...window, field: backfillField(account, 'cursor') } })).toBe(
      'SELECT Id, CreatedDate, SystemModstamp FROM Account ' +
        'WHERE SystemModstamp >= 2024-01-01T00:00:00.000Z AND SystemModstamp < 2024-02-01T00:00:00.000Z',
    );
  });

  it('bounds CreatedDate with --by created', () => {
    expect(buildSelect(account, { window: { ...window, field: backfillField(account, 'created') } })).toBe(
      'SELECT Id, CreatedDate, SystemModstamp FROM Account ' +
        'WHERE CreatedDate >= 2024-01-01T00:00:00.000Z AND CreatedDate < 2024-02-01T00:00:00.000Z',
    );
  });

  it('refuses --by created on an object without CreatedDate, and a window field that is not a plain name', () => {
    expect(() => backfillField(spec(['Id', 'SystemModstamp'], 'SystemModstamp'), 'created')).toThrow(ConfigError);
    expect(() => buildSelect(account, { window: { ...window, field: 'CreatedDate; DROP' } })).toThrow(
      /not a plain Salesforce API name/,
    );
  });

  it('refuses an object without a cursor', () => {
    expect(() => backfillField(spec(['Id', 'Name'], null), 'cursor')).toThrow(
      /has no SystemModstamp, LastModifiedDate or CreatedDate/,
    );
  });
});
