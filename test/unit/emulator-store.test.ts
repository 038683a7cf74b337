// The org store: copy-on-write mutations, snapshots isolated from later changes, the clock, the delete log,
// formula overrides without SystemModstamp bumps, schema drift.
import { describe, expect, it } from 'vitest';
import { field } from '../../emulator/schema.ts';
import { createOrgStore } from '../../emulator/store.ts';

const CLOCK = new Date('2026-06-15T10:00:00.000Z');
const fresh = () => createOrgStore({ accounts: 60, seed: 2, clockStart: CLOCK });

function liveAccount(store: ReturnType<typeof fresh>, from = 0) {
  const snap = store.snapshot('Account');
  for (let i = from; i < snap.size; i++) if (snap.at(i)?.IsDeleted === false) return snap.at(i)!;
  throw new Error('no live account');
}

describe('emulator store', () => {
  it('runs a strictly increasing clock later than every generated timestamp', () => {
    const store = fresh();
    const a = store.now();
    const b = store.now();
    const c = store.now();
    expect(a < b && b < c).toBe(true);
    expect(a >= CLOCK.toISOString()).toBe(true);
  });

  it('resolves 15-char, 18-char and wrong-case 18-char ids to the same record', () => {
    const store = fresh();
    const id = liveAccount(store).Id;
    expect(store.get(id.slice(0, 15))?.Id).toBe(id);
    expect(store.get(id.toLowerCase())?.Id).toBe(id);
    expect(store.get(id.slice(0, 15).toLowerCase())).toBeUndefined();
    expect(store.get('001Hp00000000zzIAA')).toBeUndefined();
  });

  it('inserts with id, audit fields and defaults; updates bump SystemModstamp unless told otherwise', () => {
    const store = fresh();
    const before = store.now();
    const rec = store.insert('account', { name: 'New Co', Type: 'Prospect' });
    expect(rec).toMatchObject({ Name: 'New Co', Type: 'Prospect', IsDeleted: false, Industry: null });
    expect(rec.SystemModstamp).toBe(rec.CreatedDate);
    expect(String(rec.CreatedDate) > before).toBe(true);
    expect(store.snapshot('Account').size).toBe(61);

    const updated = store.update(rec.Id, { Name: 'Renamed' });
    expect(String(updated.SystemModstamp) > String(rec.SystemModstamp)).toBe(true);
    expect(updated.LastModifiedDate).toBe(updated.SystemModstamp);
    const quiet = store.update(rec.Id, { Industry: 'Banking' }, { touch: false });
    expect(quiet.SystemModstamp).toBe(updated.SystemModstamp);
    const lagged = store.update(rec.Id, { Industry: 'Energy' }, { modstamp: '2020-01-01T00:00:00.000Z' });
    expect(lagged.SystemModstamp).toBe('2020-01-01T00:00:00.000Z');
    expect(() => store.insert('Account', { NoSuchField__c: 1 as never })).toThrow(/No such column/);
  });

  it('keeps snapshots unchanged by later updates, inserts and deletes', () => {
    const store = fresh();
    const target = liveAccount(store);
    const snap = store.snapshot('Account');
    const slot = Array.from({ length: snap.size }, (_, i) => i).find((i) => snap.at(i)?.Id === target.Id)!;
    store.update(target.Id, { Name: 'Changed later' });
    store.insert('Account', { Name: 'Later' });
    const other = liveAccount(store, slot + 1);
    store.hardDelete(other.Id);
    expect(snap.at(slot)?.Name).toBe(target.Name);
    expect(snap.size).toBe(60);
    expect(snap.at(Array.from({ length: 60 }, (_, i) => i).find((i) => snap.at(i)?.Id === other.Id)!)).toBeDefined();
    const now = store.snapshot('Account');
    expect(now.size).toBe(61);
    expect(store.get(target.Id)?.Name).toBe('Changed later');
    expect(store.get(other.Id)).toBeUndefined();
  });

  it('soft-deletes, undeletes and hard-deletes with slot states and the delete log', () => {
    const store = createOrgStore({ accounts: 400, seed: 2, clockStart: CLOCK });
    const rec = liveAccount(store);
    const seeded = store.deletedLog('Account').length;
    expect(seeded).toBeGreaterThan(0);
    store.softDelete(rec.Id);
    const snap = store.snapshot('Account');
    const slot = Array.from({ length: snap.size }, (_, i) => i).find((i) => snap.at(i)?.Id === rec.Id)!;
    expect(snap.slotState(slot)).toBe('deleted');
    expect(store.get(rec.Id)?.IsDeleted).toBe(true);
    expect(String(store.get(rec.Id)?.SystemModstamp) > String(rec.SystemModstamp)).toBe(true);
    expect(store.deletedLog('Account').map((e) => e.id)).toContain(rec.Id);
    store.undelete(rec.Id);
    expect(store.get(rec.Id)?.IsDeleted).toBe(false);
    expect(store.deletedLog('Account')).toHaveLength(seeded);
    store.hardDelete(rec.Id);
    expect(store.snapshot('Account').slotState(slot)).toBe('gone');
    expect(store.deletedLog('Account').at(-1)?.id).toBe(rec.Id);
    const user = store.snapshot('User').at(1)!;
    expect(() => store.softDelete(user.Id)).toThrow(/Recycle Bin/);
  });

  it('changes formula results without touching SystemModstamp, and restores the seed formula', () => {
    const store = fresh();
    const snap = store.snapshot('Invoice__c');
    const slot = Array.from({ length: snap.size }, (_, i) => i).find((i) => snap.at(i)?.Amount__c === '12500.00')!;
    const before = snap.at(slot)!;
    expect(before.Total_With_Tax__c).toBe('15000.00');
    store.setFormula(
      'Invoice__c',
      'Total_With_Tax__c',
      (r) => (typeof r.Amount__c === 'string' ? '1.00' : null),
      'Amount__c * 0 + 1',
    );
    const after = store.get(before.Id)!;
    expect(after.Total_With_Tax__c).toBe('1.00');
    expect(after.SystemModstamp).toBe(before.SystemModstamp);
    expect(snap.at(slot)?.Total_With_Tax__c).toBe('15000.00');
    expect(store.object('Invoice__c')?.fields.find((f) => f.name === 'Total_With_Tax__c')?.calculatedFormula).toBe(
      'Amount__c * 0 + 1',
    );
    store.setFormula('Invoice__c', 'Total_With_Tax__c', null);
    expect(store.get(before.Id)?.Total_With_Tax__c).toBe('15000.00');
  });

  it('adds a field (schema drift) with values for existing records and a newer lastModified', () => {
    const store = fresh();
    const changed = liveAccount(store);
    store.update(changed.Id, { Name: 'Touched' });
    const oldDef = store.object('Account')!;
    const oldSnap = store.snapshot('Account');
    store.addField('Account', field('Tier__c', 'string', { length: 20 }), (r) => `tier of ${r.Id}`);
    const def = store.object('Account')!;
    expect(def.fields.at(-1)?.name).toBe('Tier__c');
    expect(def.lastModified > oldDef.lastModified).toBe(true);
    expect(oldSnap.object.fields.some((f) => f.name === 'Tier__c')).toBe(false);
    expect(store.get(changed.Id)?.Tier__c).toBe(`tier of ${changed.Id}`);
    const untouched = liveAccount(store, 30);
    expect(store.get(untouched.Id)?.Tier__c).toBe(`tier of ${untouched.Id}`);
    expect(store.insert('Account', { Name: 'x' }).Tier__c).toBeNull();
  });

  it('finds children of a parent among generated and changed records', () => {
    const store = fresh();
    const account = store.snapshot('Account').at(7)!;
    const contacts = store.childrenOf('Contact', 'AccountId', account.Id);
    const expected = [];
    const snap = store.snapshot('Contact');
    for (let i = 0; i < snap.size; i++) if (snap.at(i)?.AccountId === account.Id) expected.push(snap.at(i)!.Id);
    expect(contacts.map((c) => c.Id)).toEqual(expected);
    const moved = store.snapshot('Contact').at(40)!;
    store.update(moved.Id, { AccountId: account.Id });
    const added = store.insert('Contact', { LastName: 'New', AccountId: account.Id });
    expect(store.childrenOf('Contact', 'AccountId', account.Id.slice(0, 15)).map((c) => c.Id)).toEqual([
      ...expected,
      moved.Id,
      added.Id,
    ]);
  });

  it('starts a million-account org without generating it', () => {
    const store = createOrgStore({ accounts: 1_000_000, seed: 1, clockStart: CLOCK });
    expect(store.snapshot('Account').size).toBe(1_000_000);
    expect(store.snapshot('Contact').at(1_999_999)?.AccountId).toBe(store.snapshot('Account').at(999_999)?.Id);
  });
});
