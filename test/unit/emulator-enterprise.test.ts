// The enterprise org profile at the store level: its schema traits, values valid for their types, archived
// activities hidden from query only, and generation fast enough for 10,000 Accounts of 600+ fields.
import { describe, expect, it } from 'vitest';
import { ENTERPRISE } from '../../emulator/enterprise.ts';
import { planSoql } from '../../emulator/soql.ts';
import { createOrgStore } from '../../emulator/store.ts';
import type { OrgStore, SfRecord } from '../../emulator/types.ts';

const CLOCK = new Date('2026-06-15T10:00:00.000Z');
const store = createOrgStore({ profile: 'enterprise', accounts: 600, seed: 4, clockStart: CLOCK });

function all(s: OrgStore, object: string): SfRecord[] {
  const snap = s.snapshot(object);
  return Array.from({ length: snap.size }, (_, i) => snap.at(i)).filter((r): r is SfRecord => r !== undefined);
}

const fieldNames = (object: string) => store.object(object)?.fields.map((f) => f.name) ?? [];

describe('enterprise profile schema', () => {
  it('leaves the demo profile as it was', () => {
    const demo = createOrgStore({ accounts: 10, clockStart: CLOCK });
    expect(demo.object('Event')).toBeUndefined();
    expect(demo.object('Account')?.fields.length).toBeLessThan(40);
    expect(demo.object('Task')?.fields.some((f) => f.name === 'IsArchived')).toBe(false);
  });

  it('gives Account 600+ fields, namespaced long names, a long geolocation and a json field', () => {
    const account = store.object('Account');
    expect(account?.fields.length).toBeGreaterThanOrEqual(600);
    const names = fieldNames('Account');
    expect(new Set(names.map((n) => n.toLowerCase())).size).toBe(names.length);
    expect(names).toContain('acme_ns__Some_Very_Long_Field_Name_Forty_Chars__c');
    expect(names.filter((n) => n.startsWith('acme_ns__')).length).toBeGreaterThan(150);
    expect(names.filter((n) => n.startsWith('acme_billing_ns__')).length).toBeGreaterThan(50);
    for (const n of names.filter((x) => x.endsWith('__c'))) {
      // Salesforce: a custom field's own name is at most 40 characters (namespace prefix and suffix aside).
      const own = n.replace(/__c$/, '').replace(/^[A-Za-z][A-Za-z0-9_]*?__/, '');
      expect(own.length, n).toBeLessThanOrEqual(40);
      expect(own, n).toMatch(/^[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)*$/);
    }
    const geo = account?.fields.find((f) => f.name === ENTERPRISE.geolocation);
    expect(geo?.type).toBe('location');
    const parts = account?.fields.filter((f) => f.compoundFieldName === ENTERPRISE.geolocation).map((f) => f.name);
    expect(parts).toEqual([ENTERPRISE.geolocationLatitude, ENTERPRISE.geolocationLongitude]);
    expect(ENTERPRISE.geolocationLatitude).toMatch(/__Latitude__s$/);
    expect(ENTERPRISE.geolocationLatitude.length).toBeGreaterThan(63);
    expect(account?.fields.find((f) => f.name === ENTERPRISE.jsonField)?.type).toBe('json');
  });

  it('has archived-capable Task and Event, AccountShare, TaskStatus and a long History object', () => {
    expect(fieldNames('Task')).toContain('IsArchived');
    expect(fieldNames('Event')).toEqual(expect.arrayContaining(['IsArchived', 'StartDateTime', 'SystemModstamp']));
    const share = store.object('AccountShare');
    expect(share).toMatchObject({ queryable: true, replicateable: false, undeletable: false });
    expect(fieldNames('AccountShare')).toEqual(expect.arrayContaining(['LastModifiedDate', 'IsDeleted', 'RowCause']));
    expect(fieldNames('AccountShare')).not.toContain('SystemModstamp');
    expect(fieldNames('AccountShare')).not.toContain('CreatedDate');
    const status = store.object('TaskStatus');
    expect(status).toMatchObject({ bulkQueryable: false, undeletable: false });
    expect(fieldNames('TaskStatus')).not.toContain('IsDeleted');
    const history = store.object(ENTERPRISE.renewalHistory);
    expect(history?.name.toLowerCase().length).toBeGreaterThan(63);
    expect(fieldNames(ENTERPRISE.renewalHistory)).toEqual([
      'Id',
      'IsDeleted',
      'CreatedDate',
      'CreatedById',
      'ParentId',
      'Field',
      'DataType',
      'OldValue',
      'NewValue',
    ]);
  });
});

