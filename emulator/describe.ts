// describeGlobal and sObject describe JSON (docs/salesforce.md#describeglobal, #sobject-describe, #field-types),
// rendered from the org's ObjectDefs.
import { recordTypeInfos } from './recordTypes.ts';
import type { FieldDef, FieldType, ObjectDef, OrgStore, PicklistEntryDef, SfRecord } from './types.ts';

/** soapType per field type (docs/salesforce.md#field-types). */
const SOAP_TYPE: Record<FieldType, string> = {
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
  // Inferred, not seen in a real describe: newer API WSDLs list a json soapType beside location and address, which
  // REST describe spells urn:location / urn:address (docs/salesforce.md#field-types).
  json: 'urn:json',
};

const TEXT_TYPES = new Set<FieldType>([
  'id',
  'reference',
  'string',
  'textarea',
  'email',
  'phone',
  'url',
  'picklist',
  'multipicklist',
  'combobox',
  'encryptedstring',
]);

function urls(def: ObjectDef, apiVersion: string): Record<string, string> {
  const base = `/services/data/v${apiVersion}/sobjects/${def.name}`;
  return { sobject: base, describe: `${base}/describe`, rowTemplate: `${base}/{ID}` };
}

/**
 * The describeGlobal entry of one object, also the top-level keys of its sObject describe
 * (docs/salesforce.md#describeglobal).
 */
function objectSummary(def: ObjectDef, apiVersion: string): Record<string, unknown> {
  return {
    activateable: false,
    createable: true,
    custom: def.custom,
    customSetting: false,
    deepCloneable: false,
    deletable: true,
    deprecatedAndHidden: false,
    feedEnabled: !def.custom,
    hasSubtypes: false,
    idEnabled: true,
    isInterface: false,
    isSubtype: false,
    keyPrefix: def.keyPrefix,
    label: def.label,
    labelPlural: def.labelPlural,
    layoutable: true,
    mergeable: def.name === 'Account' || def.name === 'Contact' || def.name === 'Lead',
    mruEnabled: true,
    name: def.name,
    queryable: def.queryable,
    replicateable: def.replicateable,
    retrieveable: true,
    searchable: true,
    triggerable: true,
    undeletable: def.undeletable,
    updateable: true,
    urls: urls(def, apiVersion),
    ...def.flags,
  };
}

export function describeGlobal(
  store: OrgStore,
  apiVersion: string,
): { encoding: string; maxBatchSize: number; sobjects: Record<string, unknown>[] } {
  return { encoding: 'UTF-8', maxBatchSize: 200, sobjects: store.objects().map((d) => objectSummary(d, apiVersion)) };
}

/** docs/salesforce.md#sobject-describe: the full field object, every key of the real describe. */
/** Types describe marks neither aggregatable nor groupable. */
const NOT_AGGREGATABLE = new Set<FieldType>(['textarea', 'base64', 'address', 'location', 'anyType', 'json']);
const NOT_GROUPABLE = new Set<FieldType>(['textarea', 'base64', 'address', 'location', 'json']);

/** docs/salesforce.md#picklist-values: a bare string is an active entry labelled with its value. */
function picklistEntry(p: string | PicklistEntryDef): Record<string, unknown> {
  const e = typeof p === 'string' ? { value: p } : p;
  return {
    active: e.active ?? true,
    defaultValue: e.defaultValue ?? false,
    label: e.label ?? e.value,
    validFor: null,
    value: e.value,
  };
}

function defaultPicklistValue(f: FieldDef): string | null {
  const d = (f.picklistValues ?? []).find((p) => typeof p !== 'string' && p.defaultValue === true);
  return d && typeof d !== 'string' ? d.value : null;
}

