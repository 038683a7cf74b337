// The emulator's SOQL engine: operators, literals, ordering, paging clauses, relationships both ways, COUNT(), error
// codes (docs/salesforce.md#soql-limits-and-errors) and Bulk refusals
// (docs/salesforce.md#bulk-api-20-soql-restrictions). Expectations are computed from the store's records by hand.
import { describe, expect, it } from 'vitest';
import { serializeJson } from '../../emulator/http.ts';
import { planSoql } from '../../emulator/soql.ts';
import { createOrgStore } from '../../emulator/store.ts';
import { RawJson, type SfRecord, SoqlError } from '../../emulator/types.ts';
import { prng } from '../support/prng.ts';

const store = createOrgStore({ accounts: 120, seed: 11, clockStart: new Date('2026-06-15T10:00:00.000Z') });
const ctx = { apiVersion: '62.0' };

function records(object: string, includeDeleted = false): SfRecord[] {
  const snap = store.snapshot(object);
  const out: SfRecord[] = [];
  for (let i = 0; i < snap.size; i++) {
    const r = snap.at(i);
    if (r && (includeDeleted || r.IsDeleted !== true)) out.push(r);
  }
  return out;
}

function query(soql: string, includeDeleted = false): SfRecord[] {
  const plan = planSoql(store, soql);
  const snap = store.snapshot(plan.object.name);
  return [...plan.run(snap, { includeDeleted })].map((slot) => snap.at(slot)!);
}

const ids = (rs: SfRecord[]) => rs.map((r) => r.Id);

function soqlError(soql: string): SoqlError {
  try {
    planSoql(store, soql);
  } catch (err) {
    if (err instanceof SoqlError) return err;
    throw err;
  }
  throw new Error(`no error for ${soql}`);
}

