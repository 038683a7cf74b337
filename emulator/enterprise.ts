// The enterprise org profile: the demo org plus the traits real enterprise orgs have and the demo org lacks
// (docs/salesforce.md#field-types, #compound-fields, #objects-without-system-fields, #queryall-and-deleted-records,
// #getdeleted, #bulk-api-20-soql-restrictions):
// - Account with 600+ fields: two managed-package namespaces with long field names, a geolocation field whose
//   components pass 63 characters, a `json` field (REST: nested JSON; Bulk CSV: its JSON text);
// - Task and Event with archived records (IsArchived = true): queryAll returns them, query never does;
// - AccountShare: queryable but not replicateable (getUpdated/getDeleted refuse it), no SystemModstamp, no CreatedDate;
// - TaskStatus: no IsDeleted, refused by Bulk API 2.0 (clients fall back to REST);
// - a namespaced custom object whose History object's name passes 63 characters once lowercased.
// Values are generated on read like the demo org's (seed.ts): the Account's custom fields are a table of specs read
// by one function, so a record costs one hash per field and no closure.
import { makeId } from './ids.ts';
import { OWNER, PICKLISTS, READ_ONLY, SYSTEM, child, field, location, object, ref, systemFields } from './schema.ts';
import {
  AUDIT_FIELDS,
  DAY_MS,
  type GeneratedLink,
  type Generator,
  HARD_TEXT,
  LATITUDES,
  LONGITUDES,
  type SeedContext,
  type SeedExtension,
  accountOwner,
  audit,
  auditCursor,
  auditMs,
  deleted,
  evenLink,
  hardOr,
  mix,
  pick,
  refTo,
} from './seed.ts';
import type { FieldDef, FieldType, FieldValue, ObjectDef } from './types.ts';
import { dayText, isoOf, timeOf } from './values.ts';

/** The managed-package namespaces: a short one and one of the maximum 15 characters. */
export const NAMESPACE = 'acme_ns';
export const LONG_NAMESPACE = 'acme_billing_ns';

/** Names a product test can rely on. */
export const ENTERPRISE = {
  /** A namespaced custom text field with a 37-character name. */
  longField: `${NAMESPACE}__Some_Very_Long_Field_Name_Forty_Chars__c`,
  /** The geolocation compound (type location) and its components, 69 characters each. */
  geolocation: `${LONG_NAMESPACE}__Primary_Headquarters_Geolocation_Coords__c`,
  geolocationLatitude: `${LONG_NAMESPACE}__Primary_Headquarters_Geolocation_Coords__Latitude__s`,
  geolocationLongitude: `${LONG_NAMESPACE}__Primary_Headquarters_Geolocation_Coords__Longitude__s`,
  /** Describe type `json`. */
  jsonField: `${NAMESPACE}__Enrichment_Profile__c`,
  /** Queryable, not replicateable, no SystemModstamp/CreatedDate. */
  shareObject: 'AccountShare',
  /** Refused by Bulk API 2.0 (INVALIDENTITY); no IsDeleted. */
  bulkUnsupportedObject: 'TaskStatus',
  /** Activities with archived rows (IsArchived = true). */
  activityObjects: ['Task', 'Event'] as const,
  /** A namespaced custom object (60 characters) and its History object (66 characters). */
  renewalObject: `${LONG_NAMESPACE}__Subscription_Renewal_Schedule_Line_Items__c`,
  renewalHistory: `${LONG_NAMESPACE}__Subscription_Renewal_Schedule_Line_Items__History`,
} as const;

/** How many generated custom fields Account gets on top of its 34 standard and named ones. */
const GENERATED_FIELDS = 590;
const SHARE_ACCESS = ['Read', 'Edit', 'All'];
const SHARE_CAUSE = ['Owner', 'Manual', 'Rule', 'ImplicitChild', 'ImplicitParent', 'Team', 'Territory'];
const EVENT_SUBJECTS = ['Call', 'Email', 'Meeting', 'Send Letter/Quote', 'Other'];
const RENEWAL_STATUS = ['Scheduled', 'Invoiced', 'Cancelled'];
const RENEWAL_TRACKED = ['created', `${LONG_NAMESPACE}__Amount__c`, `${LONG_NAMESPACE}__Status__c`, 'Owner'];

