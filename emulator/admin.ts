// The test/operator control surface: change the org behind the API's back (records, schema drift, formula results,
// delete-log purges), inject faults, read the request log and counters, tune limits, sessions and Bulk latency.
// The same functions are offered in-process (`emulator.admin`) and over HTTP under /__admin/ (JSON).
import type { ObjectAccess } from './access.ts';
import type { BulkSettings } from './bulkJobs.ts';
import { coerceJson } from './coerce.ts';
import type { FaultSpec, Faults } from './faults.ts';
import { type Ctx, HttpError, readJson, sendEmpty, sendJson } from './http.ts';
import type { Limits } from './limits.ts';
import type { OAuthServer } from './oauth.ts';
import { handlePubSubAdmin } from './pubsub/adminRoutes.ts';
import type { PubSubControl } from './pubsub/service.ts';
import type { FieldChanges, FieldDef, FieldValue, OrgStore, SfRecord } from './types.ts';
import type { RuleCondition, ValidationRule, ValidationRuleSpec, ValidationRules } from './validationRules.ts';

export interface RequestLogEntry {
  at: string;
  method: string;
  /** Path and query; tokens never travel in URLs, so nothing secret is kept. */
  path: string;
  /** The SOQL of a query: the `q` parameter of a REST query, the body's `query` of a Bulk query job. */
  soql?: string;
  status: number;
  ms: number;
}

export interface AdminDeps {
  store: OrgStore;
  faults: Faults;
  limits: Limits;
  oauth: OAuthServer;
  access: ObjectAccess;
  settings: BulkSettings;
  requestLog: RequestLogEntry[];
  deletedLogPurgedAt: Map<string, number>;
  clock: () => number;
  rules: ValidationRules;
}

export interface EmulatorAdmin {
  insert(object: string, values: Record<string, FieldValue>): SfRecord;
  update(id: string, values: Record<string, FieldValue>, opts?: { touch?: boolean; modstamp?: string }): SfRecord;
  delete(id: string): void;
  undelete(id: string): void;
  hardDelete(id: string): void;
  /** Schema drift: a new field, valued for existing records by `compute` (default null). */
  addField(object: string, field: FieldDef, compute?: (rec: SfRecord) => FieldValue): void;
  /**
   * Schema drift in place: a field's describe members (length, precision, scale, picklistValues, label, ...) change,
   * its values stay (HTTP: `PATCH /__admin/fields/<object>/<field>` with the changed members).
   */
  changeField(object: string, field: string, changes: FieldChanges): void;
  /** Changes a formula field's result for every record without touching SystemModstamp (null restores the seed). */
  setFormulaOverride(
    object: string,
    field: string,
    formula: ((rec: SfRecord) => FieldValue) | null,
    formulaText?: string,
  ): void;
  /**
   * Purges an object's delete log (lost deletes: older entries vanish, earliestDateAvailable moves to now,
   * docs/salesforce.md#getdeleted).
   */
  purgeDeletedLog(object: string): void;
  addFault(spec: FaultSpec): void;
  clearFaults(): void;
  faults(): { spec: FaultSpec; left: number }[];
  requestLog(): RequestLogEntry[];
  clearRequestLog(): void;
  counters(): {
    apiCalls: number;
    apiMax: number;
    bulkQueryJobs: number;
    bulkIngestJobs: number;
    bulkResultBytes: number;
    sessions: number;
  };
  setApiUsage(used: number, max?: number): void;
  expireAllSessions(): void;
  /**
   * Revokes sessions (docs/salesforce.md#oauth-session-expiry): the current ones unless `current` is false (their next
   * call gets 401 INVALID_SESSION_ID), and each of the next `next` tokens minted after it has authenticated
   * `afterCalls` calls (default 0) — consecutive expiries for re-authentication tests.
   */
  revokeSessions(opts?: { current?: boolean; next?: number; afterCalls?: number }): void;
  /**
   * Takes read access to `object` from `username` (default: every user), as a profile without Read would: describe
   * answers 404 NOT_FOUND, SOQL 400 INVALID_TYPE, describeGlobal omits it (access.ts).
   */
  denyObjectAccess(object: string, username?: string): void;
  /**
   * Uploads the Connected App's certificate (PEM): JWTs must be signed with its key from now on
   * (docs/salesforce.md#oauth-jwt-bearer-flow).
   */
  uploadCertificate(pem: string): Promise<void>;
  /** Takes the app's pre-authorisation from a user (approved false), or gives it back (oauth.ts setApproval). */
  setUserApproval(username: string, approved: boolean): void;
  /** Gives it back (no arguments: every denial). */
  restoreObjectAccess(object?: string, username?: string): void;
  objectAccess(): { object: string; username: string | null }[];
  /** Test-only (secret-leak tests): every access token issued so far. Not offered over HTTP. */
  issuedTokens(): string[];
  setSessionTimeout(ms: number): void;
  setBulkLatency(opts: {
    latencyMs?: number;
    msPerRecord?: number;
    defaultMaxRecords?: number;
    nullAs?: 'empty' | 'quoted';
  }): void;
  /** A refresh token for the refresh_token grant (docs/salesforce.md#oauth-refresh-token-flow). */
  issueRefreshToken(username?: string): string;
  /**
   * Adds (or replaces by name) a validation rule: Bulk ingest fails a row whose record meets `predicate` /
   * `condition` with `FIELD_CUSTOM_VALIDATION_EXCEPTION:<message>:<errorField> --` (validationRules.ts). HTTP:
   * `POST /__admin/validationRules/<object>` `{name, message, errorField?, condition: {field, op, value}}`.
   */
  setValidationRule(object: string, rule: ValidationRuleSpec): void;
  /** Removes a rule by name, an object's rules, or every rule (HTTP: `DELETE /__admin/validationRules[/<object>]`). */
  clearValidationRules(object?: string, name?: string): void;
  validationRules(): Omit<ValidationRule, 'violates'>[];
  /** The Pub/Sub API's controls when the emulator serves it (HTTP: `/__admin/pubsub/...`, pubsub/adminRoutes.ts). */
  pubsub?: PubSubControl;
}

