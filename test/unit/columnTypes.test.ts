// Exact column types from describe sizes, and drift that widens a column but never narrows it.
import { describe, expect, it } from 'vitest';
import { fieldSpecOf } from '../../extractors/describe.ts';
import { columnTypeOf, numericSizeOf, sizedLengthOf } from '../../schemas/fieldTypes.ts';
import { diffSchema, driftEvents, sameSnapshot, snapshotOf } from '../../pipelines/completeness/drift.ts';
import { widenedType } from '../../pipelines/completeness/widenType.ts';
import type { FieldSpec, ObjectSpec } from '../../schemas/records.ts';
import { fieldSpec } from '../support/fieldSpec.ts';

const spec = (fields: FieldSpec[]): ObjectSpec => ({
  name: 'Thing__c',
  table: 'thing__c',
  label: 'Thing',
  fields,
  cursorField: null,
  hasIsDeleted: true,
});

describe('describe sizes', () => {
  it('sizes the text types whose length caps every value, and leaves the others unbounded', () => {
    const len = (type: string, length: number, extra: Record<string, unknown> = {}) =>
      sizedLengthOf({ type, length, ...extra });
    expect([len('string', 80), len('id', 18), len('reference', 18), len('picklist', 255)]).toEqual([80, 18, 18, 255]);
    expect([len('email', 80), len('phone', 40), len('url', 255), len('combobox', 255)]).toEqual([80, 40, 255, 255]);
    expect([len('encryptedstring', 175), len('textarea', 255)]).toEqual([175, 255]);
    // Long and rich text areas, multi-select picklists, anyType, formulas, and lengths describe does not give.
    expect(len('textarea', 32000)).toBeUndefined();
    expect(len('multipicklist', 4099)).toBeUndefined();
    expect(len('anyType', 255)).toBeUndefined();
    expect(len('string', 1300, { calculated: true })).toBeUndefined();
    expect(len('string', 0)).toBeUndefined();
    expect(sizedLengthOf({ type: 'string' })).toBeUndefined();
    expect(len('double', 0)).toBeUndefined();
  });

  it('reads precision and scale of double, currency and percent; precision 0 or absent means none', () => {
    expect(numericSizeOf({ type: 'currency', precision: 18, scale: 2 })).toEqual({ precision: 18, scale: 2 });
    expect(numericSizeOf({ type: 'percent', precision: 3, scale: 0 })).toEqual({ precision: 3, scale: 0 });
    expect(numericSizeOf({ type: 'double', precision: 18 })).toEqual({ precision: 18, scale: 0 });
    expect(numericSizeOf({ type: 'double', precision: 0, scale: 0 })).toBeUndefined();
    expect(numericSizeOf({ type: 'currency' })).toBeUndefined();
    expect(numericSizeOf({ type: 'double', precision: 4, scale: 6 })).toBeUndefined();
    expect(numericSizeOf({ type: 'int', precision: 0, digits: 9 } as never)).toBeUndefined();
    expect(numericSizeOf({ type: 'currency', precision: 18, scale: 2, calculated: true })).toBeUndefined();
  });

  it('builds a FieldSpec with the sizes and every picklist entry from a describe field', () => {
    const stage = fieldSpecOf({
      name: 'Stage__c',
      label: 'Stage',
      type: 'picklist',
      length: 255,
      precision: 0,
      scale: 0,
      picklistValues: [
        { value: 'New', label: 'Brand new', active: true, defaultValue: true },
        { value: 'Old', label: 'Old', active: false, defaultValue: false },
        { value: 'Bare' },
      ],
    });
    expect(stage).toMatchObject({ pgType: 'text', length: 255, picklistValues: ['New', 'Bare'] });
    expect(stage?.precision).toBeUndefined();
    expect(stage?.picklistEntries).toEqual([
      { value: 'New', label: 'Brand new', active: true, isDefault: true },
      { value: 'Old', label: 'Old', active: false, isDefault: false },
      { value: 'Bare', label: 'Bare', active: true, isDefault: false },
    ]);
    const amount = fieldSpecOf({
      name: 'Amount',
      label: 'Amount',
      type: 'currency',
      length: 0,
      precision: 18,
      scale: 2,
    });
    expect(amount).toMatchObject({ pgType: 'numeric', precision: 18, scale: 2 });
    expect(amount && 'length' in amount).toBe(false);
    expect(amount && 'picklistEntries' in amount).toBe(false);
  });

  it('types columns varchar(n), numeric(p,s) only when asked, and text for a hashed field', () => {
    const name = fieldSpec('Name', 'string', { length: 80 });
    const amount = fieldSpec('Amount', 'currency', { precision: 18, scale: 2 });
    expect(columnTypeOf(name)).toBe('varchar(80)');
    expect(columnTypeOf({ ...name, hashed: true })).toBe('text');
    expect(columnTypeOf(fieldSpec('Notes', 'textarea'))).toBe('text');
    expect(columnTypeOf(amount)).toBe('numeric');
    expect(columnTypeOf(amount, { exactNumeric: true })).toBe('numeric(18,2)');
    expect(columnTypeOf(fieldSpec('Score', 'double'), { exactNumeric: true })).toBe('numeric');
    expect(columnTypeOf(fieldSpec('N', 'int'), { exactNumeric: true })).toBe('integer');
  });
});