// --- Account's generated custom fields -----------------------------------------------------------------------------

const AREAS = [
  'Revenue',
  'Pipeline',
  'Support',
  'Marketing',
  'Compliance',
  'Logistics',
  'Procurement',
  'Partner',
  'Territory',
  'Renewal',
  'Onboarding',
  'Engagement',
  'Risk',
  'Billing',
  'Product',
  'Forecast',
];
const METRICS = [
  'Quarterly_Target',
  'Primary_Contact_Role',
  'Escalation_Level',
  'Last_Review_Date',
  'Health_Score_Rolling_Average',
  'Regional_Segment_Code',
  'Annual_Contract_Value',
  'Preferred_Channel',
  'Opt_In_Status',
  'Discount_Percentage',
  'Implementation_Milestone_Timestamp',
  'Internal_Notes',
  'Account_Manager_Email',
  'Hotline_Phone',
  'Portal_Link',
  'Enabled_Modules',
];
const WORDS = ['alpha', 'Bravo', 'charlie', 'Δelta', 'echo', 'Foxtrot', 'golf', '東京', 'hotel', 'India', 'Ünïcode'];
const TAGS = ['Strategic', 'At Risk', 'Expansion', 'Reference', 'Churned', 'Partner-led'];

/** Value kinds of the generated fields: the describe type and how its text is made. */
const KINDS: readonly FieldType[] = [
  'string',
  'picklist',
  'double',
  'currency',
  'date',
  'boolean',
  'int',
  'percent',
  'datetime',
  'textarea',
  'email',
  'phone',
  'url',
  'multipicklist',
  'time',
  'long',
];

interface Spec {
  name: string;
  label: string;
  type: FieldType;
  salt: number;
  /** In tenths: how often the field is null (never for booleans). */
  nullTenths: number;
}

const POOL_SIZE = 32;

/** Value k of a generated field's pool: text valid for the field's type, with the hard cases now and then. */
function poolValue(type: FieldType, salt: number, k: number, anchorMs: number): FieldValue {
  const g = mix(k, salt, 7) >>> 4;
  switch (type) {
    case 'string':
      return k % 11 === 5 ? (HARD_TEXT[g % HARD_TEXT.length] as string) : `${pick(WORDS, g)} ${g % 1000}`;
    case 'textarea':
      return `Review ${g % 1000}: ${pick(WORDS, g)},\n"${pick(TAGS, g >>> 3)}" follow-up`;
    case 'picklist':
      return pick(PICKLISTS.industry, g);
    case 'multipicklist': {
      const picked = TAGS.filter((_, i) => ((g >>> i) & 3) === 0);
      return picked.length ? picked.join(';') : (TAGS[0] as string);
    }
    case 'double':
      return k % 9 === 4 ? '1.2345678E7' : `${(g % 2_000_000) - 1_000_000}.${String(g % 10_000).padStart(4, '0')}`;
    case 'currency':
      return `${g % 10_000_000}.${String(g % 100).padStart(2, '0')}`;
    case 'percent':
      return String(g % 101);
    case 'int':
      return String((g % 2_000_000) - 1_000_000);
    case 'long':
      return k % 7 === 3 ? '9007199254740993' : String(g);
    case 'date':
      return dayText(Math.floor(anchorMs / DAY_MS) - (g % 3000));
    case 'datetime':
      return isoOf(anchorMs - (g % 90_000_000) * 1000);
    case 'time':
      return timeOf((g % 86_400) * 1000);
    case 'email':
      return `owner${g % 10_000}.${salt}@example.com`;
    case 'phone':
      return `+1 (212) 555-${String(g % 10_000).padStart(4, '0')}`;
    case 'url':
      return `https://intranet.example.com/accounts/${g % 100_000}?f=${salt}&x=1`;
    default:
      return null;
  }
}

