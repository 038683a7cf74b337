// The emulated org's objects and fields, shaped like sObject describe (docs/salesforce.md#sobject-describe): standard
// objects with realistic fields, a History object without SystemModstamp/LastModifiedDate and User without IsDeleted
// (docs/salesforce.md#objects-without-system-fields), and Invoice__c using every field type, compound address/location
// fields (docs/salesforce.md#compound-fields) and formula fields.
import { RECORD_TYPE_OBJECTS } from './recordTypes.ts';
import type { ChildRelationshipDef, FieldDef, FieldType, ObjectDef, ObjectFlag } from './types.ts';

export type FieldOpts = Partial<Omit<FieldDef, 'name' | 'type'>>;

/** Default text lengths per type, as describe reports them. */
const LENGTH: Partial<Record<FieldType, number>> = {
  id: 18,
  reference: 18,
  string: 255,
  textarea: 255,
  email: 80,
  phone: 40,
  url: 255,
  picklist: 255,
  multipicklist: 4099,
  combobox: 255,
  encryptedstring: 175,
  anyType: 0,
};

function labelOf(name: string): string {
  return name
    .replace(/__[cs]$/, '')
    .replace(/__/g, ' ')
    .replace(/_/g, ' ')
    .replace(/([a-z])([A-Z])/g, '$1 $2');
}

export function field(name: string, type: FieldType, opts: FieldOpts = {}): FieldDef {
  return {
    name,
    label: labelOf(name),
    type,
    length: LENGTH[type] ?? 0,
    nillable: type !== 'boolean' && type !== 'id',
    custom: name.endsWith('__c') || name.endsWith('__s'),
    createable: true,
    updateable: true,
    filterable: true,
    sortable: true,
    ...opts,
  };
}

export function ref(name: string, referenceTo: string[], relationshipName: string, opts: FieldOpts = {}): FieldDef {
  return field(name, 'reference', { referenceTo, relationshipName, ...opts });
}

export const READ_ONLY: FieldOpts = { createable: false, updateable: false };
export const SYSTEM: FieldOpts = { ...READ_ONLY, nillable: false, defaultedOnCreate: true };

/**
 * Id, IsDeleted (objects with a Recycle Bin) and the audit fields; History objects lack the modstamp pair
 * (docs/salesforce.md#objects-without-system-fields).
 */
export function systemFields(opts: { isDeleted: boolean; modstamps: boolean }): FieldDef[] {
  const out = [field('Id', 'id', { ...SYSTEM, label: 'Record ID', idLookup: true, defaultedOnCreate: true })];
  if (opts.isDeleted) out.push(field('IsDeleted', 'boolean', { ...SYSTEM, label: 'Deleted' }));
  out.push(field('CreatedDate', 'datetime', { ...SYSTEM, label: 'Created Date' }));
  out.push(ref('CreatedById', ['User'], 'CreatedBy', { ...SYSTEM, label: 'Created By ID' }));
  if (opts.modstamps) {
    out.push(field('LastModifiedDate', 'datetime', { ...SYSTEM, label: 'Last Modified Date' }));
    out.push(ref('LastModifiedById', ['User'], 'LastModifiedBy', { ...SYSTEM, label: 'Last Modified By ID' }));
    out.push(field('SystemModstamp', 'datetime', { ...SYSTEM, label: 'System Modstamp' }));
  }
  return out;
}

const GEOCODE_ACCURACY = [
  'Address',
  'NearAddress',
  'Block',
  'Street',
  'ExtendedZip',
  'Zip',
  'Neighborhood',
  'City',
  'County',
  'State',
  'Unknown',
];

/**
 * docs/salesforce.md#compound-fields: a standard address (`BillingAddress` + `BillingStreet`...) with its components
 * first.
 */
function standardAddress(prefix: string): FieldDef[] {
  const compound = `${prefix}Address`;
  const part = (name: string, type: FieldType, opts: FieldOpts = {}) =>
    field(prefix + name, type, { compoundFieldName: compound, ...opts });
  return [
    part('Street', 'textarea', { label: `${prefix} Street` }),
    part('City', 'string', { label: `${prefix} City`, length: 40 }),
    part('State', 'string', { label: `${prefix} State/Province`, length: 80 }),
    part('PostalCode', 'string', { label: `${prefix} Zip/Postal Code`, length: 20 }),
    part('Country', 'string', { label: `${prefix} Country`, length: 80 }),
    part('Latitude', 'double', { label: `${prefix} Latitude`, precision: 18, scale: 15 }),
    part('Longitude', 'double', { label: `${prefix} Longitude`, precision: 18, scale: 15 }),
    part('GeocodeAccuracy', 'picklist', {
      label: `${prefix} Geocode Accuracy`,
      length: 40,
      picklistValues: GEOCODE_ACCURACY,
    }),
    field(compound, 'address', { ...READ_ONLY, label: `${prefix} Address`, filterable: false, sortable: false }),
  ];
}