describe('emulator SOQL: WHERE', () => {
  const accounts = records('Account');

  it.each([
    ["Type = 'Prospect'", (r: SfRecord) => r.Type === 'Prospect'],
    ["Type = 'prospect'", (r: SfRecord) => r.Type === 'Prospect'],
    ["Type != 'Prospect'", (r: SfRecord) => r.Type !== 'Prospect'],
    ["Type <> 'Prospect'", (r: SfRecord) => r.Type !== 'Prospect'],
    ['Type = null', (r: SfRecord) => r.Type === null],
    ['Type != null', (r: SfRecord) => r.Type !== null],
    ["Type IN ('Prospect', 'Other')", (r: SfRecord) => r.Type === 'Prospect' || r.Type === 'Other'],
    ["Type NOT IN ('Prospect', 'Other')", (r: SfRecord) => r.Type !== 'Prospect' && r.Type !== 'Other'],
    ["Name LIKE 'acme%'", (r: SfRecord) => String(r.Name).toLowerCase().startsWith('acme')],
    ["Name LIKE '%Holdings _'", (r: SfRecord) => /Holdings .$/i.test(String(r.Name))],
    [
      'NumberOfEmployees > 100000',
      (r: SfRecord) => r.NumberOfEmployees !== null && Number(r.NumberOfEmployees) > 100000,
    ],
    [
      'NumberOfEmployees <= 100000',
      (r: SfRecord) => r.NumberOfEmployees !== null && Number(r.NumberOfEmployees) <= 100000,
    ],
    ['AnnualRevenue >= 5000000000', (r: SfRecord) => r.AnnualRevenue !== null && Number(r.AnnualRevenue) >= 5e9],
    ['AnnualRevenue < 1000000.5', (r: SfRecord) => r.AnnualRevenue !== null && Number(r.AnnualRevenue) < 1000000.5],
    ["NOT Type = 'Prospect'", (r: SfRecord) => r.Type !== 'Prospect'],
    [
      "(Type = 'Prospect' OR Type = 'Other') AND Industry != null",
      (r: SfRecord) => (r.Type === 'Prospect' || r.Type === 'Other') && r.Industry !== null,
    ],
    [
      "Type = 'Prospect' OR Type = 'Other' AND Industry = null",
      (r: SfRecord) => r.Type === 'Prospect' || (r.Type === 'Other' && r.Industry === null),
    ],
    ["NOT (Type = 'Prospect' OR Industry = null)", (r: SfRecord) => !(r.Type === 'Prospect' || r.Industry === null)],
    [
      'LastActivityDate > 2026-01-01',
      (r: SfRecord) => r.LastActivityDate !== null && String(r.LastActivityDate) > '2026-01-01',
    ],
    ["Owner.Alias = 'usr1'", (r: SfRecord) => r.OwnerId === store.snapshot('User').at(1)?.Id],
  ])('%s', (where, expected) => {
    const got = ids(query(`SELECT Id FROM Account WHERE ${where}`));
    expect(got).toEqual(ids(accounts.filter(expected)));
    expect(got.length).toBeGreaterThan(0);
  });

  it('splits records exactly between a filter and its NOT in the form sfsync sends them (parent path, window)', () => {
    // docs/salesforce.md#soql-filters: NOT is true exactly where the condition is false; a missing parent (a null
    // AccountId) makes the parent comparison false, so those records fall to the NOT side.
    const where = "Account.Industry IN ('Banking', 'Energy') OR StageName = 'Closed Won'";
    const from = '2025-01-01T00:00:00.000Z';
    const industry = new Map(records('Account').map((a) => [a.Id, a.Industry]));
    const inside = (r: SfRecord) =>
      ['Banking', 'Energy'].includes(String(industry.get(String(r.AccountId)) ?? '')) || r.StageName === 'Closed Won';
    const recent = records('Opportunity', true).filter((r) => String(r.SystemModstamp) >= from);
    const window = `SystemModstamp >= ${from}`;
    const kept = ids(query(`SELECT Id FROM Opportunity WHERE (${where}) AND ${window}`, true));
    const left = ids(query(`SELECT Id FROM Opportunity WHERE (NOT (${where})) AND ${window}`, true));
    expect(kept).toEqual(ids(recent.filter(inside)));
    expect(left).toEqual(ids(recent.filter((r) => !inside(r))));
    expect(kept.length).toBeGreaterThan(0);
    expect(recent.filter((r) => r.AccountId === null && r.StageName !== 'Closed Won').length).toBeGreaterThan(0);
  });

  it('compares datetime literals as instants, with or without millis and offsets', () => {
    const pivot = '2025-06-01T12:00:00.000Z';
    const expected = ids(accounts.filter((r) => String(r.SystemModstamp) >= pivot));
    for (const lit of [
      '2025-06-01T12:00:00Z',
      '2025-06-01T12:00:00.000Z',
      '2025-06-01T14:00:00+02:00',
      '2025-06-01T04:00:00.000-08:00',
    ]) {
      expect(ids(query(`SELECT Id FROM Account WHERE SystemModstamp >= ${lit}`))).toEqual(expected);
    }
    expect(expected.length).toBeGreaterThan(0);
  });

  it('matches ids in 15- and 18-char form and booleans', () => {
    const target = accounts[3]!;
    expect(ids(query(`SELECT Id FROM Account WHERE Id = '${target.Id.slice(0, 15)}'`))).toEqual([target.Id]);
    expect(ids(query(`SELECT Id FROM Account WHERE Id IN ('${target.Id}')`))).toEqual([target.Id]);
    const paid = records('Invoice__c').filter((r) => r.Paid__c === true);
    expect(ids(query('SELECT Id FROM Invoice__c WHERE Paid__c = true'))).toEqual(ids(paid));
  });

  it('filters multi-select picklists with INCLUDES / EXCLUDES', () => {
    const has = (r: SfRecord, v: string) => String(r.Tags__c).split(';').includes(v);
    const invoices = records('Invoice__c');
    expect(ids(query("SELECT Id FROM Invoice__c WHERE Tags__c INCLUDES ('Urgent')"))).toEqual(
      ids(invoices.filter((r) => has(r, 'Urgent'))),
    );
    expect(ids(query("SELECT Id FROM Invoice__c WHERE Tags__c EXCLUDES ('Urgent')"))).toEqual(
      ids(invoices.filter((r) => !has(r, 'Urgent'))),
    );
  });

  it('compares decimal text exactly (beyond double precision)', () => {
    const big = records('Invoice__c').filter((r) => r.Sequence__c === '9007199254740993');
    expect(big.length).toBeGreaterThan(0);
    expect(ids(query('SELECT Id FROM Invoice__c WHERE Sequence__c = 9007199254740993'))).toEqual(ids(big));
    expect(ids(query('SELECT Id FROM Invoice__c WHERE Sequence__c = 9007199254740992'))).toEqual([]);
  });

  it('hides soft-deleted rows from query and shows them to queryAll', () => {
    const all = records('Account', true);
    expect(all.some((r) => r.IsDeleted === true)).toBe(true);
    expect(ids(query('SELECT Id FROM Account', true))).toEqual(ids(all));
    expect(ids(query('SELECT Id FROM Account WHERE IsDeleted = true'))).toEqual([]);
    expect(query('SELECT Id FROM Account WHERE IsDeleted = true', true).length).toBe(
      all.filter((r) => r.IsDeleted).length,
    );
  });

  it('supports relative date literals against the org clock', () => {
    const today = store.now().slice(0, 10);
    const rec = store.insert('Task', {
      Subject: 'Call',
      Status: 'Not Started',
      Priority: 'Normal',
      ActivityDate: today,
    });
    expect(ids(query('SELECT Id FROM Task WHERE ActivityDate = TODAY'))).toContain(rec.Id);
    expect(ids(query('SELECT Id FROM Task WHERE CreatedDate = LAST_N_DAYS:1'))).toContain(rec.Id);
    expect(ids(query('SELECT Id FROM Task WHERE CreatedDate < YESTERDAY'))).not.toContain(rec.Id);
  });
});