/** The generated fields: Salesforce names (at most 40 characters, no trailing or doubled underscore) and types. */
const SPECS: readonly Spec[] = Array.from({ length: GENERATED_FIELDS }, (_, i) => {
  const area = AREAS[i % AREAS.length] as string;
  const metric = METRICS[Math.floor(i / AREAS.length) % METRICS.length] as string;
  const body = `${area}_${String(i).padStart(3, '0')}_${metric}`.slice(0, 40).replace(/_+$/, '');
  const ns = i % 3 === 0 ? `${NAMESPACE}__` : i % 7 === 1 ? `${LONG_NAMESPACE}__` : '';
  const type = KINDS[i % KINDS.length] as FieldType;
  return { name: `${ns}${body}__c`, label: body.replaceAll('_', ' '), type, salt: 5000 + i, nullTenths: (i * 7) % 9 };
});

function specField(sp: Spec): FieldDef {
  const { type } = sp;
  const numeric = type === 'double' || type === 'currency' || type === 'percent';
  const picklist = type === 'picklist' ? PICKLISTS.industry : type === 'multipicklist' ? TAGS : undefined;
  return field(sp.name, type, {
    label: sp.label,
    custom: true,
    ...(numeric ? { precision: 18, scale: type === 'double' ? 4 : 2 } : {}),
    ...(type === 'int' ? { digits: 9 } : type === 'long' ? { digits: 18 } : {}),
    ...(type === 'textarea' ? { length: 32768 } : type === 'string' ? { length: 120 } : {}),
    ...(picklist ? { picklistValues: [...picklist] } : {}),
  });
}

const JSON_SOURCES = ['Clearbit', 'ZoomInfo', 'D&B', 'Internal "CRM" import'];
const JSON_NUMBERS = ['1.2345678E7', '0.1', '-42', '6.02E23', '1234567.0', '9007199254740993'];

/** The json field's text: nested objects and arrays, exponent numbers, escaped strings; sometimes a bare array. */
function enrichmentJson(slot: number, ctx: SeedContext): string | null {
  const h = mix(slot, 4001, ctx.seed);
  if (h % 10 < 3) return null;
  const g = mix(slot, 4002, ctx.seed);
  if (g % 13 === 0) return `[${g % 7},${JSON.stringify(pick(TAGS, g))},null,true]`;
  const note = JSON.stringify(hardOr(slot, 5, 2, `Enriched ${slot}`));
  const tags = TAGS.filter((_, k) => ((g >>> k) & 3) === 1).map((t) => JSON.stringify(t));
  const hq =
    g % 4 === 0
      ? 'null'
      : `{"city":${JSON.stringify(pick(WORDS, g >>> 5))},` +
        `"lat":${pick(LATITUDES, g >>> 7)},"lng":${pick(LONGITUDES, g >>> 9)}}`;
  return (
    `{"source":${JSON.stringify(pick(JSON_SOURCES, h >>> 4))},"score":${h % 101},"revenue":${pick(JSON_NUMBERS, g)},` +
    `"active":${(g & 1) === 1},"tags":[${tags.join(',')}],"hq":${hq},"note":${note}}`
  );
}

function accountFields(): FieldDef[] {
  return [
    field(ENTERPRISE.longField, 'string', { label: 'Some Very Long Field Name Forty Chars', custom: true }),
    field(ENTERPRISE.jsonField, 'json', {
      label: 'Enrichment Profile',
      custom: true,
      filterable: false,
      sortable: false,
    }),
    ...location(`${LONG_NAMESPACE}__Primary_Headquarters_Geolocation_Coords`, 'Primary Headquarters Geolocation'),
    ...SPECS.map(specField),
  ];
}

type Row = Record<string, FieldValue> & { Id: string };

/**
 * A function that writes one record as a single object literal: the base record's fields, then `names` from an
 * array. Adding 600 properties one by one to an object cost five times as much (each add changes its shape); the
 * literal gives every record the same shape. Names are JSON-quoted, values only read by index.
 */
function recordBuilder(baseKeys: readonly string[], names: readonly string[]): (b: Row, v: FieldValue[]) => Row {
  const entries = [
    ...baseKeys.map((k) => `${JSON.stringify(k)}: b[${JSON.stringify(k)}]`),
    ...names.map((n, i) => `${JSON.stringify(n)}: v[${i}]`),
  ];
  return new Function('b', 'v', `return {${entries.join(',\n')}};`) as (b: Row, v: FieldValue[]) => Row;
}

