// Deterministic synthetic org data, generated lazily from (object, slot, seed): untouched records cost no memory.
// Per-record work is integer hashing and picks from precomputed pools (no Date parsing, no regexes) so a Bulk CSV of a
// million Accounts streams fast. Values deliberately include the hard cases of
// docs/salesforce.md#bulk-api-20-csv-format (quotes, commas, CR/LF, unicode, padded text, NULL look-alikes, far dates,
// exponent doubles) and SystemModstamp ties (cursors: docs/salesforce.md#incremental-cursor-windows).
import { makeId } from './ids.ts';
import { SEED_RECORD_TYPES } from './recordTypes.ts';
import { PICKLISTS } from './schema.ts';
import type { FieldValue } from './types.ts';
import { dayText, isoOf, timeOf } from './values.ts';

export interface SeedOptions {
  seed?: number;
  accounts?: number;
  contactsPerAccount?: number;
  opportunitiesPerAccount?: number;
  leadsPerAccount?: number;
  tasksPerAccount?: number;
  invoicesPerAccount?: number;
  historiesPerAccount?: number;
  users?: number;
  /** One in `deletedEvery` records of objects with a Recycle Bin starts soft-deleted. */
  deletedEvery?: number;
}

/** Generated records of one object. `record` builds a fresh object per call (nothing is cached). */
export interface Generator {
  readonly count: number;
  record(slot: number): Record<string, FieldValue> & { Id: string };
  /** Cheap IsDeleted of the generated record, without building it. */
  isDeleted(slot: number): boolean;
  /** Cheap IsArchived (archived Tasks/Events, seen by queryAll only); absent = never archived. */
  isArchived?(slot: number): boolean;
  /** The audit datetimes `cursorMs` computes without building the record (cursor indexes, store.ts). */
  readonly cursorFields: readonly CursorField[];
  /** Epoch ms of record(slot)[field] for a field in cursorFields: the same instant, from the same hash. */
  cursorMs(slot: number, field: CursorField): number;
}

export type CursorField = 'SystemModstamp' | 'LastModifiedDate' | 'CreatedDate';
export const AUDIT_FIELDS: readonly CursorField[] = ['SystemModstamp', 'LastModifiedDate', 'CreatedDate'];

/** A generated reference: which child slots may point at parent slot p (the store verifies each candidate). */
export interface GeneratedLink {
  child: string;
  field: string;
  parent: string;
  candidates(parentSlot: number): [from: number, to: number];
}

export interface GeneratedOrg {
  generators: Map<string, Generator>;
  links: GeneratedLink[];
}

export const DAY_MS = 86_400_000;
/**
 * Generated activity spans the ~3 years before the anchor (docs/salesforce.md#incremental-cursor-windows: cursors walk
 * it).
 */
const SPAN_MS = 3 * 365 * DAY_MS;

