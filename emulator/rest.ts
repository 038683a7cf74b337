// The REST API surface (docs/salesforce.md, #rest-request-conventions to #getdeleted): resources index, describe,
// /limits, query/queryAll with locator paging, getDeleted/getUpdated and minimal sObject CRUD.
import { randomBytes } from 'node:crypto';
import { describeGlobal, describeSObject } from './describe.ts';
import { FieldValueError, coerceJson } from './coerce.ts';
import {
  type Ctx,
  HttpError,
  readJson,
  restDateTime,
  sendEmpty,
  sendJson,
  sendJsonBytes,
  sendJsonText,
  serializeJson,
  utf8Parts,
} from './http.ts';
import type { Limits } from './limits.ts';
import { collectSlots, soqlFailure } from './queryResults.ts';
import { planSoql } from './soql.ts';
import type { FieldValue, ObjectDef, ObjectSnapshot, OrgStore, QueryPlan, SfRecord } from './types.ts';

export interface RestDeps {
  store: OrgStore;
  limits: Limits;
  /** Query locators expire after this much idle time (docs/salesforce.md#query-locator-lifetime). */
  queryLocatorTtlMs: number;
  clock: () => number;
  /** Per object: when its delete log was last purged (earliestDateAvailable, docs/salesforce.md#getdeleted). */
  deletedLogPurgedAt: Map<string, number>;
}

interface Cursor {
  id: string;
  plan: QueryPlan;
  snapshot: ObjectSnapshot;
  /** Matching slots in result order; rendered to JSON page by page, never all at once. */
  slots: Int32Array;
  count: number;
  batchSize: number;
  lastUsed: number;
  /** Bytes of the last page sent: the next one's buffer starts that big. */
  pageBytes: number;
}

const MAX_CURSORS = 2000;
const NOT_FOUND = 'The requested resource does not exist';

/** docs/salesforce.md#rest-query-paging: `Sforce-Query-Options: batchSize=N`, default 2000, clamped to 200..2000. */
function batchSizeOf(header: string | string[] | undefined, fallback: number): number {
  const m = /batchSize\s*=\s*(\d+)/i.exec(String(header ?? ''));
  if (!m) return fallback;
  return Math.min(2000, Math.max(200, Number(m[1])));
}

function floorToMinute(ms: number): number {
  return Math.floor(ms / 60_000) * 60_000;
}

function iso(ms: number): string {
  return restDateTime(new Date(ms).toISOString());
}

