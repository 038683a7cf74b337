// An org with person accounts (Salesforce's "Change Events for Person Accounts" in the Change Data Capture guide):
// Account gains a person's name parts (Salutation, FirstName, LastName: components of the compound `Name`) and
// IsPersonAccount, and a person account's Name is composed from the parts, as Salesforce composes it. Account change
// events then carry `Name` as `["null","string",Switchable_PersonName]` (changeSchema.ts): a business account's name,
// or a person's name parts (docs/salesforce.md#change-event-fields).
import { field, PICKLISTS, READ_ONLY } from '../schema.ts';
import type { FieldValue, OrgStore } from '../types.ts';

type Values = Record<string, FieldValue | undefined>;

/** The value of `name` in values keyed in any casing (the store takes field names case-insensitively). */
function fieldValue(values: Values, name: string): FieldValue | undefined {
  const key = Object.keys(values).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : values[key];
}

/** `values` with Name set to the full name of its parts, from `values` or else the record (no other Name casing). */
function withFullName(values: Record<string, FieldValue>, rec: Values = {}): Record<string, FieldValue> {
  const part = (name: string) => {
    const v = fieldValue(values, name);
    return v === undefined ? fieldValue(rec, name) : v;
  };
  const out = Object.fromEntries(Object.entries(values).filter(([k]) => k.toLowerCase() !== 'name'));
  const first = part('FirstName');
  const last = part('LastName') ?? null;
  out.Name = first ? `${first} ${last ?? ''}` : last;
  return out;
}

/** Adds the person account fields to the org's Account and returns the store that composes person accounts' names. */
export function withPersonAccounts(store: OrgStore): OrgStore {
  const part = { compoundFieldName: 'Name' };
  store.addField(
    'Account',
    field('Salutation', 'picklist', { ...part, length: 40, picklistValues: PICKLISTS.salutation }),
  );
  store.addField('Account', field('FirstName', 'string', { ...part, label: 'First Name', length: 40 }));
  store.addField('Account', field('LastName', 'string', { ...part, label: 'Last Name', length: 80 }));
  // Set by the person account record type, never written by a client; every seeded account is a business account.
  store.addField(
    'Account',
    field('IsPersonAccount', 'boolean', { ...READ_ONLY, label: 'Is Person Account', defaultedOnCreate: true }),
    () => false,
  );
  const accountPrefix = store.object('Account')?.keyPrefix;
  return {
    ...store,
    insert(object, values) {
      const person = object.toLowerCase() === 'account' && fieldValue(values, 'IsPersonAccount') === true;
      return store.insert(object, person ? withFullName(values) : values);
    },
    update(id, values, o) {
      const rec = id.startsWith(accountPrefix ?? '-') ? store.get(id) : undefined;
      if (rec?.IsPersonAccount !== true) return store.update(id, values, o);
      return store.update(id, withFullName(values, rec), o);
    },
  };
}
