// Public entry of the local Salesforce emulator: an org (store) behind the real wire protocols over node:http.
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { createObjectAccess } from './access.ts';
import { type EmulatorAdmin, type RequestLogEntry, createAdmin } from './admin.ts';
import { createBulkIngest } from './bulkIngest.ts';
import type { BulkSettings } from './bulkJobs.ts';
import { createBulkQuery } from './bulkQuery.ts';
import { createFaults } from './faults.ts';
import { makeId } from './ids.ts';
import { createConnectedAppKeys } from './keys.ts';
import { createLimits } from './limits.ts';
import { type OrgUser, createOAuthServer } from './oauth.ts';
import type { ProfileName } from './profile.ts';
import { type PubSub, type PubSubControl, type PubSubOptions, createPubSub } from './pubsub/service.ts';
import { createRest } from './rest.ts';
import { closeServer, createRequestHandler, listen } from './server.ts';
import { createOrgStore } from './store.ts';
import type { OrgStore } from './types.ts';
import { createValidationRules } from './validationRules.ts';

export type { EmulatorAdmin, RequestLogEntry } from './admin.ts';
export { ENTERPRISE } from './enterprise.ts';
export type { FaultSpec } from './faults.ts';
export { PROFILES, type ProfileName, isProfileName } from './profile.ts';
export type { PubSubControl, PubSubOptions, TransactionOp } from './pubsub/service.ts';

export interface EmulatorOptions {
  /** 0 (default) = a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  seed?: number;
  /**
   * Which org: `demo` (default, the small org of seed.ts) or `enterprise`: the demo org plus a 624-field Account with
   * namespaced, geolocation and json fields, archived Tasks/Events, AccountShare (not replicateable), TaskStatus (no
   * Bulk) and a namespaced custom object with a long History name (enterprise.ts ENTERPRISE names them).
   */
  profile?: ProfileName;
  /** Start of the org's record clock (SystemModstamp, deletedDate); default now. HTTP Date headers stay real time. */
  clockStart?: Date;
  /** Org size (Accounts; related objects scale with it). */
  accounts?: number;
  /** The org id in the token's identity URL (docs/salesforce.md#org-identity); one per org. Default 00D...4242. */
  orgNumber?: number;
  /** Access token lifetime (docs/salesforce.md#oauth-session-expiry). Default 2 h. */
  sessionTimeoutMs?: number;
  /** DailyApiRequests allocation. Default 15,000 (Developer Edition). */
  dailyApiLimit?: number;
  dailyBulkQueryJobs?: number;
  bulkLatencyMs?: number;
  bulkMsPerRecord?: number;
  /** Bulk result page size when the client sends no maxRecords. Default 50,000. */
  bulkDefaultMaxRecords?: number;
  /** docs/salesforce.md#bulk-api-20-csv-format: null written as a bare empty field (default) or as `""`. */
  bulkNullAs?: 'empty' | 'quoted';
  /** Served versions, ascending. Default 59.0..66.0. */
  apiVersions?: string[];
  /** Usernames pre-approved for the Connected App; default every User in the org. The first is `username`. */
  users?: string[];
  /**
   * Log in at http://localhost:PORT but hand out instance_url http://127.0.0.1:PORT, refusing API calls on the login
   * host, so clients that keep using the login host fail (docs/salesforce.md#login-hosts-and-instance-url). Default
   * true when host is 127.0.0.1.
   */
  separateLoginHost?: boolean;
  /**
   * Accepted JWT audiences besides the emulator's own origins. Default login.salesforce.com and test.salesforce.com.
   */
  audiences?: string[];
  /** Idle lifetime of REST query locators (docs/salesforce.md#query-locator-lifetime). Default 2 days. */
  queryLocatorTtlMs?: number;
  /**
   * Enables the username-password flow with this password (docs/salesforce.md#oauth-username-password-flow); blocked by
   * default.
   */
  password?: string;
  /** Bulk ingest upload cap. Default 150 MB. */
  maxUploadBytes?: number;
  /**
   * Serve the Pub/Sub API (gRPC over TLS) with Change Data Capture and platform events (docs/salesforce.md#pubsub-api):
   * true for the defaults. Off by default.
   */
  pubsub?: boolean | PubSubOptions;
  log?: Logger;
}

export interface Emulator {
  /** Instance base URL (the token endpoint's instance_url), e.g. http://127.0.0.1:PORT. */
  url: string;
  /** Login base URL for the token endpoint (and the JWT aud). */
  loginUrl: string;
  clientId: string;
  clientSecret: string;
  username: string;
  userId: string;
  orgId: string;
  privateKeyPem: string;
  privateKeyPath: string;
  store: OrgStore;
  admin: EmulatorAdmin;
  /** The Pub/Sub API's endpoint, CA and controls; undefined unless started with `pubsub`. */
  pubsub?: PubSubControl;
  close(): Promise<void>;
}

const DEFAULT_VERSIONS = ['59.0', '60.0', '61.0', '62.0', '63.0', '64.0', '65.0', '66.0'];