function enterpriseAccount(base: Generator, ctx: SeedContext): Generator {
  const specs = SPECS;
  // Dates in the pools are relative to the org clock's anchor, so they are built per org.
  const pools = specs.map((sp) =>
    Array.from({ length: POOL_SIZE }, (_, k) => poolValue(sp.type, sp.salt, k, ctx.anchorMs)),
  );
  const named = [
    ENTERPRISE.longField,
    ENTERPRISE.jsonField,
    ENTERPRISE.geolocationLatitude,
    ENTERPRISE.geolocationLongitude,
  ];
  const names = [...named, ...specs.map((sp) => sp.name)];
  let build: ((b: Row, v: FieldValue[]) => Row) | undefined;
  return {
    ...base,
    record(slot) {
      const b = base.record(slot);
      build ??= recordBuilder(Object.keys(b), names);
      const v: FieldValue[] = new Array(names.length);
      const k = mix(slot, 4003, ctx.seed);
      const noGeo = k % 4 === 1;
      v[0] = k % 5 === 0 ? null : hardOr(slot, 29, 7, `Long-named value ${slot}`);
      v[1] = enrichmentJson(slot, ctx);
      v[2] = noGeo ? null : pick(LATITUDES, k >>> 3);
      v[3] = noGeo ? null : pick(LONGITUDES, k >>> 6);
      for (let i = 0; i < specs.length; i++) {
        const sp = specs[i] as Spec;
        const h = mix(slot, sp.salt, ctx.seed);
        v[i + 4] =
          sp.type === 'boolean'
            ? (h & 8) === 8
            : h % 10 < sp.nullTenths
              ? null
              : ((pools[i] as FieldValue[])[(h >>> 4) % POOL_SIZE] ?? null);
      }
      return build(b, v);
    },
  };
}

// --- Archived activities -------------------------------------------------------------------------------------------

/**
 * Archived activities: the SOAP API queryAll() page (followed for archived Task/Event visibility,
 * https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_calls_queryall.htm) says query() filters
 * out every record with isArchived = true and queryAll() returns them, and that the archival background process takes
 * activities past their due date by more than a year; so archived rows here are closed and dated over 365 days ago.
 * The REST QueryAll and Bulk API 2.0 queryAll pages say the same of their operation (types.ts queryAllOnly).
 */
function enterpriseTask(base: Generator, ctx: SeedContext): Generator {
  const archived = (slot: number) => !base.isDeleted(slot) && mix(slot, 26, ctx.seed) % 5 === 0;
  return {
    ...base,
    isArchived: archived,
    record(slot) {
      const rec = base.record(slot);
      rec.IsArchived = archived(slot);
      if (rec.IsArchived) {
        rec.Status = 'Completed';
        rec.IsClosed = true;
        rec.ActivityDate = dayText(Math.floor(ctx.anchorMs / DAY_MS) - 366 - (mix(slot, 28, ctx.seed) % 900));
      }
      return rec;
    },
  };
}