/**
 * docs/salesforce.md#compound-fields: a custom address field `Addr__c` with `Addr__Street__s`... components
 * (state/country as code picklists).
 */
function customAddress(base: string, label: string): FieldDef[] {
  const compound = `${base}__c`;
  const part = (name: string, type: FieldType, opts: FieldOpts = {}) =>
    field(`${base}__${name}__s`, type, { compoundFieldName: compound, label: `${label} (${labelOf(name)})`, ...opts });
  return [
    part('Street', 'textarea'),
    part('City', 'string', { length: 40 }),
    part('PostalCode', 'string', { length: 20 }),
    part('StateCode', 'picklist', { picklistValues: ['CA', 'NY', 'TX', 'BY', 'ZH'] }),
    part('CountryCode', 'picklist', { picklistValues: ['US', 'DE', 'CH', 'FR', 'JP'] }),
    part('Latitude', 'double', { precision: 18, scale: 15 }),
    part('Longitude', 'double', { precision: 18, scale: 15 }),
    part('GeocodeAccuracy', 'picklist', { length: 40, picklistValues: GEOCODE_ACCURACY }),
    field(compound, 'address', { ...READ_ONLY, label, filterable: false, sortable: false }),
  ];
}

/** docs/salesforce.md#compound-fields: a geolocation field `Loc__c` with `Loc__Latitude__s` / `Loc__Longitude__s`. */
export function location(base: string, label: string): FieldDef[] {
  const compound = `${base}__c`;
  return [
    field(`${base}__Latitude__s`, 'double', {
      label: `${label} (Latitude)`,
      compoundFieldName: compound,
      precision: 18,
      scale: 15,
    }),
    field(`${base}__Longitude__s`, 'double', {
      label: `${label} (Longitude)`,
      compoundFieldName: compound,
      precision: 18,
      scale: 15,
    }),
    field(compound, 'location', { ...READ_ONLY, label, filterable: false, sortable: false }),
  ];
}

export function child(
  childSObject: string,
  fieldName: string,
  relationshipName: string,
  cascadeDelete = false,
): ChildRelationshipDef {
  return { childSObject, field: fieldName, relationshipName, cascadeDelete };
}

export interface ObjectOpts {
  label: string;
  labelPlural: string;
  keyPrefix: string;
  undeletable?: boolean;
  children?: ChildRelationshipDef[];
  /** Default true; false for objects getUpdated/getDeleted refuse (share rows, docs/salesforce.md#getdeleted). */
  replicateable?: boolean;
  /** Default true; false for objects Bulk API 2.0 refuses (docs/salesforce.md#bulk-api-20-soql-restrictions). */
  bulkQueryable?: boolean;
  /** describeGlobal flags that differ from a data object's (setup objects). */
  flags?: Partial<Record<ObjectFlag, boolean>>;
}

export function object(name: string, opts: ObjectOpts, fields: FieldDef[]): ObjectDef {
  return {
    name,
    label: opts.label,
    labelPlural: opts.labelPlural,
    keyPrefix: opts.keyPrefix,
    custom: name.endsWith('__c'),
    queryable: true,
    replicateable: opts.replicateable ?? true,
    bulkQueryable: opts.bulkQueryable ?? true,
    undeletable: opts.undeletable ?? true,
    ...(opts.flags ? { flags: opts.flags } : {}),
    fields,
    childRelationships: opts.children ?? [],
    lastModified: SCHEMA_EPOCH,
  };
}

/** When the seed schema was "deployed": older than any generated record. */
const SCHEMA_EPOCH = '2020-01-01T00:00:00.000Z';

export const OWNER = () =>
  ref('OwnerId', ['User'], 'Owner', { label: 'Owner ID', nillable: false, defaultedOnCreate: true });

