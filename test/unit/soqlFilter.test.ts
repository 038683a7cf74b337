// The object filter (config objects[].where): what is accepted, what is refused and why, and how the SOQL builders put
// it into every read.
import { describe, expect, it } from 'vitest';
import { ConfigError, DataError } from '../../lib/errors.ts';
import type { DescribeField } from '../../extractors/describe.ts';
import { buildCount, buildSelect } from '../../extractors/soql.ts';
import { checkFilterFields, filteredSpec, filterParentCursors, parseFilter } from '../../extractors/soqlFilter.ts';
import type { ObjectSpec } from '../../schemas/records.ts';
import { fieldSpec } from '../support/fieldSpec.ts';

const opportunity: ObjectSpec = {
  name: 'Opportunity',
  table: 'opportunity',
  label: 'Opportunity',
  fields: ['Id', 'Name', 'SystemModstamp'].map((n) => fieldSpec(n)),
  cursorField: 'SystemModstamp',
  hasIsDeleted: true,
};

const f = (name: string, type: string, extra: Partial<DescribeField> = {}): DescribeField => ({
  name,
  label: name,
  type,
  ...extra,
});

const describes: Record<string, DescribeField[]> = {
  Opportunity: [
    f('Id', 'id'),
    f('StageName', 'picklist'),
    f('Amount', 'currency'),
    f('IsWon', 'boolean'),
    f('CloseDate', 'date'),
    f('Description', 'textarea', { filterable: false }),
    f('RecordTypeId', 'reference', { relationshipName: 'RecordType', referenceTo: ['RecordType'] }),
    f('OwnerId', 'reference', { relationshipName: 'Owner', referenceTo: ['User', 'Group'] }),
    f('AccountId', 'reference', { relationshipName: 'Account', referenceTo: ['Account'] }),
    f('Pricebook2Id', 'reference', { relationshipName: 'Pricebook2', referenceTo: ['Pricebook2'] }),
  ],
  RecordType: [f('Id', 'id'), f('DeveloperName', 'string'), f('SystemModstamp', 'datetime')],
  Account: [
    f('Id', 'id'),
    f('Industry', 'picklist'),
    f('SystemModstamp', 'datetime'),
    f('ParentId', 'reference', { relationshipName: 'Parent', referenceTo: ['Account'] }),
  ],
  // No SystemModstamp: LastModifiedDate is the cursor.
  Pricebook2: [f('Id', 'id'), f('Name', 'string'), f('LastModifiedDate', 'datetime')],
};
const describe_ = async (object: string) => describes[object] ?? [];