describe('emulator SOQL: ORDER BY, LIMIT, OFFSET, COUNT()', () => {
  const accounts = records('Account');

  it('orders by several keys, DESC, NULLS FIRST/LAST, then LIMIT and OFFSET', () => {
    const got = query('SELECT Id FROM Account ORDER BY SystemModstamp DESC, Id LIMIT 10 OFFSET 5');
    const sorted = [...accounts].sort((a, b) =>
      a.SystemModstamp === b.SystemModstamp
        ? a.Id < b.Id
          ? -1
          : 1
        : String(a.SystemModstamp) < String(b.SystemModstamp)
          ? 1
          : -1,
    );
    expect(ids(got)).toEqual(ids(sorted.slice(5, 15)));
    const asc = query('SELECT Id, Industry FROM Account ORDER BY Industry');
    expect(asc[0]?.Industry).toBeNull();
    const last = query('SELECT Id, Industry FROM Account ORDER BY Industry NULLS LAST');
    expect(last.at(-1)?.Industry).toBeNull();
    const desc = query('SELECT Id, Industry FROM Account ORDER BY Industry DESC');
    expect(desc.at(-1)?.Industry).toBeNull();
  });

  it('orders numbers numerically and text case-insensitively', () => {
    const revenue = query(
      'SELECT Id, AnnualRevenue FROM Account WHERE AnnualRevenue != null ORDER BY AnnualRevenue',
    ).map((r) => Number(r.AnnualRevenue));
    expect(revenue).toEqual([...revenue].sort((a, b) => a - b));
    const names = query('SELECT Id, Name FROM Account ORDER BY Name').map((r) => String(r.Name).toLowerCase());
    expect(names).toEqual([...names].sort());
  });

  it('counts with SELECT COUNT()', () => {
    const plan = planSoql(store, "SELECT COUNT() FROM Account WHERE Type = 'Prospect'");
    expect(plan.isCount).toBe(true);
    expect(plan.columns).toEqual([]);
    expect([...plan.run(store.snapshot('Account'), { includeDeleted: false })].length).toBe(
      accounts.filter((r) => r.Type === 'Prospect').length,
    );
  });

  it('refuses OFFSET above 2000', () => {
    expect(soqlError('SELECT Id FROM Account OFFSET 2001').errorCode).toBe('NUMBER_OUTSIDE_VALID_RANGE');
    expect(query('SELECT Id FROM Account ORDER BY Id OFFSET 2000')).toEqual([]);
  });
});