export const PICKLISTS = {
  accountType: [
    'Prospect',
    'Customer - Direct',
    'Customer - Channel',
    'Channel Partner / Reseller',
    'Installation Partner',
    'Technology Partner',
    'Other',
  ],
  industry: [
    'Agriculture',
    'Apparel',
    'Banking',
    'Biotechnology',
    'Chemicals',
    'Education',
    'Energy',
    'Finance',
    'Healthcare',
    'Retail',
    'Technology',
  ],
  rating: ['Hot', 'Warm', 'Cold'],
  salutation: ['Mr.', 'Ms.', 'Mrs.', 'Dr.', 'Prof.'],
  stage: [
    'Prospecting',
    'Qualification',
    'Needs Analysis',
    'Value Proposition',
    'Proposal/Price Quote',
    'Negotiation/Review',
    'Closed Won',
    'Closed Lost',
  ],
  leadSource: ['Web', 'Phone Inquiry', 'Partner Referral', 'Purchased List', 'Other'],
  leadStatus: ['Open - Not Contacted', 'Working - Contacted', 'Closed - Converted', 'Closed - Not Converted'],
  taskStatus: ['Not Started', 'In Progress', 'Completed', 'Waiting on someone else', 'Deferred'],
  taskPriority: ['High', 'Normal', 'Low'],
  taskSubject: ['Call', 'Send Letter', 'Send Quote', 'Other'],
  timeZone: ['America/Los_Angeles', 'Europe/Berlin', 'Asia/Tokyo', 'Australia/Sydney'],
  historyField: ['created', 'Name', 'Industry', 'Type', 'AnnualRevenue', 'Owner'],
  invoiceStatus: ['Draft', 'Sent', 'Paid', 'Void'],
  invoiceTags: ['Urgent', 'Disputed', 'Recurring', 'Export', 'Tax Exempt'],
  channel: ['Web', 'Phone', 'Partner'],
};

function userObject(): ObjectDef {
  return object('User', { label: 'User', labelPlural: 'Users', keyPrefix: '005', undeletable: false }, [
    ...systemFields({ isDeleted: false, modstamps: true }),
    field('Username', 'string', { nillable: false, length: 80, idLookup: true }),
    field('LastName', 'string', { nillable: false, length: 80 }),
    field('FirstName', 'string', { length: 40 }),
    field('Name', 'string', { ...READ_ONLY, label: 'Full Name', length: 121, nameField: true }),
    field('Alias', 'string', { nillable: false, length: 8 }),
    field('Email', 'email', { nillable: false, length: 128 }),
    field('IsActive', 'boolean', { label: 'Active', defaultedOnCreate: true }),
    field('TimeZoneSidKey', 'picklist', {
      label: 'Time Zone',
      nillable: false,
      length: 40,
      picklistValues: PICKLISTS.timeZone,
    }),
    ref('ManagerId', ['User'], 'Manager', { label: 'Manager ID' }),
  ]);
}

function accountObject(): ObjectDef {
  return object(
    'Account',
    {
      label: 'Account',
      labelPlural: 'Accounts',
      keyPrefix: '001',
      children: [
        child('Account', 'ParentId', 'ChildAccounts'),
        child('Contact', 'AccountId', 'Contacts', true),
        child('Opportunity', 'AccountId', 'Opportunities', true),
        child('Invoice__c', 'Account__c', 'Invoices__r'),
        child('AccountHistory', 'AccountId', 'Histories', true),
        child('Task', 'WhatId', 'Tasks', true),
      ],
    },
    [
      ...systemFields({ isDeleted: true, modstamps: true }),
      field('Name', 'string', { label: 'Account Name', nillable: false, nameField: true, idLookup: true }),
      field('AccountNumber', 'string', { label: 'Account Number', length: 40 }),
      field('Type', 'picklist', { label: 'Account Type', length: 40, picklistValues: PICKLISTS.accountType }),
      field('Industry', 'picklist', { length: 40, picklistValues: PICKLISTS.industry }),
      field('Rating', 'picklist', { label: 'Account Rating', length: 40, picklistValues: PICKLISTS.rating }),
      field('AnnualRevenue', 'currency', { label: 'Annual Revenue', precision: 18, scale: 0 }),
      field('NumberOfEmployees', 'int', { label: 'Employees', digits: 8 }),
      field('Description', 'textarea', { label: 'Account Description', length: 32000 }),
      ...standardAddress('Billing'),
      field('Phone', 'phone', { label: 'Account Phone' }),
      field('Website', 'url'),
      ref('ParentId', ['Account'], 'Parent', { label: 'Parent Account ID' }),
      OWNER(),
      field('LastActivityDate', 'date', { ...READ_ONLY, label: 'Last Activity' }),
      // A unique external id for upsert jobs (docs/salesforce.md#bulk-api-20-ingest); generated as SEED-<n>.
      field('External_Id__c', 'string', { label: 'External Id', length: 255, externalId: true, unique: true }),
    ],
  );
}