/** 32-bit integer mix: the same (slot, salt, seed) always gives the same number. */
export function mix(slot: number, salt: number, seed: number): number {
  let h =
    (Math.imul(slot, 0x9e3779b1) ^
      Math.imul(salt + 0x632be5ab, 0x85ebca6b) ^
      Math.imul(seed + 0x27d4eb2f, 0xc2b2ae35)) >>>
    0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

export function pick<T>(pool: readonly T[], h: number): T {
  return pool[h % pool.length] as T;
}

/**
 * Text that breaks naive CSV / JSON / NULL handling (docs/salesforce.md#bulk-api-20-csv-format). Never empty:
 * Salesforce stores no empty strings.
 */
export const HARD_TEXT: readonly string[] = [
  'Crème Brûlée Société Générale',
  'Ærøskøbing Ångström Straße',
  '北京贸易有限公司',
  '株式会社 東京 漢字',
  'Rocket 🚀 Labs 👩‍💻',
  'First line\nSecond line',
  'Windows line\r\nSecond line',
  'She said "hello"',
  '"Quoted at both ends"',
  'Smith, Jones, and Partners',
  '  leading and trailing spaces  ',
  'null',
  'NULL',
  'NA',
  'N/A',
  '#N/A',
  'NaN',
  'true',
  'FALSE',
  '12345',
  '00123',
  '1.5E10',
  '-0',
  'back\\slash \\n not a newline',
  "O'Brien & Sons",
  'tab\tseparated',
  'pipe|semi;caret^back`quote',
  '=SUM(A1:A2)',
  '"',
  ',',
];
// Within the 32,000 characters of the long text areas that hold it (UTF-16 units: the emoji counts twice).
const LONG_TEXT = `${'Lorem ipsum dolor sit amet, "quoted", commas, ünïcödé 漢字 🚀\n'.repeat(530)}end`;
const COMPANY = [
  'Acme',
  'Globex',
  'Initech',
  'Umbrella',
  'Stark',
  'Wayne',
  'Tyrell',
  'Cyberdyne',
  'Soylent',
  'Hooli',
  'Vandelay',
  'Wonka',
  'Oscorp',
  'Nakatomi',
];
const SUFFIX = ['Inc.', 'LLC', 'Ltd', 'GmbH', 'S.A.', 'Corp', 'Group', 'Holdings', 'AG', 'K.K.'];
const FIRST = [
  'Ana',
  'Björn',
  'Chloé',
  'Dmitri',
  'Émile',
  'Fatima',
  'Gustav',
  'Hana',
  'Ivan',
  'José',
  'Kai',
  'Léa',
  '美咲',
  'Zoë',
  'Oluwaseun',
  'Siobhán',
];
const LAST = [
  'Smith',
  'García',
  'Müller',
  'Dubois',
  'Rossi',
  'Nováková',
  'Øster',
  "O'Neil",
  '山田',
  'Nguyen',
  'Kowalski',
  'van der Berg',
];
const TITLES = ['CEO', 'CFO', 'VP Sales', 'Buyer', 'Engineer', 'Director, "Special" Projects'];
const STREETS = [
  '1 Market St',
  '42 Rue de Rivoli',
  'Hauptstraße 5',
  '1-2-3 Shibuya',
  '10 Downing St\nFlat 2',
  'Apt 5, 77 Broadway\r\nRear entrance',
];
const CITIES = ['San Francisco', 'München', 'São Paulo', 'Zürich', '東京', 'New York', 'Kraków', 'Reykjavík', 'Paris'];
const STATES = ['CA', 'NY', 'Bayern', 'ZH', 'Tōkyō', 'TX'];
const COUNTRIES = ['USA', 'Germany', 'Switzerland', 'Japan', 'France', 'Brasil'];
const POSTAL = ['94105', '10001', '80331', '8001', '150-0002', '75001', '01310-100'];
export const LATITUDES = [
  '37.793880000000000',
  '48.137154000000000',
  '35.658034000000000',
  '-33.868820000000000',
  '-23.550520000000000',
  '64.146582000000000',
];
export const LONGITUDES = [
  '-122.395050000000000',
  '11.576124000000000',
  '139.701636000000000',
  '151.209290000000000',
  '-46.633308000000000',
  '-21.942635000000000',
];
const REVENUE = ['1000000', '250000', '0', '98765432109876', '5000000000', '120000', '7'];
const AMOUNTS = [
  '12500.00',
  '0.01',
  '-250.75',
  '1234567.89',
  '9999999999999999.99',
  '-9999999999999999.99',
  '0',
  '99.5',
  '100000',
];
const DOUBLES = [
  '1.2345678E7',
  '3.141592653589793',
  '-2.5E-4',
  '0.1',
  '-123456.789012',
  // Exponent form within Score__c's 12 integer digits (precision 18, scale 6): Salesforce refuses more.
  '6.02E11',
  '42.0',
  '1234567.0',
  '-0.000001',
];
const LONGS = ['9007199254740993', '-9223372036854775808', '9223372036854775807', '0', '-1', '123456789012345678'];
const PERCENTS = ['10', '33.33', '0', '100', '-5.5', '12.25', '99.99'];
const EXTREME_DATES = ['1700-01-01', '4000-12-31', '1900-02-28', '2000-02-29', '1969-12-31', '9999-12-31'];
const EXTREME_DATETIMES = [
  '1700-01-01T00:00:00.000Z',
  '4000-12-31T23:59:59.999Z',
  '1970-01-01T00:00:00.000Z',
  '2038-01-19T03:14:08.000Z',
];
const TIMES = ['00:00:00.000Z', '23:59:59.999Z', '12:00:00.000Z', '13:45:30.125Z'];
const ACCURACY = ['Address', 'Street', 'City', 'Zip'];
const BASE64 = ['SGVsbG8sIFdvcmxkIQ==', 'JVBERi0xLjQKJcfsj6IK', 'iVBORw0KGgo='];

/** Hard text for roughly one record in `every`, cycling through all cases so small orgs still contain each one. */
export function hardOr(slot: number, every: number, offset: number, normal: string): string {
  if (slot % every !== offset % every) return normal;
  return HARD_TEXT[(Math.floor(slot / every) + offset) % HARD_TEXT.length] as string;
}

/** What every generator of one org shares: the seed, record counts per object, the clock anchor, the users. */
export interface SeedContext {
  seed: number;
  counts: Record<string, number>;
  anchorMs: number;
  deletedEvery: number;
  userIds: string[];
}
type Ctx = SeedContext;

/**
 * Timestamps of buckets for the cursor fields (docs/salesforce.md#incremental-cursor-windows), about two records per
 * bucket so SystemModstamp ties are common (epoch ms).
 */
export function auditMs(
  ctx: Ctx,
  object: string,
  slot: number,
  salt: number,
): { h: number; created: number; lastMod: number; mod: number } {
  const count = ctx.counts[object] ?? 1;
  const buckets = Math.max(1, Math.ceil(count / 2));
  const h = mix(slot, salt, ctx.seed);
  const bucket = h % buckets;
  const step = Math.floor(SPAN_MS / buckets);
  // Whole seconds mostly; every 7th bucket carries millis so parsers keep them.
  const millis = bucket % 7 === 3 ? (bucket * 37) % 1000 : 0;
  const mod = ctx.anchorMs - SPAN_MS + bucket * step - ((bucket * step) % 1000) + millis;
  const created = mod - (h % 400) * DAY_MS - (h % 86_400) * 1000;
  const lastMod = h % 10 === 0 ? mod - (h % 3600) * 1000 : mod;
  return { h, created, lastMod, mod };
}

export function audit(ctx: Ctx, object: string, slot: number, salt: number) {
  const a = auditMs(ctx, object, slot, salt);
  return {
    CreatedDate: isoOf(a.created),
    CreatedById: pick(ctx.userIds, a.h >>> 3),
    LastModifiedDate: isoOf(a.lastMod),
    LastModifiedById: pick(ctx.userIds, a.h >>> 5),
    SystemModstamp: isoOf(a.mod),
  };
}

/** cursorMs of a generator whose audit fields come from audit(ctx, object, slot, salt). */
export function auditCursor(ctx: Ctx, object: string, salt: number): (slot: number, field: CursorField) => number {
  return (slot, field) => {
    const a = auditMs(ctx, object, slot, salt);
    return field === 'SystemModstamp' ? a.mod : field === 'LastModifiedDate' ? a.lastMod : a.created;
  };
}

function parentSlot(slot: number, childCount: number, parentCount: number): number {
  return Math.floor((slot * parentCount) / childCount);
}

export function childRange(p: number, childCount: number, parentCount: number): [number, number] {
  return [
    Math.ceil((p * childCount) / parentCount),
    Math.min(childCount, Math.ceil(((p + 1) * childCount) / parentCount)),
  ];
}

export function refTo(ctx: Ctx, child: string, parent: string, prefix: string, slot: number): string | null {
  const pc = ctx.counts[parent] ?? 0;
  if (pc === 0) return null;
  return makeId(prefix, parentSlot(slot, ctx.counts[child] ?? 1, pc));
}

export function deleted(ctx: Ctx, slot: number, salt: number): boolean {
  return mix(slot, salt + 1000, ctx.seed) % ctx.deletedEvery === 0;
}

export function relDate(ctx: Ctx, h: number, spanDays: number, offsetDays: number): string {
  return dayText(Math.floor(ctx.anchorMs / DAY_MS) + offsetDays + (h % spanDays));
}

function users(ctx: Ctx): Generator {
  const salt = 1;
  return {
    count: ctx.counts.User ?? 0,
    isDeleted: () => false,
    cursorFields: AUDIT_FIELDS,
    cursorMs: auditCursor(ctx, 'User', salt),
    record(slot) {
      const h = mix(slot, salt, ctx.seed);
      const first = pick(FIRST, h);
      const last = pick(LAST, h >>> 4);
      const a = audit(ctx, 'User', slot, salt);
      return {
        Id: ctx.userIds[slot] as string,
        CreatedDate: a.CreatedDate,
        CreatedById: ctx.userIds[0] as string,
        LastModifiedDate: a.LastModifiedDate,
        LastModifiedById: ctx.userIds[0] as string,
        SystemModstamp: a.SystemModstamp,
        Username: `user${slot}@sfsync-emulator.example`,
        LastName: last,
        FirstName: first,
        Name: `${first} ${last}`,
        Alias: `usr${slot}`.slice(0, 8),
        Email: `user${slot}@example.com`,
        IsActive: slot % 5 !== 4,
        TimeZoneSidKey: pick(PICKLISTS.timeZone, h >>> 7),
        ManagerId: slot === 0 ? null : (ctx.userIds[0] as string),
      };
    },
  };
}

/** Account slot's OwnerId (its share rows name the same user). */
export function accountOwner(ctx: Ctx, slot: number): string {
  return pick(ctx.userIds, mix(slot, 2, ctx.seed) >>> 27);
}

function accounts(ctx: Ctx): Generator {
  const salt = 2;
  const prefix = '001';
  return {
    count: ctx.counts.Account ?? 0,
    isDeleted: (slot) => deleted(ctx, slot, salt),
    cursorFields: AUDIT_FIELDS,
    cursorMs: auditCursor(ctx, 'Account', salt),
    record(slot) {
      const h = mix(slot, salt, ctx.seed);
      const g = mix(slot, salt + 50, ctx.seed);
      const noAddress = g % 9 === 0;
      return {
        Id: makeId(prefix, slot),
        IsDeleted: deleted(ctx, slot, salt),
        ...audit(ctx, 'Account', slot, salt),
        Name: hardOr(slot, 11, 3, `${pick(COMPANY, h)} ${pick(SUFFIX, h >>> 4)} ${slot}`),
        AccountNumber: g % 5 === 0 ? null : hardOr(slot, 17, 5, `AC-${slot}`),
        Type: g % 8 === 1 ? null : pick(PICKLISTS.accountType, h >>> 8),
        Industry: g % 6 === 2 ? null : pick(PICKLISTS.industry, h >>> 11),
        Rating: g % 3 === 0 ? null : pick(PICKLISTS.rating, h >>> 13),
        AnnualRevenue: g % 7 === 1 ? null : pick(REVENUE, h >>> 15),
        NumberOfEmployees: g % 10 === 3 ? null : String(h % 250_000),
        Description:
          slot % 997 === 7
            ? LONG_TEXT
            : g % 4 === 0
              ? null
              : hardOr(
                  slot,
                  5,
                  1,
                  `Account ${slot}: ${pick(COMPANY, g)} account,\nserved from ${pick(CITIES, g >>> 5)}.`,
                ),
        BillingStreet: noAddress ? null : pick(STREETS, h >>> 17),
        BillingCity: noAddress ? null : pick(CITIES, h >>> 19),
        BillingState: noAddress ? null : pick(STATES, h >>> 21),
        BillingPostalCode: noAddress ? null : pick(POSTAL, h >>> 23),
        BillingCountry: noAddress ? null : pick(COUNTRIES, h >>> 25),
        BillingLatitude: noAddress || g % 3 === 1 ? null : pick(LATITUDES, g >>> 7),
        BillingLongitude: noAddress || g % 3 === 1 ? null : pick(LONGITUDES, g >>> 9),
        BillingGeocodeAccuracy: noAddress || g % 3 === 1 ? null : pick(ACCURACY, g >>> 11),
        Phone: g % 6 === 5 ? null : `+1 (415) 555-${String(slot % 10_000).padStart(4, '0')}`,
        Website: g % 5 === 4 ? null : `https://www.example.com/accounts/${slot}?ref=a&b=c`,
        ParentId: slot % 10 === 9 ? makeId(prefix, slot - 9) : null,
        OwnerId: accountOwner(ctx, slot),
        LastActivityDate: g % 2 === 0 ? null : relDate(ctx, g, 700, -700),
        // Unique per record; three in four generated Accounts carry one (upsert tests pick other values).
        External_Id__c: slot % 4 === 0 ? null : `SEED-${slot}`,
      };
    },
  };
}

function contacts(ctx: Ctx): Generator {
  const salt = 3;
  return {
    count: ctx.counts.Contact ?? 0,
    isDeleted: (slot) => deleted(ctx, slot, salt),
    cursorFields: AUDIT_FIELDS,
    cursorMs: auditCursor(ctx, 'Contact', salt),
    record(slot) {
      const h = mix(slot, salt, ctx.seed);
      const g = mix(slot, salt + 50, ctx.seed);
      const first = g % 13 === 0 ? null : pick(FIRST, h);
      const last = hardOr(slot, 23, 4, pick(LAST, h >>> 5));
      const noAddress = g % 4 === 0;
      return {
        Id: makeId('003', slot),
        IsDeleted: deleted(ctx, slot, salt),
        ...audit(ctx, 'Contact', slot, salt),
        AccountId: g % 29 === 0 ? null : refTo(ctx, 'Contact', 'Account', '001', slot),
        Salutation: g % 3 === 0 ? null : pick(PICKLISTS.salutation, h >>> 9),
        FirstName: first,
        LastName: last,
        Name: first === null ? last : `${first} ${last}`,
        Title: g % 5 === 0 ? null : pick(TITLES, h >>> 12),
        Email: g % 7 === 0 ? null : `contact${slot}@example.org`,
        Phone: g % 6 === 0 ? null : `+44 20 7946 ${String(slot % 10_000).padStart(4, '0')}`,
        Birthdate:
          g % 5 === 1 ? null : slot % 101 === 13 ? pick(EXTREME_DATES, slot) : relDate(ctx, h, 20_000, -25_000),
        HasOptedOutOfEmail: (h & 16) === 16,
        MailingStreet: noAddress ? null : pick(STREETS, h >>> 14),
        MailingCity: noAddress ? null : pick(CITIES, h >>> 16),
        MailingState: noAddress ? null : pick(STATES, h >>> 18),
        MailingPostalCode: noAddress ? null : pick(POSTAL, h >>> 20),
        MailingCountry: noAddress ? null : pick(COUNTRIES, h >>> 22),
        MailingLatitude: noAddress ? null : pick(LATITUDES, g >>> 7),
        MailingLongitude: noAddress ? null : pick(LONGITUDES, g >>> 9),
        MailingGeocodeAccuracy: noAddress ? null : 'Address',
        Description: g % 3 === 2 ? hardOr(slot, 7, 2, `Met at conference ${slot % 40}`) : null,
        OwnerId: pick(ctx.userIds, h >>> 26),
      };
    },
  };
}

/**
 * The record types, set up by the first user before any generated record was created: a day apart, ending 500 days
 * before the ~3 years of generated activity (audit dates reach up to 400 days further back).
 */
function recordTypes(ctx: Ctx): Generator {
  const count = ctx.counts.RecordType ?? 0;
  const ms = (slot: number) => ctx.anchorMs - SPAN_MS - (500 + count - slot) * DAY_MS;
  return {
    count,
    isDeleted: () => false,
    cursorFields: AUDIT_FIELDS,
    cursorMs: (slot) => ms(slot),
    record(slot) {
      const rt = SEED_RECORD_TYPES[slot % SEED_RECORD_TYPES.length] as (typeof SEED_RECORD_TYPES)[number];
      const at = isoOf(ms(slot));
      const admin = ctx.userIds[0] as string;
      return {
        Id: makeId('012', slot),
        Name: rt.name,
        DeveloperName: rt.developerName,
        NamespacePrefix: null,
        Description: rt.description,
        // Opportunity and Lead record types name their sales / lead process (BusinessProcess, prefix 019).
        BusinessProcessId: makeId('019', 0),
        SobjectType: rt.sobjectType,
        IsActive: true,
        CreatedDate: at,
        CreatedById: admin,
        LastModifiedDate: at,
        LastModifiedById: admin,
        SystemModstamp: at,
      };
    },
  };
}

/** Ids of the seeded record types of `object` (RecordType slots). */
function recordTypeIdsOf(ctx: Ctx, object: string): string[] {
  const count = ctx.counts.RecordType ?? 0;
  return SEED_RECORD_TYPES.flatMap((rt, slot) =>
    rt.sobjectType === object && slot < count ? [makeId('012', slot)] : [],
  );
}

function opportunities(ctx: Ctx): Generator {
  const salt = 4;
  const closed = new Set(['Closed Won', 'Closed Lost']);
  const types = recordTypeIdsOf(ctx, 'Opportunity');
  return {
    count: ctx.counts.Opportunity ?? 0,
    isDeleted: (slot) => deleted(ctx, slot, salt),
    cursorFields: AUDIT_FIELDS,
    cursorMs: auditCursor(ctx, 'Opportunity', salt),
    record(slot) {
      const h = mix(slot, salt, ctx.seed);
      const g = mix(slot, salt + 50, ctx.seed);
      const stage = pick(PICKLISTS.stage, h >>> 3);
      return {
        Id: makeId('006', slot),
        IsDeleted: deleted(ctx, slot, salt),
        ...audit(ctx, 'Opportunity', slot, salt),
        AccountId: g % 31 === 0 ? null : refTo(ctx, 'Opportunity', 'Account', '001', slot),
        // A hash of its own, so that the other fields stay what they were before record types existed.
        RecordTypeId: types.length === 0 ? null : pick(types, mix(slot, salt + 70, ctx.seed)),
        Name: hardOr(slot, 19, 6, `${pick(COMPANY, h)} renewal ${slot}`),
        StageName: stage,
        Amount: g % 9 === 0 ? null : pick(AMOUNTS, h >>> 7),
        Probability: g % 11 === 0 ? null : pick(PERCENTS, h >>> 10),
        CloseDate: slot % 89 === 11 ? pick(EXTREME_DATES, slot) : relDate(ctx, h, 1400, -1000),
        Type: g % 4 === 0 ? null : pick(['Existing Business', 'New Business'], h >>> 13),
        LeadSource: g % 5 === 0 ? null : pick(PICKLISTS.leadSource, h >>> 15),
        IsClosed: closed.has(stage),
        IsWon: stage === 'Closed Won',
        Description: g % 3 === 0 ? hardOr(slot, 3, 0, 'Renewal') : null,
        OwnerId: pick(ctx.userIds, h >>> 20),
      };
    },
  };
}

function leads(ctx: Ctx): Generator {
  const salt = 5;
  return {
    count: ctx.counts.Lead ?? 0,
    isDeleted: (slot) => deleted(ctx, slot, salt),
    cursorFields: AUDIT_FIELDS,
    cursorMs: auditCursor(ctx, 'Lead', salt),
    record(slot) {
      const h = mix(slot, salt, ctx.seed);
      const g = mix(slot, salt + 50, ctx.seed);
      const first = g % 9 === 0 ? null : pick(FIRST, h);
      const last = pick(LAST, h >>> 4);
      const status = pick(PICKLISTS.leadStatus, h >>> 8);
      const converted = status === 'Closed - Converted';
      const noAddress = g % 3 === 0;
      return {
        Id: makeId('00Q', slot),
        IsDeleted: deleted(ctx, slot, salt),
        ...audit(ctx, 'Lead', slot, salt),
        FirstName: first,
        LastName: last,
        Name: first === null ? last : `${first} ${last}`,
        Company: hardOr(slot, 13, 2, `${pick(COMPANY, h >>> 10)} ${pick(SUFFIX, h >>> 14)}`),
        Status: status,
        Email: g % 4 === 0 ? null : `lead${slot}@example.net`,
        Phone: g % 5 === 0 ? null : `+81 3-1234-${String(slot % 10_000).padStart(4, '0')}`,
        LeadSource: g % 6 === 0 ? null : pick(PICKLISTS.leadSource, h >>> 16),
        Street: noAddress ? null : pick(STREETS, h >>> 18),
        City: noAddress ? null : pick(CITIES, h >>> 20),
        State: noAddress ? null : pick(STATES, h >>> 22),
        PostalCode: noAddress ? null : pick(POSTAL, h >>> 24),
        Country: noAddress ? null : pick(COUNTRIES, h >>> 26),
        Latitude: null,
        Longitude: null,
        GeocodeAccuracy: null,
        AnnualRevenue: g % 2 === 0 ? null : pick(REVENUE, h >>> 12),
        NumberOfEmployees: g % 3 === 1 ? null : String(g % 5000),
        IsConverted: converted,
        ConvertedAccountId: converted ? refTo(ctx, 'Lead', 'Account', '001', slot) : null,
        OwnerId: pick(ctx.userIds, h >>> 28),
      };
    },
  };
}

function tasks(ctx: Ctx): Generator {
  const salt = 6;
  return {
    count: ctx.counts.Task ?? 0,
    isDeleted: (slot) => deleted(ctx, slot, salt),
    cursorFields: AUDIT_FIELDS,
    cursorMs: auditCursor(ctx, 'Task', salt),
    record(slot) {
      const h = mix(slot, salt, ctx.seed);
      const g = mix(slot, salt + 50, ctx.seed);
      const status = pick(PICKLISTS.taskStatus, h >>> 5);
      // Polymorphic WhatId/WhoId (docs/salesforce.md#rest-record-json): every 4th Task is about an Opportunity, every
      // 5th names a Lead.
      const what =
        g % 10 === 0
          ? null
          : slot % 4 === 3
            ? refTo(ctx, 'Task', 'Opportunity', '006', slot)
            : refTo(ctx, 'Task', 'Account', '001', slot);
      const who =
        g % 7 === 0
          ? null
          : slot % 5 === 4
            ? refTo(ctx, 'Task', 'Lead', '00Q', slot)
            : refTo(ctx, 'Task', 'Contact', '003', slot);
      return {
        Id: makeId('00T', slot),
        IsDeleted: deleted(ctx, slot, salt),
        ...audit(ctx, 'Task', slot, salt),
        WhatId: what,
        WhoId: who,
        Subject: g % 11 === 0 ? null : hardOr(slot, 9, 4, pick(PICKLISTS.taskSubject, h)),
        ActivityDate: g % 4 === 1 ? null : relDate(ctx, h, 400, -300),
        Status: status,
        Priority: pick(PICKLISTS.taskPriority, h >>> 9),
        IsClosed: status === 'Completed',
        Description: g % 3 === 0 ? hardOr(slot, 4, 1, 'Left a voicemail.') : null,
        OwnerId: pick(ctx.userIds, h >>> 12),
      };
    },
  };
}

function histories(ctx: Ctx): Generator {
  const salt = 7;
  return {
    count: ctx.counts.AccountHistory ?? 0,
    isDeleted: (slot) => deleted(ctx, slot, salt),
    cursorFields: ['CreatedDate'],
    cursorMs: auditCursor(ctx, 'AccountHistory', salt),
    record(slot) {
      const h = mix(slot, salt, ctx.seed);
      const a = audit(ctx, 'AccountHistory', slot, salt);
      const f = pick(PICKLISTS.historyField, h >>> 3);
      const created = f === 'created';
      return {
        Id: makeId('017', slot),
        IsDeleted: deleted(ctx, slot, salt),
        CreatedDate: a.CreatedDate,
        CreatedById: a.CreatedById,
        AccountId: refTo(ctx, 'AccountHistory', 'Account', '001', slot) as string,
        Field: f,
        DataType: created ? null : f === 'AnnualRevenue' ? 'Currency' : f === 'Owner' ? 'EntityId' : 'Text',
        OldValue: created || h % 5 === 0 ? null : hardOr(slot, 6, 1, `Old ${slot}`),
        NewValue: created ? null : f === 'AnnualRevenue' ? pick(REVENUE, h >>> 9) : hardOr(slot, 6, 4, `New ${slot}`),
      };
    },
  };
}

function invoices(ctx: Ctx): Generator {
  const salt = 8;
  return {
    count: ctx.counts.Invoice__c ?? 0,
    isDeleted: (slot) => deleted(ctx, slot, salt),
    cursorFields: AUDIT_FIELDS,
    cursorMs: auditCursor(ctx, 'Invoice__c', salt),
    record(slot) {
      const h = mix(slot, salt, ctx.seed);
      const g = mix(slot, salt + 50, ctx.seed);
      const k = mix(slot, salt + 60, ctx.seed);
      const noAddress = k % 4 === 0;
      const noLoc = k % 5 === 1;
      // Tags: a deterministic subset of the picklist, 'A;B' (a multipicklist: docs/salesforce.md#field-types).
      const tags = PICKLISTS.invoiceTags.filter((_, i) => ((h >>> (i + 3)) & 3) === 0).join(';');
      return {
        Id: makeId('a01', slot),
        IsDeleted: deleted(ctx, slot, salt),
        ...audit(ctx, 'Invoice__c', slot, salt),
        Name: `INV-${String(slot).padStart(7, '0')}`,
        OwnerId: pick(ctx.userIds, h >>> 25),
        Account__c: g % 19 === 0 ? null : refTo(ctx, 'Invoice__c', 'Account', '001', slot),
        Description__c:
          slot % 499 === 3
            ? LONG_TEXT
            : g % 3 === 0
              ? null
              : hardOr(slot, 2, 1, `Invoice for services, period ${(slot % 12) + 1}`),
        Contact_Email__c: g % 5 === 0 ? null : `billing+${slot}@example.com`,
        Phone__c: g % 6 === 0 ? null : `+49 89 ${String(100_000 + (slot % 900_000))}`,
        Portal_Url__c: g % 7 === 0 ? null : `https://portal.example.com/inv/${slot}?lang=de&x="y"`,
        Status__c: g % 8 === 0 ? null : pick(PICKLISTS.invoiceStatus, h >>> 2),
        Tags__c: tags === '' ? null : tags,
        Channel__c: g % 9 === 0 ? null : slot % 17 === 0 ? 'Carrier pigeon' : pick(PICKLISTS.channel, h >>> 6),
        Secret_Code__c: g % 10 === 0 ? null : `S-${h % 100_000}`,
        Paid__c: (h & 1) === 1,
        Line_Count__c:
          g % 11 === 0 ? null : slot % 50 === 1 ? '2147483647' : slot % 50 === 2 ? '-2147483648' : String(h % 500),
        Sequence__c: g % 12 === 0 ? null : pick(LONGS, h >>> 9),
        Score__c: g % 13 === 0 ? null : pick(DOUBLES, h >>> 12),
        Amount__c: g % 14 === 0 ? null : pick(AMOUNTS, h >>> 15),
        Discount__c: g % 15 === 0 ? null : pick(PERCENTS, h >>> 18),
        Due_Date__c:
          g % 16 === 0 ? null : slot % 7 === 5 ? pick(EXTREME_DATES, slot >>> 3) : relDate(ctx, h, 900, -600),
        Issued_At__c:
          g % 17 === 0
            ? null
            : slot % 9 === 4
              ? pick(EXTREME_DATETIMES, slot >>> 3)
              : isoOf(ctx.anchorMs - (h % 50_000_000) * 1000),
        Reminder_Time__c: g % 18 === 0 ? null : slot % 3 === 0 ? pick(TIMES, slot >>> 2) : timeOf((h % 86_400) * 1000),
        Scan__c: k % 3 === 0 ? null : pick(BASE64, k >>> 4),
        Addr__Street__s: noAddress ? null : pick(STREETS, k >>> 6),
        Addr__City__s: noAddress ? null : pick(CITIES, k >>> 9),
        Addr__PostalCode__s: noAddress ? null : pick(POSTAL, k >>> 12),
        Addr__StateCode__s: noAddress ? null : pick(['CA', 'NY', 'TX', 'BY', 'ZH'], k >>> 15),
        Addr__CountryCode__s: noAddress ? null : pick(['US', 'DE', 'CH', 'FR', 'JP'], k >>> 18),
        Addr__Latitude__s: noAddress ? null : pick(LATITUDES, k >>> 21),
        Addr__Longitude__s: noAddress ? null : pick(LONGITUDES, k >>> 23),
        Addr__GeocodeAccuracy__s: noAddress ? null : 'Zip',
        Loc__Latitude__s: noLoc ? null : pick(LATITUDES, k >>> 25),
        Loc__Longitude__s: noLoc ? null : pick(LONGITUDES, k >>> 27),
      };
    },
  };
}

/** Record counts per object for an org of `accounts` Accounts. */
export function seedCounts(opts: SeedOptions): Record<string, number> {
  const a = Math.max(0, Math.floor(opts.accounts ?? 1000));
  const per = (ratio: number) => Math.floor(a * ratio);
  return {
    User: Math.max(1, opts.users ?? 8),
    Account: a,
    Contact: per(opts.contactsPerAccount ?? 2),
    Opportunity: per(opts.opportunitiesPerAccount ?? 1),
    RecordType: SEED_RECORD_TYPES.length,
    Lead: per(opts.leadsPerAccount ?? 0.25),
    Task: per(opts.tasksPerAccount ?? 0.5),
    Invoice__c: per(opts.invoicesPerAccount ?? 0.5),
    AccountHistory: per(opts.historiesPerAccount ?? 0.5),
  };
}

/** More generated objects (an org profile): counted before any record exists, since references and buckets use it. */
export interface SeedExtension {
  /** Record counts of the extension's own objects, from the demo counts. */
  counts(base: Readonly<Record<string, number>>): Record<string, number>;
  /** Generators of the extension's objects, and replacements of demo ones (which may wrap `base`). */
  generators(ctx: SeedContext, base: ReadonlyMap<string, Generator>): Map<string, Generator>;
  links(counts: Readonly<Record<string, number>>): GeneratedLink[];
}

/** child.field -> parent, spread evenly: child slot s points at parent slot floor(s * parents / children). */
export function evenLink(
  counts: Readonly<Record<string, number>>,
  child: string,
  field: string,
  parent: string,
): GeneratedLink {
  return {
    child,
    field,
    parent,
    candidates: (p) => childRange(p, counts[child] ?? 0, Math.max(1, counts[parent] ?? 1)),
  };
}

/** The generated org: one generator per seed object, anchored so every timestamp is before `anchorMs`. */
export function generateOrg(opts: SeedOptions, anchorMs: number, extension?: SeedExtension): GeneratedOrg {
  const demo = seedCounts(opts);
  const counts = extension ? { ...demo, ...extension.counts(demo) } : demo;
  const userIds = Array.from({ length: counts.User as number }, (_, i) => makeId('005', i));
  const ctx: Ctx = {
    seed: opts.seed ?? 1,
    counts,
    anchorMs,
    deletedEvery: Math.max(2, opts.deletedEvery ?? 40),
    userIds,
  };
  const generators = new Map<string, Generator>([
    ['User', users(ctx)],
    ['Account', accounts(ctx)],
    ['Contact', contacts(ctx)],
    ['Opportunity', opportunities(ctx)],
    ['RecordType', recordTypes(ctx)],
    ['Lead', leads(ctx)],
    ['Task', tasks(ctx)],
    ['AccountHistory', histories(ctx)],
    ['Invoice__c', invoices(ctx)],
  ]);
  if (extension) for (const [name, gen] of extension.generators(ctx, generators)) generators.set(name, gen);
  const link = (child: string, field: string, parent: string) => evenLink(counts, child, field, parent);
  const links = [
    link('Contact', 'AccountId', 'Account'),
    link('Opportunity', 'AccountId', 'Account'),
    link('Invoice__c', 'Account__c', 'Account'),
    link('AccountHistory', 'AccountId', 'Account'),
    link('Task', 'WhatId', 'Account'),
    link('Task', 'WhatId', 'Opportunity'),
    link('Task', 'WhoId', 'Contact'),
    link('Task', 'WhoId', 'Lead'),
    link('Lead', 'ConvertedAccountId', 'Account'),
    {
      child: 'Account',
      field: 'ParentId',
      parent: 'Account',
      candidates: (p: number): [number, number] => [p + 9, Math.min(p + 10, counts.Account ?? 0)],
    },
    ...(extension?.links(counts) ?? []),
  ];
  return { generators, links };
}