function events(ctx: SeedContext): Generator {
  const salt = 21;
  const archived = (slot: number) => !deleted(ctx, slot, salt) && mix(slot, 27, ctx.seed) % 4 === 0;
  return {
    count: ctx.counts.Event ?? 0,
    isDeleted: (slot) => deleted(ctx, slot, salt),
    isArchived: archived,
    cursorFields: AUDIT_FIELDS,
    cursorMs: auditCursor(ctx, 'Event', salt),
    record(slot) {
      const h = mix(slot, salt, ctx.seed);
      const g = mix(slot, salt + 50, ctx.seed);
      const old = archived(slot);
      const dayOffset = old ? -366 - (g % 900) : (g % 360) - 300;
      const start = Math.floor(ctx.anchorMs / DAY_MS + dayOffset) * DAY_MS + (8 + (h % 10)) * 3_600_000;
      const allDay = g % 11 === 0;
      const minutes = allDay ? 1440 : pick([30, 45, 60, 90, 120], h >>> 3);
      return {
        Id: makeId('00U', slot),
        IsDeleted: deleted(ctx, slot, salt),
        ...audit(ctx, 'Event', slot, salt),
        WhatId:
          g % 9 === 0
            ? null
            : slot % 3 === 2
              ? refTo(ctx, 'Event', 'Opportunity', '006', slot)
              : refTo(ctx, 'Event', 'Account', '001', slot),
        WhoId: g % 6 === 0 ? null : refTo(ctx, 'Event', 'Contact', '003', slot),
        Subject: hardOr(slot, 13, 3, pick(EVENT_SUBJECTS, h >>> 6)),
        Location: g % 3 === 0 ? null : pick(WORDS, h >>> 9),
        IsAllDayEvent: allDay,
        ActivityDateTime: allDay ? null : isoOf(start),
        ActivityDate: dayText(Math.floor(start / DAY_MS)),
        DurationInMinutes: String(minutes),
        StartDateTime: isoOf(start),
        EndDateTime: isoOf(start + minutes * 60_000),
        Description: g % 4 === 1 ? hardOr(slot, 4, 2, 'Quarterly business review') : null,
        OwnerId: pick(ctx.userIds, h >>> 12),
        IsArchived: old,
      };
    },
  };
}

// --- AccountShare, TaskStatus, the renewal object and its History --------------------------------------------------

/**
 * Share rows grouped by Account so each Account's rows are one slot range: every third Account (0, 3, 6, ...) has an
 * Owner row and a Manual row, the others an Owner row alone. Groups of 3 Accounts take 4 slots.
 */
function shareCount(accounts: number): number {
  return Math.floor(accounts / 3) * 4 + [0, 2, 3][accounts % 3]!;
}

function shareSlot(slot: number): { account: number; manual: boolean } {
  const group = Math.floor(slot / 4);
  const r = slot % 4;
  return { account: group * 3 + (r <= 1 ? 0 : r - 1), manual: r === 1 };
}

function shareRange(account: number, count: number): [number, number] {
  const r = account % 3;
  const start = Math.floor(account / 3) * 4 + (r === 0 ? 0 : r + 1);
  return [Math.min(start, count), Math.min(start + (r === 0 ? 2 : 1), count)];
}

function accountShares(ctx: SeedContext): Generator {
  const salt = 22;
  return {
    count: ctx.counts.AccountShare ?? 0,
    isDeleted: () => false,
    cursorFields: ['LastModifiedDate'],
    cursorMs: (slot) => auditMs(ctx, 'AccountShare', slot, salt).mod,
    record(slot) {
      const { account, manual } = shareSlot(slot);
      const a = auditMs(ctx, 'AccountShare', slot, salt);
      return {
        Id: makeId('00r', slot),
        AccountId: makeId('001', account),
        UserOrGroupId: manual ? pick(ctx.userIds, a.h >>> 4) : accountOwner(ctx, account),
        AccountAccessLevel: manual ? pick(SHARE_ACCESS.slice(0, 2), a.h >>> 7) : 'All',
        OpportunityAccessLevel: manual ? 'Read' : 'Edit',
        CaseAccessLevel: manual ? 'None' : 'Edit',
        ContactAccessLevel: manual ? 'Read' : 'Edit',
        RowCause: manual ? 'Manual' : 'Owner',
        LastModifiedDate: isoOf(a.mod),
        LastModifiedById: pick(ctx.userIds, a.h >>> 5),
        IsDeleted: false,
      };
    },
  };
}

function taskStatuses(ctx: SeedContext): Generator {
  const salt = 23;
  return {
    count: ctx.counts.TaskStatus ?? 0,
    isDeleted: () => false,
    cursorFields: AUDIT_FIELDS,
    cursorMs: auditCursor(ctx, 'TaskStatus', salt),
    record(slot) {
      const label = PICKLISTS.taskStatus[slot % PICKLISTS.taskStatus.length] as string;
      return {
        Id: makeId('01J', slot),
        ...audit(ctx, 'TaskStatus', slot, salt),
        MasterLabel: label,
        ApiName: label,
        SortOrder: String(slot + 1),
        IsDefault: slot === 0,
        IsClosed: label === 'Completed',
      };
    },
  };
}