export function createAdmin(deps: AdminDeps): EmulatorAdmin {
  const { store } = deps;
  return {
    insert: (object, values) => store.insert(object, values),
    update: (id, values, opts) => store.update(id, values, opts),
    delete: (id) => store.softDelete(id),
    undelete: (id) => store.undelete(id),
    hardDelete: (id) => store.hardDelete(id),
    addField: (object, field, compute) => store.addField(object, field, compute),
    changeField: (object, field, changes) => store.changeField(object, field, changes),
    setFormulaOverride: (object, field, formula, formulaText) => store.setFormula(object, field, formula, formulaText),
    purgeDeletedLog(object) {
      deps.deletedLogPurgedAt.set(object.toLowerCase(), deps.clock());
    },
    addFault: (spec) => deps.faults.add(spec),
    clearFaults: () => deps.faults.clear(),
    faults: () => deps.faults.list(),
    requestLog: () => [...deps.requestLog],
    clearRequestLog: () => {
      deps.requestLog.length = 0;
    },
    counters() {
      const c = deps.limits.counters;
      return {
        apiCalls: c.apiUsed,
        apiMax: c.apiMax,
        bulkQueryJobs: c.bulkQueryJobs,
        bulkIngestJobs: c.bulkIngestJobs,
        bulkResultBytes: c.bulkResultBytes,
        sessions: deps.oauth.sessionCount,
      };
    },
    setApiUsage: (used, max) => deps.limits.setApiUsage(used, max),
    expireAllSessions: () => deps.oauth.expireAllSessions(),
    revokeSessions(opts = {}) {
      if (opts.current !== false) deps.oauth.expireAllSessions();
      if (opts.next) deps.oauth.revokeNextSessions(opts.next, opts.afterCalls ?? 0);
    },
    denyObjectAccess: (object, username) => deps.access.deny(object, username),
    uploadCertificate: (pem) => deps.oauth.uploadCertificate(pem),
    setUserApproval: (username, approved) => deps.oauth.setApproval(username, approved),
    restoreObjectAccess: (object, username) => deps.access.restore(object, username),
    objectAccess: () => deps.access.list(),
    issuedTokens: () => deps.oauth.issuedTokens(),
    setSessionTimeout: (ms) => deps.oauth.setSessionTimeout(ms),
    setBulkLatency(o) {
      const s = deps.settings;
      if (o.latencyMs !== undefined) s.bulkLatencyMs = o.latencyMs;
      if (o.msPerRecord !== undefined) s.bulkMsPerRecord = o.msPerRecord;
      if (o.defaultMaxRecords !== undefined) s.bulkDefaultMaxRecords = o.defaultMaxRecords;
      if (o.nullAs !== undefined) s.bulkNullAs = o.nullAs;
    },
    issueRefreshToken: (username) => deps.oauth.issueRefreshToken(username),
    setValidationRule(object, rule) {
      const def = store.object(object);
      if (!def) throw new Error(`Unknown object ${object}`);
      deps.rules.set(def.name, rule);
    },
    clearValidationRules: (object, name) => deps.rules.clear(object, name),
    validationRules: () => deps.rules.list(),
  };
}