export function describeField(f: FieldDef): Record<string, unknown> {
  const text = TEXT_TYPES.has(f.type);
  const length = text ? (f.length ?? 0) : 0;
  const numeric = f.type === 'double' || f.type === 'currency' || f.type === 'percent';
  const referenceTo = f.referenceTo ?? [];
  return {
    aggregatable: !NOT_AGGREGATABLE.has(f.type),
    aiPredictionField: false,
    autoNumber: false,
    // An id is ASCII: one byte a character; other text is counted at 3 bytes a character (UTF-8's worst case).
    byteLength: f.type === 'id' || f.type === 'reference' ? length : length * 3,
    calculated: f.calculated ?? false,
    calculatedFormula: f.calculated ? (f.calculatedFormula ?? null) : null,
    cascadeDelete: false,
    caseSensitive: false,
    compoundFieldName: f.compoundFieldName ?? null,
    controllerName: null,
    createable: f.createable ?? true,
    custom: f.custom ?? false,
    // A picklist's default entry is also the field's defaultValue (docs/salesforce.md#picklist-values).
    defaultValue: defaultPicklistValue(f),
    defaultValueFormula: null,
    defaultedOnCreate: f.defaultedOnCreate ?? false,
    dependentPicklist: false,
    deprecatedAndHidden: false,
    digits: f.type === 'int' || f.type === 'long' ? (f.digits ?? 0) : 0,
    displayLocationInDecimal: false,
    encrypted: f.type === 'encryptedstring',
    externalId: f.externalId ?? false,
    extraTypeInfo: f.type === 'textarea' ? ((f.length ?? 0) > 255 ? 'plaintextarea' : null) : null,
    filterable: f.filterable ?? true,
    filteredLookupInfo: null,
    formulaTreatNullNumberAsZero: false,
    groupable: !NOT_GROUPABLE.has(f.type) && !numeric,
    highScaleNumber: false,
    htmlFormatted: false,
    idLookup: f.idLookup ?? false,
    inlineHelpText: null,
    label: f.label,
    length,
    mask: null,
    maskType: null,
    name: f.name,
    nameField: f.nameField ?? false,
    namePointing: referenceTo.length > 1,
    nillable: f.nillable,
    permissionable: f.nillable && !f.calculated && f.type !== 'id',
    picklistValues: (f.picklistValues ?? []).map(picklistEntry),
    polymorphicForeignKey: referenceTo.length > 1,
    precision: numeric ? (f.precision ?? 18) : 0,
    queryByDistance: false,
    referenceTargetField: null,
    referenceTo,
    relationshipName: f.relationshipName ?? null,
    relationshipOrder: null,
    restrictedDelete: false,
    restrictedPicklist: false,
    scale: numeric ? (f.scale ?? 0) : 0,
    searchPrefilterable: f.type === 'reference',
    soapType: SOAP_TYPE[f.type],
    sortable: f.sortable ?? true,
    type: f.type,
    unique: f.unique ?? false,
    updateable: f.updateable ?? true,
    writeRequiresMasterRead: false,
  };
}

/** `recordTypes`: the org's RecordType rows (recordTypeInfos lists the object's own). */
export function describeSObject(
  def: ObjectDef,
  apiVersion: string,
  recordTypes: readonly SfRecord[] = [],
): Record<string, unknown> {
  return {
    ...objectSummary(def, apiVersion),
    actionOverrides: [],
    childRelationships: def.childRelationships.map((c) => ({
      cascadeDelete: c.cascadeDelete ?? false,
      childSObject: c.childSObject,
      deprecatedAndHidden: false,
      field: c.field,
      junctionIdListNames: [],
      junctionReferenceTo: [],
      relationshipName: c.relationshipName,
      restrictedDelete: false,
    })),
    compactLayoutable: true,
    fields: def.fields.map(describeField),
    listviewable: null,
    lookupLayoutable: null,
    namedLayoutInfos: [],
    networkScopeFieldName: null,
    recordTypeInfos: recordTypeInfos(def.name, recordTypes, apiVersion),
    searchLayoutable: true,
    supportedScopes: [{ label: 'All', name: 'everything' }],
  };
}
