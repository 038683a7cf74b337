// describeGlobal / sObject describe JSON shapes (docs/salesforce.md#describeglobal, #sobject-describe, #field-types)
// rendered from the emulator schema.
import { describe, expect, it } from 'vitest';
import { describeField, describeGlobal, describeSObject } from '../../emulator/describe.ts';
import { createOrgStore } from '../../emulator/store.ts';
import type { SfFieldType } from '../../emulator/types.ts';

const store = createOrgStore({ accounts: 5, seed: 1 });

/** The docs/salesforce.md#sobject-describe key set of a real describe field object. */
const FIELD_KEYS = [
  'name',
  'label',
  'type',
  'soapType',
  'length',
  'byteLength',
  'precision',
  'scale',
  'digits',
  'nillable',
  'calculated',
  'calculatedFormula',
  'compoundFieldName',
  'defaultedOnCreate',
  'defaultValue',
  'externalId',
  'idLookup',
  'nameField',
  'unique',
  'custom',
  'createable',
  'updateable',
  'filterable',
  'sortable',
  'groupable',
  'aggregatable',
  'autoNumber',
  'caseSensitive',
  'encrypted',
  'htmlFormatted',
  'referenceTo',
  'relationshipName',
  'relationshipOrder',
  'polymorphicForeignKey',
  'cascadeDelete',
  'restrictedDelete',
  'picklistValues',
  'restrictedPicklist',
  'dependentPicklist',
  'controllerName',
  'deprecatedAndHidden',
  'extraTypeInfo',
  'inlineHelpText',
  'mask',
  'maskType',
  'permissionable',
  'queryByDistance',
  'referenceTargetField',
  'writeRequiresMasterRead',
  'namePointing',
  'displayLocationInDecimal',
  'highScaleNumber',
  'filteredLookupInfo',
  'searchPrefilterable',
];

function fieldJson(object: string, name: string): Record<string, unknown> {
  const f = store.object(object)?.fields.find((x) => x.name === name);
  if (!f) throw new Error(`${object}.${name} missing`);
  return describeField(f);
}

