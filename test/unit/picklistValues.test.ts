// sfsync.picklist_values follows describe: the rows describe implies, and only the changes written.
import { describe, expect, it } from 'vitest';
import { type StoredPicklistRow, picklistChanges, picklistRowsOf } from '../../loaders/picklistValues.ts';
import type { ObjectSpec, PicklistEntry } from '../../schemas/records.ts';
import { fieldSpec } from '../support/fieldSpec.ts';

const entry = (value: string, extra: Partial<PicklistEntry> = {}): PicklistEntry => ({
  value,
  label: value,
  active: true,
  isDefault: false,
  ...extra,
});

const spec = (entries: Record<string, PicklistEntry[]>): ObjectSpec => ({
  name: 'Thing__c',
  table: 'thing__c',
  label: 'Thing',
  fields: [
    fieldSpec('Id', 'id'),
    ...Object.entries(entries).map(([name, e]) => fieldSpec(name, 'picklist', { picklistEntries: e })),
  ],
  cursorField: null,
  hasIsDeleted: true,
});

const stored = (s: ObjectSpec, removed: string[] = []): StoredPicklistRow[] =>
  picklistRowsOf(s).map((r) => ({ ...r, removed: removed.includes(r.value) }));

describe('picklist values', () => {
  const first = spec({
    Stage__c: [
      entry('New', { isDefault: true }),
      entry('Won', { label: 'Closed Won' }),
      entry('Old', { active: false }),
    ],
    Tier__c: [entry('Gold')],
  });

  it('lists every entry of every field in describe order, the first of a repeated value', () => {
    const twice = spec({ Tier__c: [entry('Gold'), entry('Gold', { label: 'again' })] });
    expect(picklistRowsOf(twice)).toEqual([
      { field: 'Tier__c', value: 'Gold', label: 'Gold', active: true, isDefault: false, sortOrder: 1 },
    ]);
    expect(picklistRowsOf(first).map((r) => [r.field, r.value, r.label, r.active, r.isDefault, r.sortOrder])).toEqual([
      ['Stage__c', 'New', 'New', true, true, 1],
      ['Stage__c', 'Won', 'Closed Won', true, false, 2],
      ['Stage__c', 'Old', 'Old', false, false, 3],
      ['Tier__c', 'Gold', 'Gold', true, false, 1],
    ]);
  });

  it('writes everything at first, nothing when describe is unchanged', () => {
    expect(picklistChanges([], picklistRowsOf(first)).upserts).toHaveLength(4);
    expect(picklistChanges(stored(first), picklistRowsOf(first))).toEqual({ upserts: [], removed: [] });
  });

  it('writes changed and reordered entries, marks the values describe dropped, and brings back a listed one', () => {
    const next = spec({
      Stage__c: [entry('Won', { label: 'Won!' }), entry('New', { isDefault: true }), entry('Lost')],
      Tier__c: [entry('Gold'), entry('Bronze')],
    });
    const changes = picklistChanges(stored(first, ['Bronze']), picklistRowsOf(next));
    expect(changes.upserts.map((r) => [r.field, r.value, r.label, r.sortOrder])).toEqual([
      ['Stage__c', 'Won', 'Won!', 1],
      ['Stage__c', 'New', 'New', 2],
      ['Stage__c', 'Lost', 'Lost', 3],
      ['Tier__c', 'Bronze', 'Bronze', 2],
    ]);
    expect(changes.removed).toEqual([{ field: 'Stage__c', value: 'Old' }]);
    // A field no longer loaded: its values are marked too; ones already marked are left alone.
    const gone = picklistChanges(stored(first, ['Gold']), picklistRowsOf(spec({ Stage__c: [] })));
    expect(gone.removed.map((r) => r.value)).toEqual(['New', 'Won', 'Old']);
  });
});
