// Deterministic generated org: same seed -> same records, consistent references, and the hard cases present.
import { describe, expect, it } from 'vitest';
import { createOrgStore } from '../../emulator/store.ts';
import type { SfRecord } from '../../emulator/types.ts';

const CLOCK = new Date('2026-06-15T10:00:00.000Z');

function all(store: ReturnType<typeof createOrgStore>, object: string): SfRecord[] {
  const snap = store.snapshot(object);
  return Array.from({ length: snap.size }, (_, i) => snap.at(i)).filter((r): r is SfRecord => r !== undefined);
}

describe('emulator seed', () => {
  const store = createOrgStore({ accounts: 400, seed: 5, clockStart: CLOCK });

  it('is deterministic per seed and differs across seeds', () => {
    const again = createOrgStore({ accounts: 400, seed: 5, clockStart: CLOCK });
    const other = createOrgStore({ accounts: 400, seed: 6, clockStart: CLOCK });
    for (const object of ['Account', 'Contact', 'Invoice__c', 'Task'])
      expect(all(again, object)).toEqual(all(store, object));
    expect(all(other, 'Account')).not.toEqual(all(store, 'Account'));
  });

  it('sizes the org from the account count and ratio options', () => {
    const counts = Object.fromEntries(store.objects().map((d) => [d.name, store.snapshot(d.name).size]));
    expect(counts).toMatchObject({
      Account: 400,
      Contact: 800,
      Opportunity: 400,
      Lead: 100,
      Invoice__c: 200,
      Task: 200,
      AccountHistory: 200,
    });
    expect(createOrgStore({ accounts: 10, contactsPerAccount: 5 }).snapshot('Contact').size).toBe(50);
  });

  it('keeps every reference pointing at an existing record', () => {
    for (const [object, field] of [
      ['Contact', 'AccountId'],
      ['Opportunity', 'AccountId'],
      ['Invoice__c', 'Account__c'],
      ['Task', 'WhatId'],
      ['Task', 'WhoId'],
      ['Account', 'OwnerId'],
    ] as const) {
      const ids = all(store, object)
        .map((r) => r[field])
        .filter((v): v is string => typeof v === 'string');
      expect(ids.length).toBeGreaterThan(10);
      for (const id of ids) expect(store.get(id), `${object}.${field} ${id}`).toBeDefined();
    }
    // Polymorphic WhatId: Accounts, Opportunities and empty ('nul' = String(null).slice(0, 3)).
    const whatTypes = new Set(all(store, 'Task').map((r) => String(r.WhatId).slice(0, 3)));
    expect(whatTypes).toEqual(new Set(['001', '006', 'nul']));
  });

  it('contains the hard text, number, date and null cases', () => {
    const texts = ['Account', 'Contact', 'Invoice__c', 'Opportunity', 'AccountHistory']
      .flatMap((o) => all(store, o).flatMap((r) => Object.values(r)))
      .filter((v): v is string => typeof v === 'string');
    const has = (p: (s: string) => boolean) => texts.some(p);
    expect(has((s) => s.includes('\r\n'))).toBe(true);
    expect(has((s) => s.includes('\n') && !s.includes('\r'))).toBe(true);
    expect(has((s) => s.includes('"'))).toBe(true);
    expect(has((s) => s.includes(','))).toBe(true);
    expect(has((s) => s.startsWith(' ') && s.endsWith(' '))).toBe(true);
    expect(has((s) => /[\u4e00-\u9fff]/.test(s))).toBe(true);
    expect(has((s) => /\p{Extended_Pictographic}/u.test(s))).toBe(true);
    expect(has((s) => s.includes('\\'))).toBe(true);
    expect(has((s) => s.length >= 30_000)).toBe(true);
    for (const lookalike of ['null', 'NULL', 'NA', '#N/A', 'true', '12345']) expect(texts).toContain(lookalike);
    expect(texts).not.toContain('');
    const inv = all(store, 'Invoice__c');
    expect(inv.map((r) => r.Due_Date__c)).toEqual(expect.arrayContaining(['1700-01-01', '4000-12-31']));
    expect(inv.map((r) => r.Score__c)).toEqual(expect.arrayContaining(['1.2345678E7']));
    expect(inv.map((r) => r.Sequence__c)).toEqual(expect.arrayContaining(['9007199254740993']));
    expect(inv.some((r) => typeof r.Amount__c === 'string' && r.Amount__c.startsWith('-'))).toBe(true);
    for (const f of [
      'Amount__c',
      'Due_Date__c',
      'Issued_At__c',
      'Reminder_Time__c',
      'Line_Count__c',
      'Status__c',
      'Tags__c',
    ])
      expect(
        inv.some((r) => r[f] === null),
        f,
      ).toBe(true);
  });

  it('spreads audit timestamps over ~three years before the clock, with SystemModstamp ties and some deletions', () => {
    const accounts = all(store, 'Account');
    const stamps = accounts.map((r) => String(r.SystemModstamp));
    expect(stamps.every((s) => s < CLOCK.toISOString() && s > '2023-06-01')).toBe(true);
    expect(new Set(stamps).size).toBeLessThan(stamps.length);
    expect(
      accounts.every(
        (r) =>
          String(r.CreatedDate) <= String(r.LastModifiedDate) && String(r.LastModifiedDate) <= String(r.SystemModstamp),
      ),
    ).toBe(true);
    const deleted = accounts.filter((r) => r.IsDeleted === true).length;
    expect(deleted).toBeGreaterThan(0);
    expect(deleted).toBeLessThan(accounts.length / 10);
    expect(all(store, 'User').every((r) => !('IsDeleted' in r))).toBe(true);
  });

  it('computes the Invoice__c formulas as exact decimal text', () => {
    const inv = all(store, 'Invoice__c').find((r) => r.Amount__c === '9999999999999999.99');
    expect(inv?.Total_With_Tax__c).toBe('11999999999999999.99');
    const minus = all(store, 'Invoice__c').find((r) => r.Amount__c === '-250.75');
    expect(minus?.Total_With_Tax__c).toBe('-300.90');
  });
});
