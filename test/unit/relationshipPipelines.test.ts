// Relationship pipelines, the pure parts: what their SOQL may hold, the reads built from a pipeline's spec (full reads
// by cursor window, deltas that also follow the parents' cursors and re-read rows of deleted parents), the tables they
// claim, and REST records with nested parents turned into rows.
import { describe, expect, it } from 'vitest';
import type { PipelineOptions } from '../../lib/config.ts';
import { buildCount, buildSelect } from '../../extractors/soql.ts';
import { specOf } from '../../extractors/describe.ts';
import { checkPipelines, compilePipeline } from '../../pipelines/relationships/compilePipeline.ts';
import { parsePipelineSoql, whereText } from '../../pipelines/relationships/parseSoql.ts';
import { pathColumn } from '../../pipelines/relationships/resolvePaths.ts';
import { isShortened } from '../../schemas/pgNames.ts';
import type { ObjectSpec } from '../../schemas/records.ts';
import { recordToRow } from '../../transforms/restPage.ts';
import { fieldSpec } from '../support/fieldSpec.ts';

const pipeline = (name: string, soql: string): PipelineOptions => ({ name, soql, overlapMinutes: 10, hash: [] });

describe('parsePipelineSoql', () => {
  it('takes WHERE paths of up to 5 levels, 4 with a subquery', () => {
    const five = "SELECT Id FROM Account WHERE Owner.Manager.Manager.Manager.Name = 'x'";
    expect(parsePipelineSoql('p', five).whereFields).toEqual(['Owner.Manager.Manager.Manager.Name']);
    const four = "SELECT Id, (SELECT Id FROM Contacts) FROM Account WHERE Owner.Manager.Manager.Name = 'x'";
    expect(parsePipelineSoql('p', four).whereFields).toEqual(['Owner.Manager.Manager.Name']);
  });

  it('takes fields, parent paths of any depth, subqueries and a WHERE', () => {
    const p = parsePipelineSoql(
      'p',
      'SELECT Id, Amount, Account.Owner.Email, (SELECT Id, LastName FROM Contacts WHERE LastName != null) ' +
        "FROM Account WHERE Industry = 'Tech' OR NOT Name LIKE 'A%'",
    );
    expect(p.from).toBe('Account');
    expect(p.fields).toEqual(['Id', 'Amount', 'Account.Owner.Email']);
    expect(p.whereFields).toEqual(['Industry', 'Name']);
    expect(p.subqueries.map((s) => [s.from, s.fields, s.whereFields])).toEqual([
      ['Contacts', ['Id', 'LastName'], ['LastName']],
    ]);
    expect(whereText(p.where!)).toBe("Industry = 'Tech' OR NOT Name LIKE 'A%'");
    expect(whereText(p.where!, 'Account')).toBe("Account.Industry = 'Tech' OR NOT Account.Name LIKE 'A%'");
  });

  it.each([
    ['SELECT Id FROM Account LIMIT 5', "LIMIT is not allowed in a pipeline's SOQL"],
    ['SELECT Id FROM Account OFFSET 5', 'OFFSET is not allowed'],
    ['SELECT Id FROM Account ORDER BY Name', 'ORDER BY is not allowed'],
    ['SELECT Industry FROM Account GROUP BY Industry', 'GROUP BY is not allowed'],
    ['SELECT COUNT() FROM Account', 'COUNT() is not allowed'],
    ['SELECT MAX(Amount) FROM Opportunity', 'MAX(Amount) is not allowed'],
    ['SELECT FIELDS(STANDARD) FROM Account', 'FIELDS(STANDARD) is not allowed'],
    ['SELECT Name n FROM Account', 'the alias n is not allowed'],
    ['SELECT TYPEOF What WHEN Account THEN Name END FROM Task', 'TYPEOF is not allowed'],
    ['SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Contact)', 'a semi-join'],
    ['SELECT Id FROM Account WHERE CALENDAR_YEAR(CreatedDate) = 2024', 'functions in WHERE are not allowed'],
    ['SELECT Id, (SELECT Id FROM Contacts LIMIT 1) FROM Account', "LIMIT is not allowed in a pipeline's subquery"],
    ['SELECT Id, Id FROM Account', 'Id is selected twice'],
    ['SELECT A.B.C.D.E.Name FROM Contact', 'A.B.C.D.E.Name has more than 5 levels'],
    ["SELECT Id FROM Contact WHERE A.B.C.D.E.Name = 'x'", 'A.B.C.D.E.Name in WHERE has more than 5 levels'],
    [
      "SELECT Id, (SELECT Id FROM Notes WHERE A.B.C.D.E.Name = 'x') FROM Contact",
      'A.B.C.D.E.Name in WHERE has more than 5 levels',
    ],
    // A subquery's children are read with the top WHERE one level further: Account.Owner.Manager.Manager.Manager.Name.
    [
      "SELECT Id, (SELECT Id FROM Contacts) FROM Account WHERE Owner.Manager.Manager.Manager.Name = 'x'",
      "Owner.Manager.Manager.Manager.Name in WHERE has 5 levels: a subquery's children are read with it one level " +
        'further, past the 5 SOQL allows',
    ],
    ['SELECT Id FROM', 'its SOQL does not parse'],
  ])('refuses %s', (soql, message) => {
    expect(() => parsePipelineSoql('p', soql)).toThrow(`pipeline p: ${message}`);
  });
});