describe('enterprise profile records', () => {
  it('is deterministic and generates values valid for their types', () => {
    const again = createOrgStore({ profile: 'enterprise', accounts: 600, seed: 4, clockStart: CLOCK });
    expect(all(again, 'Account').slice(0, 50)).toEqual(all(store, 'Account').slice(0, 50));
    const accounts = all(store, 'Account');
    const account = store.object('Account');
    for (const f of account?.fields ?? []) {
      const values = accounts.map((r) => r[f.name]).filter((v) => v !== null && v !== undefined);
      if (f.type === 'address' || f.type === 'location') continue;
      if (f.custom) expect(values.length, f.name).toBeGreaterThan(0);
      for (const v of values.slice(0, 40)) {
        if (f.type === 'boolean') expect(typeof v, f.name).toBe('boolean');
        else if (['int', 'long', 'double', 'currency', 'percent'].includes(f.type))
          expect(v, f.name).toMatch(/^-?\d+(\.\d+)?(E\d+)?$/);
        else if (f.type === 'date') expect(v, f.name).toMatch(/^\d{4}-\d{2}-\d{2}$/);
        else if (f.type === 'datetime') expect(v, f.name).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
        else if (f.type === 'json') expect(() => JSON.parse(v as string), f.name).not.toThrow();
        else expect(typeof v, f.name).toBe('string');
      }
    }
    // Every Account row carries every field (null when empty), like the demo org's records.
    expect(Object.keys(accounts[0] ?? {}).length).toBe((account?.fields.length ?? 0) - 2);
  });

  it('keeps share rows, activities and history rows pointing at existing records', () => {
    for (const [object, field] of [
      ['AccountShare', 'AccountId'],
      ['AccountShare', 'UserOrGroupId'],
      ['Event', 'WhatId'],
      [ENTERPRISE.renewalObject, 'acme_billing_ns__Account__c'],
      [ENTERPRISE.renewalHistory, 'ParentId'],
    ] as const) {
      const ids = all(store, object)
        .map((r) => r[field])
        .filter((v): v is string => typeof v === 'string');
      expect(ids.length, object).toBeGreaterThan(10);
      for (const id of ids) expect(store.get(id), `${object}.${field} ${id}`).toBeDefined();
    }
    // Each Account has its Owner share row; a third of them a Manual one too, found through the relationship.
    const account = all(store, 'Account')[3] as SfRecord;
    expect(store.childrenOf('AccountShare', 'AccountId', account.Id).map((r) => r.RowCause)).toEqual([
      'Owner',
      'Manual',
    ]);
  });

  it('hides archived activities from query and returns them to queryAll, COUNT() included', () => {
    for (const object of ['Task', 'Event']) {
      const rows = all(store, object);
      const archived = rows.filter((r) => r.IsArchived === true);
      expect(archived.length, object).toBeGreaterThan(10);
      expect(archived.every((r) => r.IsDeleted === false)).toBe(true);
      const snap = store.snapshot(object);
      const select = planSoql(store, `SELECT Id, IsArchived FROM ${object}`);
      const live = [...select.run(snap, { includeDeleted: false })].map((s) => snap.at(s)?.Id);
      const every = [...select.run(snap, { includeDeleted: true })].map((s) => snap.at(s)?.Id);
      expect(live).toEqual(rows.filter((r) => r.IsArchived !== true && r.IsDeleted !== true).map((r) => r.Id));
      expect(every).toEqual(rows.map((r) => r.Id));
      const count = planSoql(store, `SELECT COUNT() FROM ${object}`);
      expect(count.count(snap, { includeDeleted: false })).toBe(live.length);
      expect(count.count(snap, { includeDeleted: true })).toBe(every.length);
      // The cursor-window paths (index) agree with the scan.
      const since = planSoql(store, `SELECT Id FROM ${object} WHERE SystemModstamp >= 2025-01-01T00:00:00Z`);
      const ordered = planSoql(
        store,
        `SELECT Id FROM ${object} WHERE SystemModstamp >= 2025-01-01T00:00:00Z ORDER BY SystemModstamp, Id`,
      );
      const inWindow = rows.filter(
        (r) => r.IsArchived !== true && r.IsDeleted !== true && String(r.SystemModstamp) >= '2025-01-01T00:00:00.000Z',
      );
      expect(since.count(snap, { includeDeleted: false })).toBe(inWindow.length);
      expect([...ordered.run(snap, { includeDeleted: false })].length).toBe(inWindow.length);
    }
    const task = all(store, 'Task').find((r) => r.IsArchived === true) as SfRecord;
    expect(task).toMatchObject({ Status: 'Completed', IsClosed: true });
    expect(String(task.ActivityDate) < '2025-06-15').toBe(true);
  });

  it('seeds and reads 10,000 Accounts of 600+ fields quickly', () => {
    const started = performance.now();
    const big = createOrgStore({ profile: 'enterprise', accounts: 10_000, seed: 1, clockStart: CLOCK });
    const seeded = performance.now() - started;
    const snap = big.snapshot('Account');
    let fields = 0;
    for (let i = 0; i < snap.size; i++) fields += snap.at(i) ? 1 : 0;
    const read = performance.now() - started - seeded;
    expect(fields).toBe(10_000);
    expect(seeded).toBeLessThan(2_000);
    // About 30 us a record on a laptop; generous for a shared CI core.
    expect(read).toBeLessThan(5_000);
  });
});