/** JSON values -> stored values (numbers as decimal text), by the object's field types. */
function storedValues(store: OrgStore, object: string, body: Record<string, unknown>): Record<string, FieldValue> {
  const def = store.object(object);
  if (!def) throw new HttpError(404, 'NOT_FOUND', `Unknown object ${object}`);
  const out: Record<string, FieldValue> = {};
  for (const [k, v] of Object.entries(body)) {
    const f = def.fields.find((x) => x.name === k);
    if (!f) throw new HttpError(400, 'INVALID_FIELD', `No such column '${k}' on ${def.name}`);
    out[k] = coerceJson(f, v);
  }
  return out;
}

function objectOfId(store: OrgStore, id: string): string {
  const rec = store.get(id);
  const def = rec && store.objects().find((d) => rec.Id.startsWith(d.keyPrefix));
  if (!def) throw new HttpError(404, 'NOT_FOUND', `No record ${id}`);
  return def.name;
}

/**
 * FaultSpec over JSON: `route` / `soql` are substrings, `routeRegex` / `soqlRegex` regular expression sources
 * (`soqlRegexFlags`, e.g. "i", applies to soqlRegex).
 */
function faultFromJson(body: Record<string, unknown>): FaultSpec {
  const { routeRegex, soqlRegex, soqlRegexFlags, ...rest } = body;
  const spec = { ...rest } as FaultSpec;
  if (typeof routeRegex === 'string') spec.route = new RegExp(routeRegex);
  if (typeof soqlRegex === 'string')
    spec.soql = new RegExp(soqlRegex, typeof soqlRegexFlags === 'string' ? soqlRegexFlags : undefined);
  return spec;
}