describe('checkPipelines', () => {
  it('refuses a table another pipeline or a configured object already has', () => {
    expect(() => checkPipelines([pipeline('account', 'SELECT Id FROM Contact')], ['Account'])).toThrow(
      'pipeline account: its table or view account is also one of the object Account',
    );
    expect(() => checkPipelines([pipeline('account_history', 'SELECT Id FROM Contact')], ['Account'])).toThrow(
      'its table or view account_history is also one of the object Account',
    );
    const twice = [
      pipeline('a', 'SELECT Id, (SELECT Id FROM Contacts) FROM Account'),
      pipeline('a__contacts', 'SELECT Id FROM Contact'),
    ];
    expect(() => checkPipelines(twice, [])).toThrow('its table or view a__contacts is also one of the pipeline a');
  });
});

const opportunities: ObjectSpec = {
  name: 'Opportunity',
  table: 'opp_accounts',
  label: 'Relationship pipeline opp_accounts',
  fields: [fieldSpec('Id', 'id'), fieldSpec('Account.Name'), fieldSpec('SystemModstamp', 'datetime')],
  cursorField: 'SystemModstamp',
  hasIsDeleted: false,
  stateKey: 'pipeline:opp_accounts',
  relationship: {
    where: "StageName != 'Closed Lost' OR Amount > 0",
    fullWhere: 'AccountId != null',
    parentCursors: ['Account.SystemModstamp', 'Account.Owner.SystemModstamp'],
  },
};
const FROM = '2024-01-02T03:04:05.000Z';

describe('reads of a relationship pipeline (extractors/soql.ts)', () => {
  it('a full read: the WHERE and the full-read conditions, cut by the row cursor alone', () => {
    expect(buildSelect(opportunities, { window: { from: FROM, to: '2024-02-01T00:00:00.000Z' } })).toBe(
      "SELECT Id, Account.Name, SystemModstamp FROM Opportunity WHERE (StageName != 'Closed Lost' OR Amount > 0) " +
        `AND (AccountId != null) AND SystemModstamp >= ${FROM} AND SystemModstamp < 2024-02-01T00:00:00.000Z`,
    );
    expect(buildCount(opportunities)).toBe(
      "SELECT COUNT() FROM Opportunity WHERE (StageName != 'Closed Lost' OR Amount > 0) AND (AccountId != null)",
    );
  });

  it('a delta: the bound on the row or any parent, rows of deleted parents by Id, no full-read conditions', () => {
    const spec = {
      ...opportunities,
      relationship: { ...opportunities.relationship!, changedIds: ['006000000000001AAA'] },
    };
    expect(buildSelect(spec, { window: { from: FROM, delta: true }, orderByCursor: true })).toBe(
      "SELECT Id, Account.Name, SystemModstamp FROM Opportunity WHERE (StageName != 'Closed Lost' OR Amount > 0) " +
        `AND (SystemModstamp >= ${FROM} OR Account.SystemModstamp >= ${FROM} OR ` +
        `Account.Owner.SystemModstamp >= ${FROM} OR Id IN ('006000000000001AAA')) ORDER BY SystemModstamp, Id`,
    );
    const bad = { ...opportunities, relationship: { ...opportunities.relationship!, changedIds: ["x' OR Id != '"] } };
    expect(() => buildSelect(bad, { window: { from: FROM, delta: true } })).toThrow('is not a Salesforce record Id');
  });

  it("an object's reads are unchanged: a delta bound is its cursor's", () => {
    const { relationship: _, stateKey: __, ...plain } = opportunities;
    const spec = { ...plain, fields: plain.fields.filter((f) => !f.name.includes('.')) };
    expect(buildSelect(spec, { window: { from: FROM, delta: true } })).toBe(
      `SELECT Id, SystemModstamp FROM Opportunity WHERE SystemModstamp >= ${FROM}`,
    );
    expect(() => buildSelect(plain)).toThrow("Field of Opportunity 'Account.Name' is not a plain Salesforce API name");
  });
});