describe('emulator SOQL: relationships and rendering', () => {
  it('renders parent paths (two levels), null parents and describe casing', () => {
    const plan = planSoql(store, 'select id, NAME, account.name, ACCOUNT.OWNER.ALIAS, owner.alias from contact');
    expect(plan.columns).toEqual(['Id', 'Name', 'Account.Name', 'Account.Owner.Alias', 'Owner.Alias']);
    const contacts = records('Contact');
    const withAccount = contacts.find((c) => c.AccountId !== null)!;
    const account = store.get(String(withAccount.AccountId))!;
    const owner = store.get(String(account.OwnerId))!;
    const json = plan.toJson(withAccount, ctx);
    expect(json).toEqual({
      attributes: { type: 'Contact', url: `/services/data/v62.0/sobjects/Contact/${withAccount.Id}` },
      Id: withAccount.Id,
      Name: withAccount.Name,
      Account: {
        attributes: { type: 'Account', url: `/services/data/v62.0/sobjects/Account/${account.Id}` },
        Name: account.Name,
        Owner: {
          attributes: { type: 'User', url: `/services/data/v62.0/sobjects/User/${owner.Id}` },
          Alias: owner.Alias,
        },
      },
      Owner: expect.objectContaining({ Alias: store.get(String(withAccount.OwnerId))?.Alias }),
    });
    expect(plan.toCsvValues(withAccount)).toEqual([
      withAccount.Id,
      withAccount.Name,
      account.Name,
      owner.Alias,
      store.get(String(withAccount.OwnerId))?.Alias,
    ]);
    const orphan = contacts.find((c) => c.AccountId === null)!;
    expect(plan.toJson(orphan, ctx).Account).toBeNull();
    expect(plan.toCsvValues(orphan).slice(2, 4)).toEqual([null, null]);
  });

  it('renders polymorphic parents with their concrete type', () => {
    const plan = planSoql(store, 'SELECT Id, What.Name FROM Task');
    const task = records('Task').find((t) => String(t.WhatId).startsWith('006'))!;
    expect((plan.toJson(task, ctx).What as { attributes: { type: string } }).attributes.type).toBe('Opportunity');
  });

  it('renders child subqueries with WHERE/ORDER BY/LIMIT, or null without children', () => {
    const plan = planSoql(
      store,
      "SELECT Id, (SELECT Id, LastName FROM Contacts WHERE LastName != 'zzz' ORDER BY LastName DESC LIMIT 5), " +
        '(SELECT Id FROM Invoices__r) FROM Account',
    );
    expect(plan.columns).toEqual(['Id']);
    const accounts = records('Account');
    const parent = accounts.find((a) => records('Contact').some((c) => c.AccountId === a.Id))!;
    const expected = records('Contact')
      .filter((c) => c.AccountId === parent.Id)
      .sort((a, b) => {
        const x = String(a.LastName).toLowerCase();
        const y = String(b.LastName).toLowerCase();
        return x < y ? 1 : x > y ? -1 : 0; // DESC; ties keep slot order
      });
    const json = plan.toJson(parent, ctx) as {
      Contacts: { totalSize: number; done: boolean; records: { Id: string }[] };
    };
    expect(json.Contacts.totalSize).toBe(expected.length);
    expect(json.Contacts.done).toBe(true);
    expect(json.Contacts.records.map((r) => r.Id)).toEqual(ids(expected));
    const lonely = store.insert('Account', { Name: 'No children' });
    expect(plan.toJson(lonely, ctx).Contacts).toBeNull();
  });

  it('renders numbers as RawJson, datetimes with +0000, compound fields as objects, base64 as a URL', () => {
    const plan = planSoql(
      store,
      'SELECT Id, Amount__c, Paid__c, Issued_At__c, Due_Date__c, Addr__c, Loc__c, Scan__c, Total_With_Tax__c ' +
        'FROM Invoice__c',
    );
    const inv = records('Invoice__c').find(
      (r) =>
        r.Amount__c !== null &&
        r.Issued_At__c !== null &&
        r.Addr__City__s !== null &&
        r.Loc__Latitude__s !== null &&
        r.Scan__c !== null,
    )!;
    const json = plan.toJson(inv, ctx);
    expect(json.Amount__c).toEqual(new RawJson(String(inv.Amount__c)));
    expect(json.Total_With_Tax__c).toBeInstanceOf(RawJson);
    expect(json.Paid__c).toBe(inv.Paid__c);
    expect(json.Issued_At__c).toBe(String(inv.Issued_At__c).replace(/Z$/, '+0000'));
    expect(json.Addr__c).toMatchObject({
      city: inv.Addr__City__s,
      street: inv.Addr__Street__s,
      postalCode: inv.Addr__PostalCode__s,
      stateCode: inv.Addr__StateCode__s,
      countryCode: inv.Addr__CountryCode__s,
    });
    expect(json.Loc__c).toEqual({
      latitude: new RawJson(String(inv.Loc__Latitude__s)),
      longitude: new RawJson(String(inv.Loc__Longitude__s)),
    });
    expect(json.Scan__c).toBe(`/services/data/v62.0/sobjects/Invoice__c/${inv.Id}/Scan__c`);
    const csv = planSoql(store, 'SELECT Id, Paid__c, Issued_At__c, Amount__c FROM Invoice__c').toCsvValues(inv);
    expect(csv).toEqual([inv.Id, String(inv.Paid__c), inv.Issued_At__c, inv.Amount__c]);
  });
});