function contactObject(): ObjectDef {
  const namePart = { compoundFieldName: 'Name' };
  return object(
    'Contact',
    { label: 'Contact', labelPlural: 'Contacts', keyPrefix: '003', children: [child('Task', 'WhoId', 'Tasks', true)] },
    [
      ...systemFields({ isDeleted: true, modstamps: true }),
      ref('AccountId', ['Account'], 'Account', { label: 'Account ID' }),
      field('Salutation', 'picklist', { ...namePart, length: 40, picklistValues: PICKLISTS.salutation }),
      field('FirstName', 'string', { ...namePart, label: 'First Name', length: 40 }),
      field('LastName', 'string', { ...namePart, label: 'Last Name', nillable: false, length: 80 }),
      field('Name', 'string', { ...READ_ONLY, label: 'Full Name', length: 121, nameField: true }),
      field('Title', 'string', { length: 128 }),
      field('Email', 'email', { idLookup: true }),
      field('Phone', 'phone', { label: 'Business Phone' }),
      field('Birthdate', 'date'),
      field('HasOptedOutOfEmail', 'boolean', { label: 'Email Opt Out', defaultedOnCreate: true }),
      ...standardAddress('Mailing'),
      field('Description', 'textarea', { label: 'Contact Description', length: 32000 }),
      OWNER(),
    ],
  );
}

function opportunityObject(): ObjectDef {
  return object(
    'Opportunity',
    {
      label: 'Opportunity',
      labelPlural: 'Opportunities',
      keyPrefix: '006',
      children: [child('Task', 'WhatId', 'Tasks', true)],
    },
    [
      ...systemFields({ isDeleted: true, modstamps: true }),
      ref('AccountId', ['Account'], 'Account', { label: 'Account ID' }),
      // Present because the org defines Opportunity record types (emulator/recordTypes.ts).
      ref('RecordTypeId', ['RecordType'], 'RecordType', { label: 'Record Type ID' }),
      field('Name', 'string', { nillable: false, length: 120, nameField: true }),
      field('StageName', 'picklist', { label: 'Stage', nillable: false, length: 40, picklistValues: PICKLISTS.stage }),
      field('Amount', 'currency', { precision: 18, scale: 2 }),
      field('Probability', 'percent', { label: 'Probability (%)', precision: 3, scale: 0 }),
      field('CloseDate', 'date', { label: 'Close Date', nillable: false }),
      field('Type', 'picklist', {
        label: 'Opportunity Type',
        length: 40,
        picklistValues: ['Existing Business', 'New Business'],
      }),
      field('LeadSource', 'picklist', { label: 'Lead Source', length: 40, picklistValues: PICKLISTS.leadSource }),
      field('IsClosed', 'boolean', { ...READ_ONLY, label: 'Closed', defaultedOnCreate: true }),
      field('IsWon', 'boolean', { ...READ_ONLY, label: 'Won', defaultedOnCreate: true }),
      field('Description', 'textarea', { length: 32000 }),
      OWNER(),
    ],
  );
}

/**
 * RecordType (key prefix 012), a setup object: no IsDeleted (record types are deactivated, never deleted through the
 * API), IsPersonType only in orgs with person accounts. Calls: create, update, query, retrieve, getDeleted,
 * getUpdated, describeSObjects
 * (https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_objects_recordtype.htm); field labels
 * and lengths as the Salesforce Field Reference Guide lists them ("RecordType").
 */