function renewals(ctx: SeedContext): Generator {
  const salt = 24;
  const name = ENTERPRISE.renewalObject;
  return {
    count: ctx.counts[name] ?? 0,
    isDeleted: (slot) => deleted(ctx, slot, salt),
    cursorFields: AUDIT_FIELDS,
    cursorMs: auditCursor(ctx, name, salt),
    record(slot) {
      const h = mix(slot, salt, ctx.seed);
      return {
        Id: makeId('a02', slot),
        IsDeleted: deleted(ctx, slot, salt),
        ...audit(ctx, name, slot, salt),
        Name: `RSL-${String(slot).padStart(7, '0')}`,
        OwnerId: pick(ctx.userIds, h >>> 3),
        [`${LONG_NAMESPACE}__Account__c`]: h % 17 === 0 ? null : refTo(ctx, name, 'Account', '001', slot),
        [`${LONG_NAMESPACE}__Renewal_Date__c`]: dayText(Math.floor(ctx.anchorMs / DAY_MS) + (h % 700) - 350),
        [`${LONG_NAMESPACE}__Amount__c`]: h % 9 === 0 ? null : `${h % 250_000}.${String(h % 100).padStart(2, '0')}`,
        [`${LONG_NAMESPACE}__Status__c`]: pick(RENEWAL_STATUS, h >>> 8),
      };
    },
  };
}

function renewalHistories(ctx: SeedContext): Generator {
  const salt = 25;
  const name = ENTERPRISE.renewalHistory;
  return {
    count: ctx.counts[name] ?? 0,
    isDeleted: (slot) => deleted(ctx, slot, salt),
    cursorFields: ['CreatedDate'],
    cursorMs: auditCursor(ctx, name, salt),
    record(slot) {
      const h = mix(slot, salt, ctx.seed);
      const a = audit(ctx, name, slot, salt);
      const f = pick(RENEWAL_TRACKED, h >>> 3);
      const created = f === 'created';
      return {
        Id: makeId('a03', slot),
        IsDeleted: deleted(ctx, slot, salt),
        CreatedDate: a.CreatedDate,
        CreatedById: a.CreatedById,
        ParentId: refTo(ctx, name, ENTERPRISE.renewalObject, 'a02', slot) as string,
        Field: f,
        DataType: created ? null : f === 'Owner' ? 'EntityId' : f.endsWith('Amount__c') ? 'Currency' : 'DynamicEnum',
        OldValue: created || h % 4 === 0 ? null : hardOr(slot, 5, 1, `Old ${slot}`),
        NewValue: created ? null : f.endsWith('Status__c') ? pick(RENEWAL_STATUS, h >>> 9) : `New ${slot}`,
      };
    },
  };
}

// --- Schema --------------------------------------------------------------------------------------------------------

const SHARE_LEVEL = ['None', 'Read', 'Edit'];

function accountShareObject(): ObjectDef {
  // Fields per the AccountShare object reference; share rows have LastModifiedDate but neither CreatedDate nor
  // SystemModstamp, and are not replicateable
  // (https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_objects_accountshare.htm).
  return object(
    'AccountShare',
    {
      label: 'Account Share',
      labelPlural: 'Account Share',
      keyPrefix: '00r',
      undeletable: false,
      replicateable: false,
    },
    [
      field('Id', 'id', { ...SYSTEM, label: 'Account Share ID', idLookup: true }),
      ref('AccountId', ['Account'], 'Account', { label: 'Account ID', nillable: false, updateable: false }),
      ref('UserOrGroupId', ['User'], 'UserOrGroup', { label: 'User/Group ID', nillable: false, updateable: false }),
      field('AccountAccessLevel', 'picklist', {
        label: 'Account Access',
        nillable: false,
        defaultedOnCreate: true,
        length: 40,
        picklistValues: SHARE_ACCESS,
      }),
      field('OpportunityAccessLevel', 'picklist', {
        label: 'Opportunity Access',
        nillable: false,
        defaultedOnCreate: true,
        length: 40,
        picklistValues: SHARE_LEVEL,
      }),
      field('CaseAccessLevel', 'picklist', {
        label: 'Case Access',
        nillable: false,
        defaultedOnCreate: true,
        length: 40,
        picklistValues: SHARE_LEVEL,
      }),
      field('ContactAccessLevel', 'picklist', {
        ...READ_ONLY,
        label: 'Contact Access',
        length: 40,
        picklistValues: [...SHARE_LEVEL, 'ControlledByParent'],
      }),
      field('RowCause', 'picklist', { label: 'Row Cause', length: 40, picklistValues: SHARE_CAUSE }),
      field('LastModifiedDate', 'datetime', { ...SYSTEM, label: 'Last Modified Date' }),
      ref('LastModifiedById', ['User'], 'LastModifiedBy', { ...SYSTEM, label: 'Last Modified By ID' }),
      field('IsDeleted', 'boolean', { ...SYSTEM, label: 'Deleted' }),
    ],
  );
}