const optionalString = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** HTTP face of the admin API: `/__admin/...` (parts after `__admin`). */
export async function handleAdmin(ctx: Ctx, admin: EmulatorAdmin, store: OrgStore, parts: string[]): Promise<void> {
  const [area, a, b] = parts;
  const m = ctx.method;
  const res = ctx.res;
  const body = m === 'GET' || m === 'DELETE' ? {} : await readJson(ctx.req);
  if (area === 'pubsub')
    return handlePubSubAdmin(ctx, admin.pubsub, parts.slice(1), body, (object, id, values) =>
      storedValues(store, object ?? objectOfId(store, id ?? ''), (values ?? {}) as Record<string, unknown>),
    );
  if (area === 'records' && a !== undefined) {
    if (m === 'POST' && b === undefined) return sendJson(res, 201, admin.insert(a, storedValues(store, a, body)));
    if (m === 'PATCH') {
      const touch = ctx.url.searchParams.get('touch') !== 'false';
      return sendJson(res, 200, admin.update(a, storedValues(store, objectOfId(store, a), body), { touch }));
    }
    if (m === 'DELETE') {
      if (ctx.url.searchParams.get('hard') === 'true') admin.hardDelete(a);
      else admin.delete(a);
      return sendEmpty(res, 204);
    }
    if (m === 'POST' && b === 'undelete') {
      admin.undelete(a);
      return sendEmpty(res, 204);
    }
  }
  if (area === 'fields' && a !== undefined && m === 'POST') {
    const value = (body.value ?? null) as FieldValue;
    admin.addField(a, body.field as FieldDef, () => value);
    return sendEmpty(res, 204);
  }
  if (area === 'fields' && a !== undefined && b !== undefined && m === 'PATCH') {
    admin.changeField(a, b, body as FieldChanges);
    return sendEmpty(res, 204);
  }
  if (area === 'formulas' && a !== undefined && b !== undefined && m === 'POST') {
    const value = (body.value ?? null) as FieldValue;
    admin.setFormulaOverride(a, b, () => value, typeof body.formulaText === 'string' ? body.formulaText : undefined);
    return sendEmpty(res, 204);
  }
  if (area === 'deletedLog' && a !== undefined && b === 'purge' && m === 'POST') {
    admin.purgeDeletedLog(a);
    return sendEmpty(res, 204);
  }
  if (area === 'faults') {
    if (m === 'POST') {
      admin.addFault(faultFromJson(body));
      return sendEmpty(res, 204);
    }
    if (m === 'DELETE') {
      admin.clearFaults();
      return sendEmpty(res, 204);
    }
    if (m === 'GET')
      return sendJson(
        res,
        200,
        admin.faults().map((f) => ({
          ...f,
          spec: {
            ...f.spec,
            route: String(f.spec.route ?? ''),
            soql: f.spec.soql === undefined ? undefined : String(f.spec.soql),
          },
        })),
      );
  }
  if (area === 'log' && m === 'GET') return sendJson(res, 200, admin.requestLog());
  if (area === 'log' && m === 'DELETE') {
    admin.clearRequestLog();
    return sendEmpty(res, 204);
  }
  if (area === 'counters' && m === 'GET') return sendJson(res, 200, admin.counters());
  if (area === 'apiUsage' && m === 'POST') {
    admin.setApiUsage(Number(body.used), body.max === undefined ? undefined : Number(body.max));
    return sendEmpty(res, 204);
  }
  if (area === 'sessions' && a === 'expire' && m === 'POST') {
    admin.expireAllSessions();
    return sendEmpty(res, 204);
  }
  if (area === 'sessions' && a === 'revoke' && m === 'POST') {
    admin.revokeSessions({
      current: body.current === undefined ? undefined : body.current !== false,
      next: body.next === undefined ? undefined : Number(body.next),
      afterCalls: body.afterCalls === undefined ? undefined : Number(body.afterCalls),
    });
    return sendEmpty(res, 204);
  }
  if (area === 'access' && a === 'deny' && m === 'POST' && typeof body.object === 'string') {
    admin.denyObjectAccess(body.object, optionalString(body.username));
    return sendEmpty(res, 204);
  }
  if (area === 'access' && a === 'restore' && m === 'POST') {
    admin.restoreObjectAccess(optionalString(body.object), optionalString(body.username));
    return sendEmpty(res, 204);
  }
  if (area === 'access' && a === undefined && m === 'GET') return sendJson(res, 200, admin.objectAccess());
  if (area === 'sessions' && a === 'timeout' && m === 'POST') {
    admin.setSessionTimeout(Number(body.ms));
    return sendEmpty(res, 204);
  }
  if (area === 'bulkLatency' && m === 'POST') {
    admin.setBulkLatency(body as Parameters<EmulatorAdmin['setBulkLatency']>[0]);
    return sendEmpty(res, 204);
  }
  if (area === 'validationRules') {
    if (m === 'POST' && a !== undefined) {
      if (typeof body.name !== 'string' || typeof body.message !== 'string' || typeof body.condition !== 'object')
        throw new HttpError(400, 'INVALID_RULE', 'A validation rule needs name, message and condition');
      if (!store.object(a)) throw new HttpError(404, 'NOT_FOUND', `Unknown object ${a}`);
      admin.setValidationRule(a, {
        name: body.name,
        message: body.message,
        errorField: optionalString(body.errorField),
        condition: body.condition as RuleCondition,
      });
      return sendEmpty(res, 204);
    }
    if (m === 'DELETE') {
      admin.clearValidationRules(a, b);
      return sendEmpty(res, 204);
    }
    if (m === 'GET') return sendJson(res, 200, admin.validationRules());
  }
  if (area === 'refreshTokens' && m === 'POST') {
    return sendJson(res, 200, {
      refresh_token: admin.issueRefreshToken(typeof body.username === 'string' ? body.username : undefined),
    });
  }
  throw new HttpError(404, 'NOT_FOUND', 'Unknown admin route');
}