export function createRest(deps: RestDeps) {
  const cursors = new Map<string, Cursor>();
  let cursorSeq = 0;

  const newCursorId = () => {
    cursorSeq++;
    // docs/salesforce.md#rest-query-paging: locators look like 01gRO0000016PIAYA2; only uniqueness matters here.
    return `01g${randomBytes(3).toString('hex').toUpperCase()}${String(cursorSeq).padStart(9, '0')}`;
  };

  const evictCursors = () => {
    const now = deps.clock();
    for (const [id, c] of cursors) if (now - c.lastUsed > deps.queryLocatorTtlMs) cursors.delete(id);
    while (cursors.size > MAX_CURSORS) {
      const oldest = cursors.keys().next().value;
      if (oldest === undefined) break;
      cursors.delete(oldest);
    }
  };

  const sendPage = (ctx: Ctx, version: string, c: Cursor, offset: number) => {
    c.lastUsed = deps.clock();
    const end = Math.min(c.count, offset + c.batchSize);
    const done = end >= c.count;
    const next = done ? '' : `,"nextRecordsUrl":${JSON.stringify(`/services/data/v${version}/query/${c.id}-${end}`)}`;
    const body = utf8Parts(c.pageBytes + (c.pageBytes >> 3));
    body.add(`{"totalSize":${c.count},"done":${done}${next},"records":[`);
    const render = { apiVersion: version };
    let sep = '';
    for (let i = offset; i < end; i++) {
      const rec = c.snapshot.at(c.slots[i]!);
      if (!rec) continue;
      body.add(sep + (c.plan.toJsonText ? c.plan.toJsonText(rec, render) : serializeJson(c.plan.toJson(rec, render))));
      sep = ',';
    }
    body.add(']}');
    const bytes = body.bytes();
    c.pageBytes = bytes.length;
    sendJsonBytes(ctx.res, 200, bytes);
  };

  const continueQuery = (ctx: Ctx, version: string, locator: string) => {
    evictCursors();
    const m = /^(01g\w+)-(\d+)$/.exec(locator);
    const c = m ? cursors.get(m[1]!) : undefined;
    const offset = Number(m?.[2]);
    if (!c || !(offset >= 0 && offset < c.count))
      throw new HttpError(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
    c.batchSize = batchSizeOf(ctx.req.headers['sforce-query-options'], c.batchSize);
    sendPage(ctx, version, c, offset);
  };

  /** docs/salesforce.md#getdeleted: seconds ignored, start < end, 15 (deleted) / 30 (updated) day windows. */
  const replicationWindow = (ctx: Ctx, days: number) => {
    const start = Date.parse(ctx.url.searchParams.get('start') ?? '');
    const end = Date.parse(ctx.url.searchParams.get('end') ?? '');
    if (Number.isNaN(start) || Number.isNaN(end))
      throw new HttpError(400, 'INVALID_REPLICATION_DATE', 'start and end must be valid dateTime values');
    const from = floorToMinute(start);
    const to = floorToMinute(end);
    const now = deps.clock();
    if (from >= to)
      throw new HttpError(
        400,
        'INVALID_REPLICATION_DATE',
        'startDate must chronologically precede endDate by more than one minute',
      );
    if (from < floorToMinute(now - days * 86_400_000))
      throw new HttpError(400, 'INVALID_REPLICATION_DATE', `startDate cannot be more than ${days} days ago`);
    // Rows up to `now` are listed, but latestDateCovered is minute-aligned and so may lag them: the next window
    // (starting at latestDateCovered) can list a row again, never miss one.
    return { from, until: Math.min(to, now), latest: Math.min(to, floorToMinute(now)) };
  };

  /**
   * The request handlers over one view of the org: the whole org, or the objects one user may read (access.ts).
   * Cursors are shared by every view.
   */
  const handlersFor = (store: OrgStore) => {
    const mustObject = (name: string): ObjectDef => {
      const def = store.object(name);
      if (!def) throw new HttpError(404, 'NOT_FOUND', NOT_FOUND);
      return def;
    };

    const plan = (soql: string): QueryPlan => {
      try {
        return planSoql(store, soql);
      } catch (err) {
        soqlFailure(err);
      }
    };

    const startQuery = (ctx: Ctx, version: string, includeDeleted: boolean) => {
      const q = ctx.url.searchParams.get('q');
      if (!q) throw new HttpError(400, 'MALFORMED_QUERY', 'A query string has to be specified');
      const p = plan(q);
      const snapshot = store.snapshot(p.object.name);
      // docs/salesforce.md#select-count: SELECT COUNT() answers with totalSize only (from the cursor index when the
      // WHERE allows, as an org would).
      if (p.isCount)
        return sendJsonText(
          ctx.res,
          200,
          `{"totalSize":${p.count(snapshot, { includeDeleted })},"done":true,"records":[]}`,
        );
      const { slots, count } = collectSlots(p, snapshot, includeDeleted);
      evictCursors();
      const c: Cursor = {
        id: newCursorId(),
        plan: p,
        snapshot,
        slots,
        count,
        batchSize: batchSizeOf(ctx.req.headers['sforce-query-options'], 2000),
        lastUsed: 0,
        pageBytes: 1 << 16,
      };
      cursors.set(c.id, c);
      sendPage(ctx, version, c, 0);
    };

    const getDeleted = (ctx: Ctx, def: ObjectDef) => {
      const { from, until, latest } = replicationWindow(ctx, 15);
      // A purge (admin) drops older entries, as the ~2-hourly delete-log cleanup does (docs/salesforce.md#getdeleted).
      const purgedAt = deps.deletedLogPurgedAt.get(def.name.toLowerCase()) ?? Number.NEGATIVE_INFINITY;
      const kept = Number.isFinite(purgedAt) ? new Date(purgedAt).toISOString() : undefined;
      // Only the window is read (and the oldest entry kept): ISO 8601 UTC text sorts as time does.
      const start = new Date(from).toISOString();
      const window = { from: kept !== undefined && kept > start ? kept : start, to: new Date(until).toISOString() };
      const deletedRecords = (def.undeletable ? store.deletedLog(def.name, window) : []).map((d) => ({
        id: d.id,
        deletedDate: restDateTime(d.deletedDate),
      }));
      if (deletedRecords.length > 600_000) throw new HttpError(400, 'EXCEEDED_ID_LIMIT', 'Too many ids');
      // earliestDateAvailable: the oldest entry still in the log, never before the last purge or the 15-day window.
      const first = def.undeletable ? store.deletedLog(def.name, { from: kept, limit: 1 })[0] : undefined;
      const oldest = first ? Date.parse(first.deletedDate) : Number.POSITIVE_INFINITY;
      const floor = Math.max(purgedAt, deps.clock() - 15 * 86_400_000);
      const earliest = Number.isFinite(oldest) ? Math.min(oldest, Math.max(floor, oldest)) : floor;
      sendJson(ctx.res, 200, {
        deletedRecords,
        earliestDateAvailable: iso(floorToMinute(Math.max(earliest, floor))),
        latestDateCovered: iso(latest),
      });
    };

    const getUpdated = (ctx: Ctx, def: ObjectDef) => {
      const { from, until, latest } = replicationWindow(ctx, 30);
      const cursorField = def.fields.some((f) => f.name === 'SystemModstamp') ? 'SystemModstamp' : 'LastModifiedDate';
      const snap = store.snapshot(def.name);
      const ids: string[] = [];
      for (let i = 0; i < snap.size; i++) {
        const rec = snap.at(i);
        const stamp = rec?.[cursorField];
        if (!rec || rec.IsDeleted === true || typeof stamp !== 'string') continue;
        const t = Date.parse(stamp);
        if (t >= from && t < until) ids.push(rec.Id);
      }
      if (ids.length > 600_000) throw new HttpError(400, 'EXCEEDED_ID_LIMIT', 'Too many ids');
      sendJson(ctx.res, 200, { ids, latestDateCovered: iso(latest) });
    };

    /** JSON body -> stored values: numbers become decimal text (types.ts), unknown fields are refused. */
    const valuesFromJson = (
      def: ObjectDef,
      body: Record<string, unknown>,
      forCreate: boolean,
    ): Record<string, FieldValue> => {
      const out: Record<string, FieldValue> = {};
      for (const [key, value] of Object.entries(body)) {
        if (key === 'attributes') continue;
        const f = def.fields.find((x) => x.name.toLowerCase() === key.toLowerCase());
        if (!f) throw new HttpError(400, 'INVALID_FIELD', `No such column '${key}' on sobject of type ${def.name}`);
        if ((forCreate ? f.createable : f.updateable) === false) {
          throw new HttpError(
            400,
            'INVALID_FIELD_FOR_INSERT_UPDATE',
            `Unable to create/update fields: ${f.name}. Please check the security settings of this field ` +
              'and verify that it is read/write for your profile or permission set.',
          );
        }
        try {
          out[f.name] = coerceJson(f, value);
        } catch (err) {
          // A value the field cannot hold is the request's fault (400), as Salesforce answers DML with a bad value.
          if (err instanceof FieldValueError) throw new HttpError(400, err.code, err.message);
          throw err;
        }
      }
      return out;
    };

    /** The RecordType rows this caller sees (describe's recordTypeInfos). */
    const recordTypeRows = (): SfRecord[] => {
      if (!store.object('RecordType')) return [];
      const snap = store.snapshot('RecordType');
      const out: SfRecord[] = [];
      for (let i = 0; i < snap.size; i++) {
        const rec = snap.at(i);
        if (rec) out.push(rec);
      }
      return out;
    };

    /** A store write; a value the org refuses (RecordTypeId of another object, ...) is the request's fault (400). */
    const write = <T>(fn: () => T): T => {
      try {
        return fn();
      } catch (err) {
        if (err instanceof FieldValueError) throw new HttpError(400, err.code, err.message);
        throw err;
      }
    };

    const recordOf = (def: ObjectDef, id: string) => {
      const rec = store.get(id);
      if (!rec || store.object(def.name) !== def || !rec.Id.startsWith(def.keyPrefix))
        throw new HttpError(404, 'NOT_FOUND', NOT_FOUND);
      return rec;
    };

    const getRecord = (ctx: Ctx, version: string, def: ObjectDef, id: string) => {
      const rec = recordOf(def, id);
      const wanted = ctx.url.searchParams.get('fields');
      const fields = wanted
        ? wanted.split(',').map((s) => s.trim())
        : def.fields.filter((f) => f.type !== 'address' && f.type !== 'location').map((f) => f.name);
      const p = plan(`SELECT ${fields.join(', ')} FROM ${def.name}`);
      sendJsonText(ctx.res, 200, serializeJson(p.toJson(rec, { apiVersion: version })));
    };

    const sobjectRoutes = async (ctx: Ctx, version: string, rest: string[]) => {
      const [name, sub] = rest;
      if (name === undefined) {
        if (ctx.method !== 'GET')
          throw new HttpError(405, 'METHOD_NOT_ALLOWED', `HTTP Method '${ctx.method}' not allowed. Allowed are GET`);
        return sendJson(ctx.res, 200, describeGlobal(store, version));
      }
      const def = mustObject(name);
      if (sub === undefined) {
        if (ctx.method === 'POST') {
          const values = valuesFromJson(def, await readJson(ctx.req), true);
          const rec = write(() => store.insert(def.name, values));
          return sendJson(ctx.res, 201, { id: rec.Id, success: true, errors: [] });
        }
        return sendJson(ctx.res, 200, {
          objectDescribe: describeGlobal(store, version).sobjects.find((o) => o.name === def.name),
          recentItems: [],
        });
      }
      if (sub === 'describe') {
        const since = Date.parse(String(ctx.req.headers['if-modified-since'] ?? ''));
        const modified = Math.floor(Date.parse(def.lastModified) / 1000) * 1000;
        if (!Number.isNaN(since) && modified <= since) return sendEmpty(ctx.res, 304);
        return sendJson(ctx.res, 200, describeSObject(def, version, recordTypeRows()), {
          'Last-Modified': new Date(modified).toUTCString(),
        });
      }
      if ((sub === 'deleted' || sub === 'updated') && !def.replicateable) {
        // getDeleted/getUpdated need `replicateable: true` ("Certain objects cannot be replicated via the API",
        // https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_calls_getupdated.htm). Status
        // and message are what orgs answer (seen for /sobjects/X/deleted: 400 "sObject type X is not replicable");
        // the errorCode is inferred: INVALID_TYPE, the code of the SOAP calls' InvalidSObjectFault
        // (docs/salesforce.md#getdeleted).
        throw new HttpError(400, 'INVALID_TYPE', `sObject type ${def.name} is not replicable`);
      }
      if (sub === 'deleted') return getDeleted(ctx, def);
      if (sub === 'updated') return getUpdated(ctx, def);
      if (ctx.method === 'GET') return getRecord(ctx, version, def, sub);
      if (ctx.method === 'PATCH') {
        recordOf(def, sub);
        const values = valuesFromJson(def, await readJson(ctx.req), false);
        write(() => store.update(sub, values));
        return sendEmpty(ctx.res, 204);
      }
      if (ctx.method === 'DELETE' && def.flags?.deletable === false) {
        // Record types cannot be deleted through the API (describe: deletable false). Salesforce's answer to a
        // DELETE of such a row is not documented; this is the 405 the resource gives any method it does not allow.
        recordOf(def, sub);
        throw new HttpError(405, 'METHOD_NOT_ALLOWED', `HTTP Method 'DELETE' not allowed. Allowed are GET,PATCH`);
      }
      if (ctx.method === 'DELETE') {
        const rec = recordOf(def, sub);
        if (rec.IsDeleted === true) throw new HttpError(404, 'ENTITY_IS_DELETED', 'entity is deleted');
        if (def.undeletable) store.softDelete(sub);
        else store.hardDelete(sub);
        return sendEmpty(ctx.res, 204);
      }
      throw new HttpError(
        405,
        'METHOD_NOT_ALLOWED',
        `HTTP Method '${ctx.method}' not allowed. Allowed are GET,PATCH,DELETE`,
      );
    };

    return { startQuery, continueQuery, sobjectRoutes };
  };
  const views = new WeakMap<OrgStore, ReturnType<typeof handlersFor>>();
  const viewOf = (store: OrgStore) => {
    let h = views.get(store);
    if (!h) {
      h = handlersFor(store);
      views.set(store, h);
    }
    return h;
  };

  const resourcesIndex = (version: string) => {
    const base = `/services/data/v${version}`;
    return {
      sobjects: `${base}/sobjects`,
      query: `${base}/query`,
      queryAll: `${base}/queryAll`,
      limits: `${base}/limits`,
    };
  };

  return {
    /**
     * Handles `/services/data/v{version}/{rest...}` for an authenticated request (Bulk routes excluded), over the org
     * as `store` shows it to the caller (default: all of it).
     */
    async handle(ctx: Ctx, version: string, rest: string[], store: OrgStore = deps.store): Promise<void> {
      const { startQuery, continueQuery, sobjectRoutes } = viewOf(store);
      const [head, ...tail] = rest;
      if (head === undefined) return sendJson(ctx.res, 200, resourcesIndex(version));
      if (head === 'sobjects') return sobjectRoutes(ctx, version, tail);
      if (head === 'limits' && tail.length === 0) return sendJson(ctx.res, 200, deps.limits.toJson());
      if ((head === 'query' || head === 'queryAll') && ctx.method === 'GET') {
        // docs/salesforce.md#rest-query-paging: a locator is accepted under /query/ and /queryAll/; it remembers
        // whether deleted rows are included.
        if (tail[0] !== undefined) return continueQuery(ctx, version, tail[0]);
        return startQuery(ctx, version, head === 'queryAll');
      }
      throw new HttpError(404, 'NOT_FOUND', NOT_FOUND);
    },
  };
}

export type Rest = ReturnType<typeof createRest>;
