import { describe, expect, it } from 'vitest';
import { ConfigError, DataError } from '../../lib/errors.ts';
import { buildCount, buildSelect, escapeSoqlString, quoteSoqlString, soqlDateTime } from '../../extractors/soql.ts';
import type { ObjectSpec } from '../../schemas/records.ts';
import { fieldSpec } from '../support/fieldSpec.ts';

const field = (name: string) => fieldSpec(name);
const account: ObjectSpec = {
  name: 'Account',
  table: 'account',
  label: 'Account',
  fields: ['Id', 'Name', 'AnnualRevenue', 'SystemModstamp'].map(field),
  cursorField: 'SystemModstamp',
  hasIsDeleted: true,
};

describe('buildSelect', () => {
  it('selects every spec field in order with no WHERE when there is no window', () => {
    expect(buildSelect(account)).toBe('SELECT Id, Name, AnnualRevenue, SystemModstamp FROM Account');
  });

  it('writes the cursor window as unquoted UTC dateTime literals', () => {
    const soql = buildSelect(account, {
      window: { from: '2024-01-02T03:04:05.000Z', to: '2024-01-03T00:00:00+01:00' },
      orderByCursor: true,
    });
    expect(soql).toBe(
      'SELECT Id, Name, AnnualRevenue, SystemModstamp FROM Account ' +
        'WHERE SystemModstamp >= 2024-01-02T03:04:05.000Z AND SystemModstamp < 2024-01-02T23:00:00.000Z ' +
        'ORDER BY SystemModstamp, Id',
    );
  });

  it('treats an empty window as no window', () => {
    expect(buildSelect(account, { window: { from: undefined } })).not.toContain('WHERE');
  });

  it('uses an explicit field list', () => {
    expect(buildSelect(account, { fields: ['Id'] })).toBe('SELECT Id FROM Account');
  });

  it('refuses names that would need quoting', () => {
    expect(() => buildSelect({ ...account, name: 'Account; DROP' })).toThrow(ConfigError);
    expect(() => buildSelect(account, { fields: ['Id', "Name' OR 1=1"] })).toThrow(/not a plain Salesforce API name/);
    expect(() => buildSelect(account, { fields: ['_x'] })).toThrow(ConfigError);
  });

  it('refuses a window on an object without a cursor field', () => {
    expect(() => buildSelect({ ...account, cursorField: null }, { window: { from: '2024-01-01T00:00:00Z' } })).toThrow(
      DataError,
    );
  });

  it('refuses a window bound that is not an instant', () => {
    expect(() => buildSelect(account, { window: { from: 'yesterday' } })).toThrow(/not an ISO 8601 instant/);
  });
});

describe('buildCount', () => {
  it('counts over the same window', () => {
    expect(buildCount(account, { window: { from: '2024-01-02T03:04:05Z' } })).toBe(
      'SELECT COUNT() FROM Account WHERE SystemModstamp >= 2024-01-02T03:04:05.000Z',
    );
    expect(buildCount(account)).toBe('SELECT COUNT() FROM Account');
  });
});

describe('SOQL string literals', () => {
  it('escapes quote and backslash', () => {
    expect(escapeSoqlString("O'Brien \\ co")).toBe("O\\'Brien \\\\ co");
    expect(quoteSoqlString("it's")).toBe("'it\\'s'");
  });

  it('escapes control characters instead of embedding them', () => {
    expect(escapeSoqlString('a\nb\tc\rd"')).toBe('a\\nb\\tc\\rd\\"');
  });

  it('normalises dateTime literals to UTC millis', () => {
    expect(soqlDateTime('2024-01-02T03:04:05+02:00')).toBe('2024-01-02T01:04:05.000Z');
  });
});