function recordTypeObject(): ObjectDef {
  const [id, ...audit] = systemFields({ isDeleted: false, modstamps: true });
  return object(
    'RecordType',
    {
      label: 'Record Type',
      labelPlural: 'Record Types',
      keyPrefix: '012',
      undeletable: false,
      flags: {
        deletable: false,
        searchable: false,
        layoutable: false,
        triggerable: false,
        feedEnabled: false,
        mruEnabled: false,
      },
    },
    [
      { ...(id as FieldDef), label: 'Record Type ID' },
      field('Name', 'string', { nillable: false, length: 80, nameField: true }),
      field('DeveloperName', 'string', { label: 'Record Type Name', nillable: false, length: 80 }),
      field('NamespacePrefix', 'string', { ...READ_ONLY, label: 'Namespace Prefix', length: 15 }),
      field('Description', 'string', { length: 255 }),
      // Required for Opportunity and Lead record types; BusinessProcess (prefix 019) is not emulated.
      field('BusinessProcessId', 'reference', {
        label: 'Business Process ID',
        referenceTo: ['BusinessProcess'],
        relationshipName: null,
      }),
      field('SobjectType', 'picklist', {
        label: 'SObject Type Name',
        nillable: false,
        length: 40,
        updateable: false,
        picklistValues: [...RECORD_TYPE_OBJECTS],
      }),
      field('IsActive', 'boolean', { label: 'Active', defaultedOnCreate: true }),
      ...audit,
    ],
  );
}

function leadObject(): ObjectDef {
  const namePart = { compoundFieldName: 'Name' };
  return object(
    'Lead',
    { label: 'Lead', labelPlural: 'Leads', keyPrefix: '00Q', children: [child('Task', 'WhoId', 'Tasks', true)] },
    [
      ...systemFields({ isDeleted: true, modstamps: true }),
      field('FirstName', 'string', { ...namePart, label: 'First Name', length: 40 }),
      field('LastName', 'string', { ...namePart, label: 'Last Name', nillable: false, length: 80 }),
      field('Name', 'string', { ...READ_ONLY, label: 'Full Name', length: 121, nameField: true }),
      field('Company', 'string', { nillable: false }),
      field('Status', 'picklist', {
        label: 'Lead Status',
        nillable: false,
        length: 40,
        picklistValues: PICKLISTS.leadStatus,
      }),
      field('Email', 'email'),
      field('Phone', 'phone'),
      field('LeadSource', 'picklist', { label: 'Lead Source', length: 40, picklistValues: PICKLISTS.leadSource }),
      ...standardAddress(''),
      field('AnnualRevenue', 'currency', { label: 'Annual Revenue', precision: 18, scale: 0 }),
      field('NumberOfEmployees', 'int', { label: 'Employees', digits: 8 }),
      field('IsConverted', 'boolean', { ...READ_ONLY, label: 'Converted', defaultedOnCreate: true }),
      ref('ConvertedAccountId', ['Account'], 'ConvertedAccount', { ...READ_ONLY, label: 'Converted Account ID' }),
      OWNER(),
    ],
  );
}

function taskObject(): ObjectDef {
  return object('Task', { label: 'Task', labelPlural: 'Tasks', keyPrefix: '00T' }, [
    ...systemFields({ isDeleted: true, modstamps: true }),
    ref('WhatId', ['Account', 'Opportunity'], 'What', { label: 'Related To ID' }),
    ref('WhoId', ['Contact', 'Lead'], 'Who', { label: 'Name ID' }),
    field('Subject', 'combobox', { picklistValues: PICKLISTS.taskSubject }),
    field('ActivityDate', 'date', { label: 'Due Date Only' }),
    field('Status', 'picklist', { nillable: false, length: 40, picklistValues: PICKLISTS.taskStatus }),
    field('Priority', 'picklist', { nillable: false, length: 40, picklistValues: PICKLISTS.taskPriority }),
    field('IsClosed', 'boolean', { ...READ_ONLY, label: 'Closed', defaultedOnCreate: true }),
    field('Description', 'textarea', { label: 'Comments', length: 32000 }),
    OWNER(),
  ]);
}

function accountHistoryObject(): ObjectDef {
  return object('AccountHistory', { label: 'Account History', labelPlural: 'Account History', keyPrefix: '017' }, [
    ...systemFields({ isDeleted: true, modstamps: false }),
    ref('AccountId', ['Account'], 'Account', { ...READ_ONLY, label: 'Account ID', nillable: false }),
    field('Field', 'picklist', {
      ...READ_ONLY,
      label: 'Changed Field',
      nillable: false,
      picklistValues: PICKLISTS.historyField,
    }),
    field('DataType', 'picklist', {
      ...READ_ONLY,
      label: 'Data Type',
      picklistValues: ['Text', 'Currency', 'EntityId', 'DynamicEnum'],
    }),
    field('OldValue', 'anyType', { ...READ_ONLY, label: 'Old Value' }),
    field('NewValue', 'anyType', { ...READ_ONLY, label: 'New Value' }),
  ]);
}