function orgUsers(store: OrgStore, wanted: string[] | undefined): OrgUser[] {
  const snap = store.snapshot('User');
  const known: OrgUser[] = [];
  for (let i = 0; i < snap.size; i++) {
    const rec = snap.at(i);
    if (rec && typeof rec.Username === 'string') known.push({ username: rec.Username, id: rec.Id });
  }
  if (!wanted) return known;
  return wanted.map(
    (username, i) =>
      known.find((u) => u.username.toLowerCase() === username.toLowerCase()) ?? {
        username,
        id: makeId('005', 900_000 + i),
      },
  );
}

export async function createEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const host = opts.host ?? '127.0.0.1';
  const baseStore = createOrgStore({
    seed: opts.seed,
    accounts: opts.accounts,
    clockStart: opts.clockStart,
    profile: opts.profile,
  });
  const access = createObjectAccess();
  const keys = await createConnectedAppKeys();
  const clock = () => Date.now();
  const users = orgUsers(baseStore, opts.users);
  const first = users[0];
  if (!first) throw new Error('The emulated org has no user to log in as');
  const orgId = makeId('00D', opts.orgNumber ?? 4242);
  const settings: BulkSettings = {
    bulkLatencyMs: opts.bulkLatencyMs ?? 0,
    bulkMsPerRecord: opts.bulkMsPerRecord ?? 0.001,
    bulkDefaultMaxRecords: opts.bulkDefaultMaxRecords ?? 50_000,
    bulkNullAs: opts.bulkNullAs ?? 'empty',
  };
  const limits = createLimits({
    dailyApiLimit: opts.dailyApiLimit ?? 15_000,
    dailyBulkQueryJobs: opts.dailyBulkQueryJobs,
  });
  const faults = createFaults();
  const requestLog: RequestLogEntry[] = [];
  const deletedLogPurgedAt = new Map<string, number>();
  const separate = opts.separateLoginHost ?? host === '127.0.0.1';
  const origins = { login: '', instance: '' };
  const oauth = createOAuthServer({
    orgId,
    clientId: keys.clientId,
    clientSecret: keys.clientSecret,
    publicKey: keys.publicKey,
    users,
    audiences: [],
    instanceUrl: '',
    loginUrl: '',
    sessionTimeoutMs: opts.sessionTimeoutMs ?? 2 * 3_600_000,
    password: opts.password,
    clock,
  });
  const pubsub: PubSub | undefined = opts.pubsub
    ? createPubSub(baseStore, {
        oauth,
        orgId,
        userId: first.id,
        options: opts.pubsub === true ? {} : opts.pubsub,
      })
    : undefined;
  // Every writer (REST, Bulk ingest, admin, tests) goes through the change-capturing store when Pub/Sub is on.
  const store = pubsub?.capture.store ?? baseStore;
  const bulkDeps = { store, limits, faults, settings, clock };
  const rest = createRest({
    store,
    limits,
    queryLocatorTtlMs: opts.queryLocatorTtlMs ?? 2 * 86_400_000,
    clock,
    deletedLogPurgedAt,
  });
  const rules = createValidationRules();
  const admin = createAdmin({
    store,
    faults,
    limits,
    oauth,
    access,
    settings,
    requestLog,
    deletedLogPurgedAt,
    clock,
    rules,
  });
  const handler = createRequestHandler({
    store,
    access,
    oauth,
    limits,
    faults,
    rest,
    bulkQuery: createBulkQuery(bulkDeps),
    bulkIngest: createBulkIngest({ ...bulkDeps, rules, maxUploadBytes: opts.maxUploadBytes ?? 150 * 1024 * 1024 }),
    admin,
    changeContext: pubsub?.capture,
    apiVersions: opts.apiVersions ?? DEFAULT_VERSIONS,
    requestLog,
    loginOnlyHost: () => (separate ? new URL(origins.login).host : undefined),
    log: opts.log,
  });
  const server = await listen(handler, opts.port ?? 0, host);
  const { port } = server.address() as AddressInfo;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  origins.instance = `http://${hostPart}:${port}`;
  origins.login = separate ? `http://localhost:${port}` : origins.instance;
  // `localhost` may resolve to ::1; answer there too when the system has IPv6 loopback (best effort).
  const v6 = separate ? await listen(handler, port, '::1').catch(() => undefined) : undefined;
  oauth.configure({
    instanceUrl: origins.instance,
    loginUrl: origins.login,
    audiences: [
      origins.login,
      origins.instance,
      ...(opts.audiences ?? ['https://login.salesforce.com', 'https://test.salesforce.com']),
    ],
  });
  const pubsubControl = await pubsub?.listen(host, () => origins.instance);
  admin.pubsub = pubsubControl;
  return {
    url: origins.instance,
    loginUrl: origins.login,
    clientId: keys.clientId,
    clientSecret: keys.clientSecret,
    username: first.username,
    userId: first.id,
    orgId,
    privateKeyPem: keys.privateKeyPem,
    privateKeyPath: keys.privateKeyPath,
    store,
    admin,
    pubsub: pubsubControl,
    async close() {
      await Promise.all([closeServer(server), v6 && closeServer(v6), pubsub?.close()]);
      await keys.dispose();
    },
  };
}
