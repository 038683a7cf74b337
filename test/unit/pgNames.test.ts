// PostgreSQL names for Salesforce names past 63 bytes (schemas/pgNames.ts) and where they end up: describe's table and
// columns, the DDL, its comments, the `_live` view and the cursor index.
import { describe, expect, it } from 'vitest';
import { specOf } from '../../extractors/describe.ts';
import { DataError } from '../../lib/errors.ts';
import { columnComment, createTableSql, cursorIndexName, cursorIndexSql, tableComment } from '../../loaders/ddl.ts';
import { quoteIdent } from '../../loaders/postgres.ts';
import { stageName } from '../../loaders/stage.ts';
import { liveViewName } from '../../loaders/views.ts';
import { columnNameOf, MAX_IDENTIFIER_BYTES, pgIdentifier, tableNameOf } from '../../schemas/pgNames.ts';

const bytes = (s: string) => Buffer.byteLength(s);
/** Names as the enterprise emulator profile has them (emulator/enterprise.ts). */
const HISTORY = 'acme_billing_ns__Subscription_Renewal_Schedule_Line_Items__History';
const RENEWAL = 'acme_billing_ns__Subscription_Renewal_Schedule_Line_Items__c';
const LATITUDE = 'acme_billing_ns__Primary_Headquarters_Geolocation_Coords__Latitude__s';
const LONGITUDE = 'acme_billing_ns__Primary_Headquarters_Geolocation_Coords__Longitude__s';

describe('pgIdentifier', () => {
  it('keeps every name that fits in 63 bytes exactly as it was (no existing table, column or view is renamed)', () => {
    const sixtyThree = 'x'.repeat(63);
    expect(pgIdentifier('account')).toBe('account');
    expect(pgIdentifier(sixtyThree)).toBe(sixtyThree);
    expect(pgIdentifier('account', '_live')).toBe('account_live');
    expect(pgIdentifier('invoice__c_systemmodstamp', '_idx')).toBe('invoice__c_systemmodstamp_idx');
    expect(tableNameOf('Invoice__c')).toBe('invoice__c');
    expect(columnNameOf('BillingLatitude')).toBe('billinglatitude');
    expect(tableNameOf(RENEWAL)).toBe(RENEWAL.toLowerCase());
  });

  it('shortens a longer name to 63 bytes: its start, a hash of the whole name, the suffix kept', () => {
    const table = tableNameOf(HISTORY);
    expect(HISTORY.length).toBeGreaterThan(63);
    expect(bytes(table)).toBe(MAX_IDENTIFIER_BYTES);
    expect(table).toMatch(/^acme_billing_ns__subscription_renewal_schedule_line_it_[0-9a-f]{8}$/);
    // The same every time (a second run finds its table), and PostgreSQL accepts it as it is.
    expect(tableNameOf(HISTORY)).toBe(table);
    expect(quoteIdent(table)).toBe(`"${table}"`);
    const view = liveViewName(table);
    expect(view).toMatch(/_[0-9a-f]{8}_live$/);
    expect(bytes(view)).toBeLessThanOrEqual(63);
  });

  it('gives two names that share their first 63 bytes two different names', () => {
    const prefix = `ns__${'a'.repeat(59)}`;
    const [one, two] = [`${prefix}__One__c`, `${prefix}__Two__c`].map((n) => tableNameOf(n));
    expect(prefix.length).toBe(63);
    expect(one).not.toBe(two);
    expect([bytes(one!), bytes(two!)]).toEqual([63, 63]);
    // The geolocation components of one compound share 57 characters and both pass 63.
    const [lat, lng] = [columnNameOf(LATITUDE), columnNameOf(LONGITUDE)];
    expect(lat).not.toBe(lng);
    expect(bytes(lat)).toBeLessThanOrEqual(63);
    expect(bytes(lng)).toBeLessThanOrEqual(63);
  });

  it('gives two long tables sharing 58 characters their own `_live` view, cursor index and stage', () => {
    const a = `${'t'.repeat(60)}_a`;
    const b = `${'t'.repeat(60)}_b`;
    expect(liveViewName(a)).not.toBe(liveViewName(b));
    expect(liveViewName(a).endsWith('_live')).toBe(true);
    expect(stageName(a)).not.toBe(stageName(b));
    const spec = (table: string) => ({
      name: table,
      table,
      label: table,
      fields: [],
      cursorField: 'SystemModstamp' as const,
      hasIsDeleted: true,
    });
    const [ia, ib] = [cursorIndexName(spec(a))!, cursorIndexName(spec(b))!];
    expect(ia).not.toBe(ib);
    expect(ia.endsWith('_idx') && bytes(ia) <= 63).toBe(true);
    expect(cursorIndexSql('salesforce', spec(a))).toContain(`"${ia}"`);
  });

  it('cuts between characters, never inside one, for names with multi-byte characters', () => {
    const name = 'é'.repeat(40);
    const out = pgIdentifier(name);
    expect(bytes(out)).toBeLessThanOrEqual(63);
    expect(out).toMatch(/^é+_[0-9a-f]{8}$/);
  });
});

describe('describe and DDL with long names', () => {
  const fd = (name: string, type: string, extra: Record<string, unknown> = {}) => ({
    name,
    label: name,
    type,
    ...extra,
  });

  it('maps a long History object and long geolocation components, and says so in the comments', () => {
    const history = specOf({
      name: HISTORY,
      label: 'Renewal History',
      fields: [fd('Id', 'id'), fd('IsDeleted', 'boolean'), fd('CreatedDate', 'datetime'), fd('OldValue', 'anyType')],
    });
    expect(history.table).toBe(tableNameOf(HISTORY));
    expect(tableComment(history)).toBe(
      `Renewal History (Salesforce ${HISTORY}, name shortened to PostgreSQL's 63 bytes)`,
    );
    const account = specOf({
      name: 'Account',
      label: 'Account',
      fields: [
        fd('Id', 'id'),
        fd(LATITUDE, 'double', { label: 'Primary Headquarters (Latitude)' }),
        fd(LONGITUDE, 'double'),
        fd('Name', 'string'),
      ],
    });
    const lat = account.fields.find((f) => f.name === LATITUDE)!;
    expect(lat.column).toBe(columnNameOf(LATITUDE));
    expect(columnComment(lat)).toBe(
      `Primary Headquarters (Latitude) (Salesforce ${LATITUDE}, type double, name shortened to PostgreSQL's 63 bytes)`,
    );
    // A name that fits keeps the comment it always had.
    expect(columnComment(account.fields.find((f) => f.name === 'Name')!)).toBe('Name (Salesforce Name, type string)');
    expect(tableComment(account)).toBe('Account (Salesforce Account)');
    expect(() => createTableSql('salesforce', account)).not.toThrow();
  });

  it('refuses an object whose fields would share a column rather than mix their values', () => {
    // Salesforce names are unique ignoring case; two differing only in case cannot come from one describe, but they
    // would lower to one column: the check that guards shortened names catches them too.
    expect(() =>
      specOf({ name: 'X__c', label: 'X', fields: [fd('Id', 'id'), fd('A__c', 'string'), fd('a__c', 'string')] }),
    ).toThrow(DataError);
  });

  it('carries replicateable from describe (absent = true)', () => {
    const base = { label: 'x', fields: [fd('Id', 'id')] };
    expect(specOf({ name: 'AccountShare', replicateable: false, ...base }).replicateable).toBe(false);
    expect(specOf({ name: 'Account', replicateable: true, ...base }).replicateable).toBe(true);
    expect(specOf({ name: 'Account', ...base }).replicateable).toBe(true);
  });
});
