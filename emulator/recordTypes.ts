// Record types: the RecordType object's seed rows, an object's RecordTypeId (a reference to RecordType, relationship
// `RecordType`), and the `recordTypeInfos` of its describe.
// RecordType: https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_objects_recordtype.htm
// Describe's RecordTypeInfo (the Apex class carries the same members):
// https://developer.salesforce.com/docs/platform/apex-ref/references/apex-ref/apex-class-schema-recordtypeinfo.html
import { FieldValueError } from './coerce.ts';
import type { FieldValue, SfRecord } from './types.ts';

/** The Master record type: in every describe of an object that can have record types, never a RecordType row. */
export const MASTER_RECORD_TYPE_ID = '012000000000000AAA';

/** The emulated objects that can have record types (RecordType.SobjectType's picklist). */
export const RECORD_TYPE_OBJECTS: readonly string[] = [
  'Account',
  'Contact',
  'Lead',
  'Opportunity',
  'Task',
  'Invoice__c',
];

export interface SeedRecordType {
  sobjectType: string;
  developerName: string;
  name: string;
  description: string;
}

/** The org's record types, RecordType slot = index; every one active. */
export const SEED_RECORD_TYPES: readonly SeedRecordType[] = [
  {
    sobjectType: 'Opportunity',
    developerName: 'Enterprise',
    name: 'Enterprise',
    description: 'Deals with enterprise accounts: legal review, multi-year terms',
  },
  {
    sobjectType: 'Opportunity',
    developerName: 'SMB',
    name: 'Small and Medium Business',
    description: 'Self-serve and inside-sales deals',
  },
  { sobjectType: 'Opportunity', developerName: 'Partner', name: 'Partner', description: 'Deals sourced by resellers' },
];

/**
 * The API user's profile default per object (describe's defaultRecordTypeMapping). A record created without a
 * RecordTypeId gets it ("If you don't pass the recordType, the record is created using the default recordType for
 * the profile", https://developer.salesforce.com/docs/service/api-cti/guide/sforce-api-cti-savelog.html).
 */
export const DEFAULT_RECORD_TYPES: Readonly<Record<string, string>> = { Opportunity: 'Enterprise' };

const sameObject = (rt: SfRecord, object: string) =>
  typeof rt.SobjectType === 'string' && rt.SobjectType.toLowerCase() === object.toLowerCase();

/** The id of the object's default record type, when it has an active one. */
export function defaultRecordTypeId(object: string, recordTypes: readonly SfRecord[]): string | null {
  const name = Object.entries(DEFAULT_RECORD_TYPES).find(([o]) => o.toLowerCase() === object.toLowerCase())?.[1];
  const rt = recordTypes.find((r) => sameObject(r, object) && r.DeveloperName === name && r.IsActive === true);
  return rt?.Id ?? null;
}

/**
 * A RecordTypeId a create or update may set: null, or an active record type of the same object ("Only active record
 * types can be applied to records", RecordType.IsActive). Anything else is refused as Salesforce refuses it.
 */
export function checkRecordTypeId(object: string, value: FieldValue, recordType: SfRecord | undefined): void {
  if (value === null) return;
  if (recordType && sameObject(recordType, object) && recordType.IsActive === true) return;
  throw new FieldValueError(
    'INVALID_CROSS_REFERENCE_KEY',
    `Record Type ID: this ID value isn't valid for the user: ${String(value)}`,
    'RecordTypeId',
  );
}

/**
 * describe's recordTypeInfos: the object's record types by name, then Master. With no record type of its own, Master
 * alone is available and the default; otherwise the profile's default is. Empty for objects without record types.
 */
export function recordTypeInfos(
  object: string,
  recordTypes: readonly SfRecord[],
  apiVersion: string,
): Record<string, unknown>[] {
  const own = recordTypes
    .filter((r) => sameObject(r, object))
    .sort((a, b) => String(a.Name).localeCompare(String(b.Name)));
  if (own.length === 0 && !RECORD_TYPE_OBJECTS.some((o) => o.toLowerCase() === object.toLowerCase())) return [];
  const defaultId = defaultRecordTypeId(object, recordTypes);
  const info = (id: string, name: string, developerName: string, active: boolean, isMaster: boolean) => ({
    active,
    available: isMaster ? own.length === 0 : active,
    defaultRecordTypeMapping: isMaster ? defaultId === null : id === defaultId,
    developerName,
    master: isMaster,
    name,
    recordTypeId: id,
    urls: { layout: `/services/data/v${apiVersion}/sobjects/${object}/describe/layouts/${id}` },
  });
  return [
    ...own.map((r) => info(r.Id, String(r.Name), String(r.DeveloperName), r.IsActive === true, false)),
    info(MASTER_RECORD_TYPE_ID, 'Master', 'Master', true, true),
  ];
}