/** The ConfigError message for a filter, or 'ok'. */
async function verdict(where: string): Promise<string> {
  try {
    await checkFilterFields('Opportunity', parseFilter('Opportunity', where), describe_);
    return 'ok';
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
}

describe('parseFilter and checkFilterFields', () => {
  it('accepts conditions on the object and on parents (by relationship), with AND, OR, NOT, parentheses', async () => {
    for (const where of [
      "RecordType.DeveloperName = 'Enterprise'",
      "StageName != 'Closed Lost'",
      "(StageName = 'Prospecting' OR Amount > 1000.5) AND NOT IsWon = true",
      "StageName IN ('A', 'B') AND CloseDate >= 2024-01-01 AND Amount != null",
      "Owner.Name = 'Ann' AND recordtype.developername LIKE 'Ent%'",
      "StageName = 'it\\'s (odd); really'",
    ])
      expect(await verdict(where), where).toBe('ok');
  });

  it('collapses whitespace outside string literals and keeps literals as written', () => {
    expect(parseFilter('Opportunity', "  StageName   !=\n 'Closed   Lost'  ").text).toBe(
      "StageName != 'Closed   Lost'",
    );
  });

  it('refuses statements, clauses and anything that is not one condition', async () => {
    const cases: [string, RegExp][] = [
      ["StageName = 'x'; DROP TABLE opportunity", /';' is not allowed/],
      ["StageName = 'x' LIMIT 5", /not LIMIT/],
      ["StageName = 'x' ORDER BY Name", /not ORDER BY/],
      ["StageName = 'x' GROUP BY StageName", /not GROUP BY/],
      ["StageName = 'x' OFFSET 3", /not a SOQL condition/],
      ["StageName = 'x' FOR UPDATE", /not FOR/],
      ["StageName = 'x') OR (Name = 'y'", /closes a parenthesis/],
      ["(StageName = 'x'", /'\(' is not closed/],
      ["StageName = 'x", /not closed/],
      ['StageName = ', /not a SOQL condition/],
      ['   ', /empty/],
      ['Id IN (SELECT OpportunityId FROM OpportunityLineItem)', /subqueries/],
      ['CALENDAR_YEAR(CloseDate) = 2024', /functions/],
      ['CloseDate = LAST_N_DAYS:30', /relative date literals/],
    ];
    for (const [where, expected] of cases) {
      const message = await verdict(where);
      expect(message, where).toMatch(/^the filter of Opportunity \(objects\[\]\.where\): /);
      expect(message, where).toMatch(expected);
    }
  });

  it('checks every field against the describe: unknown fields and relationships, types, filterable', async () => {
    expect(await verdict("Stage = 'x'")).toMatch(/Opportunity has no field 'Stage'/);
    expect(await verdict("RecordTypeId.DeveloperName = 'x'")).toMatch(/no relationship 'RecordTypeId'/);
    expect(await verdict("RecordType.Name = 'x'")).toMatch(/RecordType has no field 'Name'/);
    expect(await verdict("Owner.Email = 'x'")).toMatch(/points to several objects/);
    expect(await verdict("Description = 'x'")).toMatch(/cannot be filtered on/);
    expect(await verdict("Amount = 'big'")).toMatch(/currency field and cannot be compared with a STRING/);
    expect(await verdict("IsWon = 'true'")).toMatch(/boolean field/);
    expect(await verdict("StageName INCLUDES ('a')")).toMatch(/multi-select picklist/);
  });
});

describe('the filter in the SOQL builders', () => {
  const filtered = filteredSpec(opportunity, "StageName != 'Closed Lost' OR IsWon = true");

  it('ANDs the filter, in parentheses, with windows, liveOnly and COUNT()', () => {
    expect(buildSelect(filtered, { window: { from: '2024-01-02T00:00:00Z' }, orderByCursor: true })).toBe(
      "SELECT Id, Name, SystemModstamp FROM Opportunity WHERE (StageName != 'Closed Lost' OR IsWon = true) " +
        'AND SystemModstamp >= 2024-01-02T00:00:00.000Z ORDER BY SystemModstamp, Id',
    );
    expect(buildCount(filtered, { liveOnly: true })).toBe(
      "SELECT COUNT() FROM Opportunity WHERE IsDeleted = false AND (StageName != 'Closed Lost' OR IsWon = true)",
    );
    expect(buildSelect(filtered)).toBe(
      "SELECT Id, Name, SystemModstamp FROM Opportunity WHERE (StageName != 'Closed Lost' OR IsWon = true)",
    );
  });

  it('reads the records the filter leaves out as its NOT, and refuses that for an object without a filter', () => {
    expect(buildSelect(filtered, { fields: ['Id', 'SystemModstamp'], unmatched: true })).toBe(
      "SELECT Id, SystemModstamp FROM Opportunity WHERE (NOT (StageName != 'Closed Lost' OR IsWon = true))",
    );
    expect(() => buildSelect(opportunity, { unmatched: true })).toThrow(DataError);
  });

  it('bounds a delta by the cursor of every parent the filter names, and only a delta', async () => {
    const where = "RecordType.DeveloperName = 'Enterprise' AND (Account.Parent.Industry = 'x' OR Amount > 5)";
    const cursors = await filterParentCursors('Opportunity', parseFilter('Opportunity', where), describe_);
    expect(cursors).toEqual(['Account.Parent.SystemModstamp', 'Account.SystemModstamp', 'RecordType.SystemModstamp']);
    const spec = { ...filteredSpec(opportunity, where), whereParentCursors: cursors };
    const from = '2024-01-02T00:00:00Z';
    expect(buildSelect(spec, { window: { from, delta: true }, fields: ['Id'], unmatched: true })).toBe(
      `SELECT Id FROM Opportunity WHERE (NOT (${where})) AND (SystemModstamp >= 2024-01-02T00:00:00.000Z OR ` +
        'Account.Parent.SystemModstamp >= 2024-01-02T00:00:00.000Z OR ' +
        'Account.SystemModstamp >= 2024-01-02T00:00:00.000Z OR RecordType.SystemModstamp >= 2024-01-02T00:00:00.000Z)',
    );
    // A window that is not a delta's (a backfill's, a later Bulk window) is cut on the record's own cursor alone.
    expect(buildSelect(spec, { window: { from, to: '2024-02-01T00:00:00Z' }, fields: ['Id'] })).toBe(
      `SELECT Id FROM Opportunity WHERE (${where}) AND SystemModstamp >= 2024-01-02T00:00:00.000Z ` +
        'AND SystemModstamp < 2024-02-01T00:00:00.000Z',
    );
  });

  it('takes LastModifiedDate where a parent has no SystemModstamp, and no cursor of a polymorphic parent', async () => {
    const cursors = (where: string) => filterParentCursors('Opportunity', parseFilter('Opportunity', where), describe_);
    expect(await cursors("Pricebook2.Name = 'Standard'")).toEqual(['Pricebook2.LastModifiedDate']);
    expect(await cursors("Owner.Name = 'Ann' AND StageName = 'x'")).toEqual([]);
    expect(await cursors("StageName = 'x'")).toEqual([]);
  });

  it('leaves an object without a filter as it was', () => {
    expect(filteredSpec(opportunity, null)).toBe(opportunity);
    expect(buildSelect(opportunity)).toBe('SELECT Id, Name, SystemModstamp FROM Opportunity');
  });
});