describe('emulator SOQL: toJsonText (the REST page fast path)', () => {
  it('writes exactly serializeJson(toJson()) for every record of every object, all scalar fields selected', () => {
    let compared = 0;
    for (const def of store.objects().filter((d) => d.queryable)) {
      const scalar = def.fields.filter((f) => f.type !== 'address' && f.type !== 'location').map((f) => f.name);
      const plan = planSoql(store, `SELECT ${scalar.join(', ')} FROM ${def.name}`);
      expect(plan.toJsonText, def.name).toBeDefined();
      for (const rec of records(def.name, true).slice(0, 300)) {
        expect(plan.toJsonText!(rec, ctx)).toBe(serializeJson(plan.toJson(rec, ctx)));
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(500);
  });

  it('writes random text (controls, quotes, backslashes, lone/paired surrogates, U+2028) as serializeJson does', () => {
    const rand = prng(4242);
    const alphabet = [
      'a',
      'Z',
      '0',
      ' ',
      '"',
      '\\',
      '/',
      '\n',
      '\r',
      '\t',
      '\u0000',
      '\u001f',
      '\u007f',
      '\u2028',
      '\u2029',
      'é',
      '漢',
      '\ud83d\ude80',
      '\ud83d',
      '\ude80',
      '\ufeff',
      '\ufffd',
      "'",
    ];
    const text = () =>
      Array.from({ length: Math.floor(rand() * 12) }, () => alphabet[Math.floor(rand() * alphabet.length)]).join('');
    const own = createOrgStore({ accounts: 10, seed: 3, clockStart: new Date('2026-06-15T10:00:00.000Z') });
    const def = own.object('Account')!;
    const plan = planSoql(
      own,
      `SELECT ${def.fields
        .filter((f) => f.type !== 'address' && f.type !== 'location')
        .map((f) => f.name)
        .join(', ')} FROM Account`,
    );
    const snap = own.snapshot('Account');
    for (let k = 0; k < 400; k++) {
      const rec = {
        ...snap.at(k % snap.size)!,
        Name: text(),
        Description: text(),
        Website: text(),
        BillingCity: rand() < 0.2 ? null : text(),
      };
      expect(plan.toJsonText!(rec, ctx)).toBe(serializeJson(plan.toJson(rec, ctx)));
    }
  });

  it('is absent where toJson nests: parents, subqueries, compound fields', () => {
    expect(planSoql(store, 'SELECT Id, Account.Name FROM Contact').toJsonText).toBeUndefined();
    expect(planSoql(store, 'SELECT Id, (SELECT Id FROM Contacts) FROM Account').toJsonText).toBeUndefined();
    expect(planSoql(store, 'SELECT Id, BillingAddress FROM Account').toJsonText).toBeUndefined();
  });
});

describe('emulator SOQL: errors and Bulk refusals', () => {
  it.each([
    ['SELECT Id FROM', 'MALFORMED_QUERY', /ERROR at Row:1/],
    ['SELECT Id FROM Opportunity WHERE CloseDate < 2016-07-31T04:17:54', 'MALFORMED_QUERY', /./],
    ['SELECT Id FROM Opportunity WHERE CloseDate < 2016-07-31T04:17:54Z', 'MALFORMED_QUERY', /must be of type date/],
    [
      'SELECT Id, Foo FROM Account',
      'INVALID_FIELD',
      /^No such column 'Foo' on entity 'Account'\. If you are attempting to use a custom field/,
    ],
    ['SELECT Id FROM Account WHERE Bar__c = 1', 'INVALID_FIELD', /No such column 'Bar__c'/],
    ['SELECT Id, Nope.Name FROM Contact', 'INVALID_FIELD', /relationship 'Nope'/],
    [
      'SELECT Id FROM Foo',
      'INVALID_TYPE',
      /^sObject type 'Foo' is not supported\. If you are attempting to use a custom object/,
    ],
    ['SELECT Id, (SELECT Id FROM Nothings) FROM Account', 'INVALID_TYPE', /Nothings/],
    ["SELECT Id FROM Account WHERE NumberOfEmployees = 'many'", 'INVALID_FIELD', /must be of type/],
    ['SELECT FIELDS(ALL) FROM Account', 'MALFORMED_QUERY', /LIMIT/],
  ])('%s -> %s', (soql, code, message) => {
    const err = soqlError(soql);
    expect(err.errorCode).toBe(code);
    expect(err.message).toMatch(message);
  });

  it.each([
    ['SELECT Id, BillingAddress FROM Account', 'Selecting compound data not supported in Bulk Query'],
    ['SELECT Id, Loc__c FROM Invoice__c', 'Selecting compound data not supported in Bulk Query'],
    ['SELECT Id, (SELECT Id FROM Contacts) FROM Account', /not supported in Bulk Query/],
    ['SELECT COUNT() FROM Account', /COUNT\(\) is not supported/],
    ['SELECT Name, COUNT(Id) FROM Account GROUP BY Name', /not supported in Bulk Query/],
    ['SELECT Id FROM Account LIMIT 5 OFFSET 5', /OFFSET/],
    ['SELECT FIELDS(STANDARD) FROM Account', /FIELDS\(\)/],
    ['SELECT TYPEOF What WHEN Account THEN Name END FROM Task', /TYPEOF/],
    ['SELECT Id, Scan__c FROM Invoice__c', /base64/],
  ])('Bulk refuses %s', (soql, message) => {
    const refusal = planSoql(store, soql).bulkRefusal();
    expect(refusal?.errorCode).toBe('INVALIDJOB');
    expect(refusal?.message).toMatch(message);
  });

  it('accepts plain field lists with parent paths, and refuses objects flagged not bulk-queryable', () => {
    expect(
      planSoql(store, 'SELECT Id, Account.Name FROM Contact WHERE SystemModstamp > 2020-01-01T00:00:00Z').bulkRefusal(),
    ).toBeNull();
    const def = store.object('AccountHistory')!;
    def.bulkQueryable = false;
    try {
      expect(planSoql(store, 'SELECT Id FROM AccountHistory').bulkRefusal()).toEqual({
        errorCode: 'INVALIDENTITY',
        message: "Entity 'AccountHistory' is not supported by the Bulk API.",
      });
    } finally {
      def.bulkQueryable = true;
    }
  });

  it('refuses to run aggregates it cannot evaluate', () => {
    const plan = planSoql(store, 'SELECT Name, COUNT(Id) FROM Account GROUP BY Name');
    expect(() => [...plan.run(store.snapshot('Account'), { includeDeleted: false })]).toThrow(SoqlError);
  });
});
