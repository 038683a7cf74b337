// The emulated org keeps to its describe sizes as Salesforce does (docs/salesforce.md#field-sizes): stored text within
// its length, numbers within their integer digits (decimals beyond the scale are kept, as the API keeps them); and an
// admin can change a field's describe in place (docs/salesforce.md#picklist-values).
import { describe, expect, it } from 'vitest';
import { FieldValueError, coerceText } from '../../emulator/coerce.ts';
import { describeField } from '../../emulator/describe.ts';
import { createOrgStore } from '../../emulator/store.ts';
import type { FieldDef, SfRecord } from '../../emulator/types.ts';
import { parseDecimal } from '../../emulator/values.ts';

const NUMBERS = new Set(['double', 'currency', 'percent']);

function oversized(f: FieldDef, v: string): boolean {
  if (NUMBERS.has(f.type)) {
    const d = parseDecimal(v);
    return !!d && d.digits !== '' && d.digits.length + d.exponent > (f.precision ?? 18) - (f.scale ?? 0);
  }
  // Salesforce counts a text value's length in UTF-16 units, as JavaScript does.
  return !!f.length && v.length > f.length;
}

describe('emulator field sizes', () => {
  it.each(['demo', 'enterprise'] as const)('generates only values within describe sizes (%s)', (profile) => {
    const store = createOrgStore({ accounts: 120, seed: 4, profile });
    const bad: string[] = [];
    let checked = 0;
    for (const def of store.objects()) {
      const snap = store.snapshot(def.name);
      // Formula results are computed, never checked against a size on save.
      const fields = def.fields.filter((f) => !f.calculated);
      for (let slot = 0; slot < snap.size; slot++) {
        const rec: SfRecord | undefined = snap.at(slot);
        for (const f of rec ? fields : []) {
          const v = rec![f.name];
          if (typeof v !== 'string') continue;
          checked++;
          if (oversized(f, v)) bad.push(`${def.name}.${f.name} = ${v.slice(0, 30)}`);
        }
      }
    }
    expect(checked).toBeGreaterThan(10_000);
    expect([...new Set(bad)]).toEqual([]);
  });

  it('keeps decimals beyond the scale but refuses more integer digits than precision - scale', () => {
    const store = createOrgStore({ accounts: 5, seed: 1 });
    const discount = store.object('Invoice__c')!.fields.find((f) => f.name === 'Discount__c')!;
    expect([discount.precision, discount.scale]).toEqual([5, 2]);
    expect(coerceText(discount, '999.12345')).toBe('999.12345');
    expect(coerceText(discount, '9.99E2')).toBe('9.99E2');
    const tooBig = () => coerceText(discount, '1000');
    expect(tooBig).toThrow(FieldValueError);
    expect(tooBig).toThrow(/value outside of valid range on numeric field: 1000/);
    try {
      tooBig();
    } catch (e) {
      expect((e as FieldValueError).code).toBe('NUMBER_OUTSIDE_VALID_RANGE');
    }
  });

  it('describes picklist entries with labels, inactive ones and the default, and ids at one byte a character', () => {
    const store = createOrgStore({ accounts: 5, seed: 1 });
    const status = describeField(store.object('Invoice__c')!.fields.find((f) => f.name === 'Status__c')!);
    expect(status.defaultValue).toBe('Draft');
    expect(status.picklistValues).toEqual([
      { active: true, defaultValue: true, label: 'Draft', validFor: null, value: 'Draft' },
      { active: true, defaultValue: false, label: 'Sent', validFor: null, value: 'Sent' },
      { active: true, defaultValue: false, label: 'Paid', validFor: null, value: 'Paid' },
      { active: true, defaultValue: false, label: 'Void', validFor: null, value: 'Void' },
      { active: false, defaultValue: false, label: 'Disputed (retired)', validFor: null, value: 'Disputed' },
    ]);
    const id = describeField(store.object('Account')!.fields.find((f) => f.name === 'Id')!);
    expect([id.length, id.byteLength]).toEqual([18, 18]);
    const name = describeField(store.object('Account')!.fields.find((f) => f.name === 'AccountNumber')!);
    expect([name.length, name.byteLength]).toEqual([40, 120]);
  });

  it('changes a field in place: describe follows, Last-Modified moves, the values stay', () => {
    const store = createOrgStore({ accounts: 5, seed: 1 });
    const account = store.snapshot('Account').at(0)!;
    const before = store.object('Account')!;
    store.changeField('Account', 'AccountNumber', { length: 80 });
    store.changeField('Account', 'Rating', {
      picklistValues: [
        { value: 'Hot', label: 'Very hot', defaultValue: true },
        'Warm',
        { value: 'Cold', active: false },
      ],
    });
    const after = store.object('Account')!;
    expect(after.lastModified > before.lastModified).toBe(true);
    expect(after).not.toBe(before);
    expect(describeField(after.fields.find((f) => f.name === 'AccountNumber')!).length).toBe(80);
    const rating = describeField(after.fields.find((f) => f.name === 'Rating')!);
    expect(rating.picklistValues).toEqual([
      { active: true, defaultValue: true, label: 'Very hot', validFor: null, value: 'Hot' },
      { active: true, defaultValue: false, label: 'Warm', validFor: null, value: 'Warm' },
      { active: false, defaultValue: false, label: 'Cold', validFor: null, value: 'Cold' },
    ]);
    expect(store.get(account.Id)?.AccountNumber).toBe(account.AccountNumber);
    expect(() => store.changeField('Account', 'Nope__c', { length: 1 })).toThrow(/does not exist/);
  });
});