describe('emulator describe', () => {
  it('lists every object in describeGlobal with urls for the API version', () => {
    const g = describeGlobal(store, '62.0');
    expect(g).toMatchObject({ encoding: 'UTF-8', maxBatchSize: 200 });
    const account = g.sobjects.find((o) => o.name === 'Account');
    expect(account).toMatchObject({
      keyPrefix: '001',
      queryable: true,
      replicateable: true,
      custom: false,
      undeletable: true,
    });
    expect(account?.urls).toEqual({
      sobject: '/services/data/v62.0/sobjects/Account',
      describe: '/services/data/v62.0/sobjects/Account/describe',
      rowTemplate: '/services/data/v62.0/sobjects/Account/{ID}',
    });
    expect(g.sobjects.map((o) => o.name)).toEqual(
      expect.arrayContaining(['User', 'Contact', 'Opportunity', 'Lead', 'Task', 'AccountHistory', 'Invoice__c']),
    );
    expect(g.sobjects.find((o) => o.name === 'User')?.undeletable).toBe(false);
  });

  it('renders every field with the real key set', () => {
    for (const def of store.objects())
      for (const f of def.fields) expect(Object.keys(describeField(f))).toEqual(expect.arrayContaining(FIELD_KEYS));
  });

  it('uses every field type on Invoice__c with the right soapType', () => {
    const expected: Record<SfFieldType, string> = {
      id: 'tns:ID',
      reference: 'tns:ID',
      string: 'xsd:string',
      textarea: 'xsd:string',
      email: 'xsd:string',
      phone: 'xsd:string',
      url: 'xsd:string',
      picklist: 'xsd:string',
      multipicklist: 'xsd:string',
      combobox: 'xsd:string',
      encryptedstring: 'xsd:string',
      boolean: 'xsd:boolean',
      int: 'xsd:int',
      long: 'xsd:long',
      double: 'xsd:double',
      currency: 'xsd:double',
      percent: 'xsd:double',
      date: 'xsd:date',
      datetime: 'xsd:dateTime',
      time: 'xsd:time',
      base64: 'xsd:base64Binary',
      address: 'urn:address',
      location: 'urn:location',
      anyType: 'xsd:anyType',
    };
    const fields = describeSObject(store.object('Invoice__c')!, '62.0').fields as Record<string, unknown>[];
    const types = new Set(fields.map((f) => f.type));
    for (const t of Object.keys(expected).filter((t) => t !== 'anyType')) expect(types, t).toContain(t);
    for (const f of fields) expect(f.soapType).toBe(expected[f.type as SfFieldType]);
    expect(fieldJson('AccountHistory', 'NewValue').type).toBe('anyType');
  });

  it('describes text lengths, references, compounds, picklists and formulas like Salesforce', () => {
    expect(fieldJson('Account', 'Name')).toMatchObject({
      type: 'string',
      length: 255,
      byteLength: 765,
      nillable: false,
      nameField: true,
      custom: false,
    });
    expect(fieldJson('Invoice__c', 'Description__c')).toMatchObject({
      type: 'textarea',
      length: 131072,
      byteLength: 393216,
    });
    expect(fieldJson('Contact', 'AccountId')).toMatchObject({
      type: 'reference',
      referenceTo: ['Account'],
      relationshipName: 'Account',
      polymorphicForeignKey: false,
    });
    expect(fieldJson('Invoice__c', 'Account__c')).toMatchObject({
      referenceTo: ['Account'],
      relationshipName: 'Account__r',
      custom: true,
    });
    expect(fieldJson('Task', 'WhatId')).toMatchObject({
      referenceTo: ['Account', 'Opportunity'],
      relationshipName: 'What',
      polymorphicForeignKey: true,
    });
    expect(fieldJson('Account', 'BillingCity')).toMatchObject({ compoundFieldName: 'BillingAddress' });
    expect(fieldJson('Account', 'BillingAddress')).toMatchObject({
      type: 'address',
      soapType: 'urn:address',
      compoundFieldName: null,
      filterable: false,
    });
    expect(fieldJson('Invoice__c', 'Addr__StateCode__s')).toMatchObject({
      compoundFieldName: 'Addr__c',
      type: 'picklist',
    });
    expect(fieldJson('Invoice__c', 'Loc__Latitude__s')).toMatchObject({
      compoundFieldName: 'Loc__c',
      type: 'double',
      precision: 18,
      scale: 15,
    });
    expect(fieldJson('Invoice__c', 'Amount__c')).toMatchObject({ type: 'currency', precision: 18, scale: 2 });
    expect(fieldJson('Invoice__c', 'Total_With_Tax__c')).toMatchObject({
      calculated: true,
      calculatedFormula: 'Amount__c * 1.2',
      createable: false,
    });
    expect(fieldJson('Invoice__c', 'Summary__c')).toMatchObject({ type: 'string', calculated: true });
    expect(fieldJson('Account', 'Type').picklistValues).toContainEqual({
      active: true,
      defaultValue: false,
      label: 'Prospect',
      value: 'Prospect',
      validFor: null,
    });
    expect(fieldJson('Account', 'IsDeleted')).toMatchObject({
      type: 'boolean',
      nillable: false,
      defaultedOnCreate: true,
    });
  });

  it('has the system-field shapes: History without modstamps, User without IsDeleted, Account children', () => {
    const names = (o: string) => store.object(o)!.fields.map((f) => f.name);
    expect(names('AccountHistory')).toEqual(
      expect.arrayContaining(['Id', 'IsDeleted', 'AccountId', 'CreatedDate', 'Field', 'OldValue', 'NewValue']),
    );
    expect(names('AccountHistory')).not.toContain('SystemModstamp');
    expect(names('AccountHistory')).not.toContain('LastModifiedDate');
    expect(names('User')).not.toContain('IsDeleted');
    const rels = describeSObject(store.object('Account')!, '62.0').childRelationships as {
      relationshipName: string;
      childSObject: string;
      field: string;
    }[];
    expect(rels).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ relationshipName: 'Contacts', childSObject: 'Contact', field: 'AccountId' }),
        expect.objectContaining({ relationshipName: 'Opportunities', childSObject: 'Opportunity' }),
        expect.objectContaining({ relationshipName: 'Invoices__r', childSObject: 'Invoice__c', field: 'Account__c' }),
        expect.objectContaining({ relationshipName: 'Histories', childSObject: 'AccountHistory' }),
      ]),
    );
  });
});