describe('widening a column', () => {
  const cases: [string, string, string | null][] = [
    ['character varying(40)', 'varchar(80)', 'widened varchar(40) -> varchar(80)'],
    ['character varying(80)', 'varchar(40)', null],
    ['character varying(40)', 'varchar(40)', null],
    ['character varying', 'varchar(40)', null],
    ['text', 'varchar(40)', null],
    ['text', 'numeric(18,2)', null],
    ['character varying(40)', 'text', 'widened varchar(40) -> text'],
    ['character varying(40)', 'numeric', 'widened varchar(40) -> text'],
    ['numeric', 'numeric(18,2)', null],
    ['numeric(18,2)', 'numeric(20,4)', 'widened numeric(18,2) -> numeric(20,4)'],
    ['numeric(18,2)', 'numeric(18,4)', 'widened numeric(18,2) -> numeric(20,4)'],
    ['numeric(10,0)', 'numeric(12,6)', 'widened numeric(10,0) -> numeric(16,6)'],
    ['numeric(18,2)', 'numeric(10,2)', null],
    ['numeric(18,2)', 'numeric(18,0)', 'widened numeric(18,2) -> numeric(20,2)'],
    ['numeric(18,2)', 'numeric', 'widened numeric(18,2) -> numeric'],
    ['numeric(18,2)', 'text', 'widened numeric(18,2) -> text'],
    ['integer', 'numeric', 'cast integer -> numeric'],
    ['integer', 'numeric(18,2)', 'cast integer -> numeric(18,2)'],
    ['integer', 'numeric(5,2)', 'cast integer -> numeric'],
    ['bigint', 'numeric(18,0)', 'cast bigint -> numeric'],
    ['integer', 'boolean', 'widened integer -> text'],
    ['integer', 'varchar(40)', 'widened integer -> text'],
    ['date', 'timestamptz', 'cast date -> timestamptz'],
    ['timestamp with time zone', 'timestamptz', null],
    ['time without time zone', 'time', null],
  ];
  it.each(cases)('%s for %s', (have, want, action) => {
    expect(widenedType(have, want)?.action ?? null).toBe(action);
  });
});

describe('size drift', () => {
  const before = spec([
    fieldSpec('Id', 'id', { length: 18 }),
    fieldSpec('Name', 'string', { length: 40 }),
    fieldSpec('Amount', 'currency', { precision: 18, scale: 2 }),
  ]);

  it('records a changed length or precision, and nothing against a snapshot from before sizes were kept', () => {
    const after = spec([
      fieldSpec('Id', 'id', { length: 18 }),
      fieldSpec('Name', 'string', { length: 80 }),
      fieldSpec('Amount', 'currency', { precision: 16, scale: 2 }),
    ]);
    const diff = diffSchema(snapshotOf(before), after);
    expect(diff.sizeChanged.map((s) => [s.field.name, s.oldSize])).toEqual([
      ['Name', '40'],
      ['Amount', '18,2'],
    ]);
    const events = driftEvents(diff, new Map([['name', 'widened varchar(40) -> varchar(80)']]), null);
    expect(events).toEqual([
      {
        field: 'Name',
        kind: 'size-changed',
        oldType: 'string(40)',
        newType: 'string(80)',
        action: 'widened varchar(40) -> varchar(80)',
      },
      {
        field: 'Amount',
        kind: 'size-changed',
        oldType: 'currency(18,2)',
        newType: 'currency(16,2)',
        action: 'column kept: it holds the new size (a column is never narrowed)',
      },
    ]);
    // Snapshots saved before sizes were kept have none: an upgrade records no drift, only a new snapshot.
    const old = Object.fromEntries(Object.entries(snapshotOf(before)).map(([k, { size: _, ...m }]) => [k, m]));
    expect(diffSchema(old, after).sizeChanged).toEqual([]);
    expect(sameSnapshot(old, snapshotOf(after))).toBe(false);
    expect(sameSnapshot(snapshotOf(after), snapshotOf(after))).toBe(true);
    expect(sameSnapshot(null, snapshotOf(after))).toBe(false);
  });
});