function taskStatusObject(): ObjectDef {
  // A picklist-value object: no Recycle Bin, so no IsDeleted; Bulk API refuses it (INVALIDENTITY), as it does
  // TaskStatus and the other *Status objects (docs/salesforce.md#bulk-api-20-soql-restrictions).
  return object(
    'TaskStatus',
    {
      label: 'Task Status Value',
      labelPlural: 'Task Status Values',
      keyPrefix: '01J',
      undeletable: false,
      bulkQueryable: false,
    },
    [
      ...systemFields({ isDeleted: false, modstamps: true }),
      field('MasterLabel', 'string', { label: 'Master Label' }),
      field('ApiName', 'string', { label: 'Api Name', nillable: false }),
      field('SortOrder', 'int', { label: 'Sort Order', digits: 9 }),
      field('IsDefault', 'boolean', { label: 'Is Default', defaultedOnCreate: true }),
      field('IsClosed', 'boolean', { label: 'Is Closed', defaultedOnCreate: true }),
    ],
  );
}

function eventObject(): ObjectDef {
  return object('Event', { label: 'Event', labelPlural: 'Events', keyPrefix: '00U' }, [
    ...systemFields({ isDeleted: true, modstamps: true }),
    ref('WhatId', ['Account', 'Opportunity'], 'What', { label: 'Related To ID' }),
    ref('WhoId', ['Contact', 'Lead'], 'Who', { label: 'Name ID' }),
    field('Subject', 'combobox', { picklistValues: EVENT_SUBJECTS }),
    field('Location', 'string'),
    field('IsAllDayEvent', 'boolean', { label: 'All-Day Event', defaultedOnCreate: true }),
    field('ActivityDateTime', 'datetime', { label: 'Due Date Time' }),
    field('ActivityDate', 'date', { label: 'Due Date Only' }),
    field('DurationInMinutes', 'int', { label: 'Duration', digits: 8 }),
    field('StartDateTime', 'datetime', { label: 'Start Date Time' }),
    field('EndDateTime', 'datetime', { label: 'End Date Time' }),
    field('Description', 'textarea', { length: 32000 }),
    OWNER(),
    field('IsArchived', 'boolean', { ...READ_ONLY, label: 'Archived', defaultedOnCreate: true }),
  ]);
}

function renewalObject(): ObjectDef {
  const ns = `${LONG_NAMESPACE}__`;
  return object(
    ENTERPRISE.renewalObject,
    {
      label: 'Subscription Renewal Schedule Line Item',
      labelPlural: 'Subscription Renewal Schedule Line Items',
      keyPrefix: 'a02',
      children: [child(ENTERPRISE.renewalHistory, 'ParentId', 'Histories', true)],
    },
    [
      ...systemFields({ isDeleted: true, modstamps: true }),
      field('Name', 'string', { label: 'Line Item Number', nillable: false, length: 80, nameField: true }),
      OWNER(),
      ref(`${ns}Account__c`, ['Account'], `${ns}Account__r`, { label: 'Account' }),
      field(`${ns}Renewal_Date__c`, 'date', { label: 'Renewal Date' }),
      field(`${ns}Amount__c`, 'currency', { label: 'Amount', precision: 18, scale: 2 }),
      field(`${ns}Status__c`, 'picklist', { label: 'Status', picklistValues: RENEWAL_STATUS }),
    ],
  );
}