describe('columns and REST rows of parent paths', () => {
  it('flattens a path to a column, which comments do not call shortened', () => {
    expect(pathColumn('Account.Owner.Email')).toBe('account_owner_email');
    expect(isShortened('Account.Owner.Email', 'account_owner_email')).toBe(false);
    expect(pathColumn(`Account.${'X'.repeat(70)}__c`)).toHaveLength(63);
  });

  it('reads nested parents, null when a lookup on the way is empty (docs/salesforce.md#rest-record-json)', () => {
    const fields = [fieldSpec('Id', 'id'), fieldSpec('Account.Name'), fieldSpec('Account.Owner.Email', 'email')];
    const attributes = { type: 'Opportunity', url: '/x' };
    const full = { attributes, Id: 'a', Account: { attributes, Name: 'Acme', Owner: { attributes, Email: 'o@x' } } };
    expect(recordToRow(full, fields)).toEqual(['a', 'Acme', 'o@x']);
    expect(recordToRow({ attributes, Id: 'b', Account: null }, fields)).toEqual(['b', null, null]);
    expect(recordToRow({ attributes, Id: 'c', Account: { attributes, Name: 'N', Owner: null } }, fields)).toEqual([
      'c',
      'N',
      null,
    ]);
    expect(() => recordToRow({ attributes, Id: 'd' }, fields)).toThrow('lacks the field Account.Name');
  });
});

const base = [
  { name: 'Id', label: 'Id', type: 'id' },
  { name: 'Name', label: 'Name', type: 'string' },
  { name: 'IsDeleted', label: 'Deleted', type: 'boolean' },
  { name: 'SystemModstamp', label: 'Modstamp', type: 'datetime' },
];
const lookup = { name: 'AccountId', label: 'Account', type: 'reference', referenceTo: ['Account'] };
const describes: Record<string, Parameters<typeof specOf>[0]> = {
  Account: {
    name: 'Account',
    label: 'Account',
    fields: [
      ...base,
      { name: 'Industry', label: 'Industry', type: 'picklist' },
      { name: 'OwnerId', label: 'Owner', type: 'reference', referenceTo: ['User'], relationshipName: 'Owner' },
    ],
    childRelationships: [{ childSObject: 'Contact', field: 'AccountId', relationshipName: 'Contacts' }],
  },
  Contact: {
    name: 'Contact',
    label: 'Contact',
    fields: [
      ...base,
      { ...lookup, relationshipName: 'Account' },
      { name: 'OwnerId', label: 'Owner', type: 'reference', referenceTo: ['User'], relationshipName: 'Owner' },
    ],
  },
  // No IsDeleted: its deletes are not followed, so its lookup may be hashed.
  User: { name: 'User', label: 'User', fields: base.filter((f) => f.name !== 'IsDeleted') },
};
const describeObject = async (name: string) => {
  const d = describes[name]!;
  return { spec: specOf(d), raw: d.fields, childRelationships: d.childRelationships ?? [] };
};
const compile = (soql: string, hash: string[] = []) => {
  const p = { ...pipeline('p', soql), hash };
  return compilePipeline(p, parsePipelineSoql('p', soql), describeObject);
};

describe('reads of a subquery', () => {
  it("follows the parent's cursor and those of parents the top WHERE names, only when there is a WHERE", async () => {
    const soql = "SELECT Id, Name, (SELECT Id, Name FROM Contacts) FROM Account WHERE Industry != 'Banking'";
    const [, children] = await compile(`${soql} AND Owner.Name != 'x'`);
    // A parent's change can make it match the WHERE: its children, their own cursors unchanged, come with it.
    expect(children!.spec.relationship).toEqual({
      where: null,
      fullWhere: "AccountId != null AND (Account.Industry != 'Banking' AND Account.Owner.Name != 'x')",
      parentCursors: ['Account.SystemModstamp', 'Account.Owner.SystemModstamp'],
    });
    const [, all] = await compile('SELECT Id, Name, (SELECT Id, Name FROM Contacts) FROM Account');
    expect(all!.spec.relationship!.parentCursors).toEqual([]);
  });
});

describe('hashed paths of a pipeline (pipelines[].hash)', () => {
  it('hashes a selected path, but refuses the lookup that ties rows to a parent they track', async () => {
    const [read] = await compile('SELECT Id, Name, Account.Name FROM Contact', ['Account.Name']);
    expect(read!.spec.fields.filter((f) => f.hashed).map((f) => f.name)).toEqual(['Account.Name']);
    const [owned] = await compile('SELECT Id, OwnerId, Owner.Name FROM Contact', ['OwnerId']);
    expect(owned!.spec.fields.filter((f) => f.hashed).map((f) => f.name)).toEqual(['OwnerId']);
    // Rows of a deleted parent are found by comparing this column with the parent's Id (parentDeletes.ts).
    await expect(compile('SELECT Id, AccountId, Account.Name FROM Contact', ['AccountId'])).rejects.toThrow(
      'pipeline p: hash: AccountId links the rows to their parent Account',
    );
    await expect(
      compile('SELECT Id, (SELECT Id, AccountId FROM Contacts) FROM Account', ['AccountId']),
    ).rejects.toThrow('pipeline p: hash: AccountId links the rows to their parent Account');
  });
});