function invoiceObject(): ObjectDef {
  const formula = { ...READ_ONLY, calculated: true };
  return object('Invoice__c', { label: 'Invoice', labelPlural: 'Invoices', keyPrefix: 'a01' }, [
    ...systemFields({ isDeleted: true, modstamps: true }),
    field('Name', 'string', { label: 'Invoice Number', nillable: false, length: 80, nameField: true }),
    OWNER(),
    ref('Account__c', ['Account'], 'Account__r', { label: 'Account' }),
    field('Description__c', 'textarea', { label: 'Description', length: 131072 }),
    field('Contact_Email__c', 'email', { label: 'Contact Email' }),
    field('Phone__c', 'phone', { label: 'Phone' }),
    field('Portal_Url__c', 'url', { label: 'Portal URL' }),
    field('Status__c', 'picklist', {
      label: 'Status',
      // docs/salesforce.md#picklist-values: a default entry, and a retired one describe still lists as inactive.
      picklistValues: [
        ...PICKLISTS.invoiceStatus.map((value) => (value === 'Draft' ? { value, defaultValue: true } : value)),
        { value: 'Disputed', label: 'Disputed (retired)', active: false },
      ],
    }),
    field('Tags__c', 'multipicklist', { label: 'Tags', picklistValues: PICKLISTS.invoiceTags }),
    field('Channel__c', 'combobox', { label: 'Channel', picklistValues: PICKLISTS.channel }),
    field('Secret_Code__c', 'encryptedstring', { label: 'Secret Code' }),
    field('Paid__c', 'boolean', { label: 'Paid', defaultedOnCreate: true }),
    // Digits for the extremes of int (32-bit) and long (64-bit) the seed holds.
    field('Line_Count__c', 'int', { label: 'Line Count', digits: 10 }),
    field('Sequence__c', 'long', { label: 'Sequence', digits: 19 }),
    field('Score__c', 'double', { label: 'Score', precision: 18, scale: 6 }),
    field('Amount__c', 'currency', { label: 'Amount', precision: 18, scale: 2 }),
    field('Discount__c', 'percent', { label: 'Discount', precision: 5, scale: 2 }),
    field('Due_Date__c', 'date', { label: 'Due Date' }),
    field('Issued_At__c', 'datetime', { label: 'Issued At' }),
    field('Reminder_Time__c', 'time', { label: 'Reminder Time' }),
    field('Scan__c', 'base64', { label: 'Scan', length: 32000000 }),
    ...customAddress('Addr', 'Billing Address'),
    ...location('Loc', 'Location'),
    field('Total_With_Tax__c', 'currency', {
      ...formula,
      label: 'Total With Tax',
      precision: 18,
      scale: 2,
      calculatedFormula: 'Amount__c * 1.2',
    }),
    field('Summary__c', 'string', {
      ...formula,
      label: 'Summary',
      length: 1300,
      calculatedFormula: "Name & ' - ' & TEXT(Status__c)",
    }),
  ]);
}

/** A fresh copy of the seed schema (each store mutates its own copy through schema drift). */
export function seedSchema(): ObjectDef[] {
  return [
    userObject(),
    accountObject(),
    contactObject(),
    opportunityObject(),
    recordTypeObject(),
    leadObject(),
    taskObject(),
    accountHistoryObject(),
    invoiceObject(),
  ];
}

/** Schema drift: a new ObjectDef with the field appended (snapshots keep the old def). */
export function withField(def: ObjectDef, f: FieldDef, lastModified: string): ObjectDef {
  if (def.fields.some((x) => x.name.toLowerCase() === f.name.toLowerCase()))
    throw new Error(`${def.name}.${f.name} already exists`);
  return { ...def, fields: [...def.fields, f], lastModified };
}

/** Fields stored on records: compound parents are derived from their components, formulas computed on read. */
export function isStored(f: FieldDef): boolean {
  return f.type !== 'address' && f.type !== 'location' && f.calculated !== true;
}