function renewalHistoryObject(): ObjectDef {
  // A History object: no LastModifiedDate / SystemModstamp (docs/salesforce.md#objects-without-system-fields).
  return object(
    ENTERPRISE.renewalHistory,
    {
      label: 'Subscription Renewal Schedule Line Item History',
      labelPlural: 'Subscription Renewal Schedule Line Item History',
      keyPrefix: 'a03',
    },
    [
      ...systemFields({ isDeleted: true, modstamps: false }),
      ref('ParentId', [ENTERPRISE.renewalObject], 'Parent', { ...READ_ONLY, label: 'Parent ID', nillable: false }),
      field('Field', 'picklist', {
        ...READ_ONLY,
        label: 'Changed Field',
        nillable: false,
        picklistValues: RENEWAL_TRACKED,
      }),
      field('DataType', 'picklist', {
        ...READ_ONLY,
        label: 'Data Type',
        picklistValues: ['Currency', 'DynamicEnum', 'EntityId', 'Text'],
      }),
      field('OldValue', 'anyType', { ...READ_ONLY, label: 'Old Value' }),
      field('NewValue', 'anyType', { ...READ_ONLY, label: 'New Value' }),
    ],
  );
}

/** The demo schema with the enterprise objects and fields (a fresh copy: each store mutates its own). */
export function enterpriseSchema(demo: ObjectDef[]): ObjectDef[] {
  const out = demo.map((def) => {
    if (def.name === 'Account')
      return {
        ...def,
        fields: [...def.fields, ...accountFields()],
        childRelationships: [
          ...def.childRelationships,
          child('Event', 'WhatId', 'Events', true),
          child('AccountShare', 'AccountId', 'Shares', true),
          child(ENTERPRISE.renewalObject, `${LONG_NAMESPACE}__Account__c`, `${LONG_NAMESPACE}__Renewals__r`),
        ],
      };
    if (def.name === 'Task') {
      const at = def.fields.findIndex((f) => f.name === 'IsClosed') + 1;
      const archived = field('IsArchived', 'boolean', { ...READ_ONLY, label: 'Archived', defaultedOnCreate: true });
      return { ...def, fields: [...def.fields.slice(0, at), archived, ...def.fields.slice(at)] };
    }
    return def;
  });
  return [...out, eventObject(), accountShareObject(), taskStatusObject(), renewalObject(), renewalHistoryObject()];
}

export const enterpriseSeed: SeedExtension = {
  counts(demo) {
    const a = demo.Account ?? 0;
    return {
      Event: Math.floor(a * 0.5),
      AccountShare: shareCount(a),
      TaskStatus: PICKLISTS.taskStatus.length,
      [ENTERPRISE.renewalObject]: Math.floor(a * 0.5),
      [ENTERPRISE.renewalHistory]: Math.floor(a * 0.5),
    };
  },
  generators(ctx, base) {
    const out = new Map<string, Generator>([
      ['Event', events(ctx)],
      ['AccountShare', accountShares(ctx)],
      ['TaskStatus', taskStatuses(ctx)],
      [ENTERPRISE.renewalObject, renewals(ctx)],
      [ENTERPRISE.renewalHistory, renewalHistories(ctx)],
    ]);
    const account = base.get('Account');
    const task = base.get('Task');
    if (account) out.set('Account', enterpriseAccount(account, ctx));
    if (task) out.set('Task', enterpriseTask(task, ctx));
    return out;
  },
  links(counts) {
    const share: GeneratedLink = {
      child: 'AccountShare',
      field: 'AccountId',
      parent: 'Account',
      candidates: (p) => shareRange(p, counts.AccountShare ?? 0),
    };
    return [
      share,
      evenLink(counts, 'Event', 'WhatId', 'Account'),
      evenLink(counts, 'Event', 'WhatId', 'Opportunity'),
      evenLink(counts, 'Event', 'WhoId', 'Contact'),
      evenLink(counts, ENTERPRISE.renewalObject, `${LONG_NAMESPACE}__Account__c`, 'Account'),
      evenLink(counts, ENTERPRISE.renewalHistory, 'ParentId', ENTERPRISE.renewalObject),
    ];
  },
};
