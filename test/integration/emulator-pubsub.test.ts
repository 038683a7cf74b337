// The emulator's Pub/Sub API (docs/salesforce.md#pubsub-api, #pubsub-api-flow-control, #replay-ids,
// #pubsub-api-errors, #change-event-header, #change-event-fields) checked two ways: with salesforce-pubsub-api-client,
// a client written against the real service (the oracle: it must subscribe, decode and replay unchanged), and with
// plain grpc-js for what that client hides (flow control, keepalives, trailers).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { promisify } from 'node:util';
import PubSubApiClient from 'salesforce-pubsub-api-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/index.ts';
import { api, login } from '../support/emulatorClient.ts';
import { type FetchResponse, pubsubClient, replayIdOf } from '../support/pubsubClient.ts';

const KEEPALIVE_MS = 150;
const ACCOUNT_TOPIC = '/data/AccountChangeEvent';
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

let em: Emulator;
let token: string;

beforeAll(async () => {
  em = await createEmulator({ accounts: 5, pubsub: { keepaliveMs: KEEPALIVE_MS, cdcObjects: ['Account'] } });
  token = await login(em);
});
afterAll(async () => {
  await em?.close();
});

interface OracleEvent {
  replayId: number;
  payload: Record<string, unknown> & { ChangeEventHeader: Record<string, unknown> };
}

/** The oracle client, authenticated with a token from the emulator (user-supplied mode). */
async function oracle(org: Emulator = em, accessToken: string = token) {
  const client = new PubSubApiClient(
    {
      authType: 'user-supplied',
      accessToken,
      // The client insists on https; the emulator matches the instance URL by host.
      instanceUrl: org.url.replace('http://', 'https://'),
      organizationId: org.orgId,
      pubSubEndpoint: org.pubsub?.endpoint,
      // It trusts only its bundled Salesforce CA, so the emulator's certificate cannot be verified here.
      rejectUnauthorizedSsl: false,
    },
    quiet,
  );
  await client.connect();
  return client;
}

/** Subscribes through the oracle and collects what its callback reports. */
function collect() {
  const got = { events: [] as OracleEvent[], errors: [] as { code?: number; details?: string; metadata?: unknown }[] };
  let keepalives = 0;
  /** When the client reported its last requested event, and the end of the stream (Date.now()). */
  const at: { lastEvent?: number; end?: number } = {};
  const callback = (_info: unknown, type: string, data?: unknown) => {
    if (type === 'event') got.events.push(data as OracleEvent);
    if (type === 'error') got.errors.push(data as (typeof got.errors)[number]);
    if (type === 'grpcKeepAlive') keepalives++;
    if (type === 'lastEvent') at.lastEvent = Date.now();
    if (type === 'end') at.end = Date.now();
  };
  const until = async (pred: () => boolean, ms = 5_000) => {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`timed out with ${got.events.length} events, ${got.errors.length} errors`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return { got, callback, until, at, keepalives: () => keepalives };
}

describe('salesforce-pubsub-api-client against the emulator', () => {
  let stored: number;
  let accountId: string;

  it('subscribes, receives CREATE / UPDATE / DELETE and decodes the field bitmaps', async () => {
    const client = await oracle();
    const c = collect();
    client.subscribe(ACCOUNT_TOPIC, c.callback, 3);
    await c.until(() => c.keepalives() > 0); // the subscription is open: LATEST starts here
    const sf = api(em, token);
    const created = await sf.post(
      'sobjects/Account',
      { Name: 'Oracle Ltd', Phone: '555-0100', BillingCity: 'Paris', BillingStreet: '1 Rue' },
      { 'Sforce-Call-Options': 'client=oracle-test' },
    );
    accountId = created.json<{ id: string }>().id;
    await sf.patch(`sobjects/Account/${accountId}`, { Name: 'Oracle Plc', Phone: null, BillingCity: 'Lyon' });
    await sf.del(`sobjects/Account/${accountId}`);
    await c.until(() => c.got.events.length === 3);
    client.close();

    const [create, update, del] = c.got.events as [OracleEvent, OracleEvent, OracleEvent];
    expect(create.payload.ChangeEventHeader).toMatchObject({
      entityName: 'Account',
      recordIds: [accountId],
      changeType: 'CREATE',
      changeOrigin: 'com/salesforce/api/rest/62.0;client=oracle-test',
      sequenceNumber: 1,
      commitUser: em.userId,
      changedFields: [],
      nulledFields: [],
    });
    expect(create.payload.Name).toBe('Oracle Ltd');
    expect(create.payload.Phone).toBe('555-0100');
    expect(create.payload.BillingAddress).toMatchObject({ City: 'Paris', Street: '1 Rue', Country: null });
    expect(typeof create.payload.CreatedDate).toBe('number');

    const header = update.payload.ChangeEventHeader;
    expect(header.changeType).toBe('UPDATE');
    expect([...(header.changedFields as string[])].sort()).toEqual(
      ['BillingAddress.City', 'LastModifiedDate', 'Name', 'Phone'].sort(),
    );
    expect(header.nulledFields).toEqual(['Phone']);
    expect(update.payload.Name).toBe('Oracle Plc');
    expect(update.payload.Phone).toBeNull();
    expect(update.payload.AccountNumber).toBeNull(); // unchanged fields are not sent
    expect(typeof update.payload.LastModifiedDate).toBe('number');
    expect(header.commitTimestamp).toBeGreaterThan(create.payload.ChangeEventHeader.commitTimestamp as number);

    expect(del.payload.ChangeEventHeader).toMatchObject({ changeType: 'DELETE', recordIds: [accountId] });
    expect(del.payload.Name).toBeNull();
    // docs/salesforce.md#replay-ids: increasing, never contiguous.
    expect(update.replayId).toBeGreaterThan(create.replayId + 1);
    expect(del.replayId).toBeGreaterThan(update.replayId + 1);
    stored = create.replayId;
  });

  it('replays the events after a stored replay id', async () => {
    const client = await oracle();
    const c = collect();
    client.subscribeFromReplayId(ACCOUNT_TOPIC, c.callback, 2, stored);
    await c.until(() => c.got.events.length === 2);
    client.close();
    expect(c.got.events.map((e) => e.payload.ChangeEventHeader.changeType)).toEqual(['UPDATE', 'DELETE']);
    expect(c.got.events.every((e) => e.replayId > stored)).toBe(true);
  });

  it('refuses a replay id outside the retention window with Salesforce error', async () => {
    em.pubsub?.setRetention(1);
    await new Promise((r) => setTimeout(r, 20));
    try {
      const client = await oracle();
      const c = collect();
      client.subscribeFromReplayId(ACCOUNT_TOPIC, c.callback, 1, stored);
      await c.until(() => c.got.errors.length > 0);
      client.close();
      const err = c.got.errors[0] as { code: number; details: string; metadata: { get(k: string): unknown[] } };
      expect(err.code).toBe(3); // INVALID_ARGUMENT
      expect(err.details).toMatch(
        /^The Replay ID validation failed\. Ensure that the Replay ID is valid\. rpcId: \S+$/,
      );
      expect(err.metadata.get('error-code')).toEqual([
        'sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted',
      ]);
      expect(c.got.events).toEqual([]);
    } finally {
      em.pubsub?.setRetention(72 * 3_600_000);
    }
  });

  it('publishes and receives a platform event', async () => {
    em.pubsub?.definePlatformEvent('Order_Shipped__e', [
      { name: 'Order_Number__c', type: 'string' },
      { name: 'Weight__c', type: 'double' },
    ]);
    const client = await oracle();
    const c = collect();
    client.subscribe('/event/Order_Shipped__e', c.callback, 1);
    await c.until(() => c.keepalives() > 0);
    const result = await client.publish('/event/Order_Shipped__e', {
      CreatedDate: Date.now(),
      CreatedById: em.userId,
      Order_Number__c: { string: 'SO-42' },
      Weight__c: { double: 1.5 },
    });
    await c.until(() => c.got.events.length === 1);
    client.close();
    expect(c.got.events[0]?.payload).toMatchObject({
      Order_Number__c: 'SO-42',
      Weight__c: 1.5,
      CreatedById: em.userId,
    });
    expect(c.got.events[0]?.replayId).toBe(result.replayId);
  });

  it('decodes the shapes Salesforce sends only sometimes: merged records, a diff, a compound bit', async () => {
    const admin = (body: unknown) =>
      fetch(`${em.url}/__admin/pubsub/shapes`, {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'Content-Type': 'application/json' },
      });
    expect((await admin({ mergeRecordIds: 'yes' })).status).toBe(400);
    const on = { mergeRecordIds: true, longTextDiffs: true, compoundParentBits: true };
    expect(await (await admin(on)).json()).toEqual(on);
    try {
      const client = await oracle();
      const c = collect();
      client.subscribe(ACCOUNT_TOPIC, c.callback, 6);
      await c.until(() => c.keepalives() > 0);
      const sf = api(em, token);
      const ids: string[] = [];
      for (const name of ['Merge 1', 'Merge 2', 'Merge 3'])
        ids.push((await sf.post('sobjects/Account', { Name: name })).json<{ id: string }>().id);
      const lines = Array.from({ length: 20 }, (_, i) => `Line ${i} of a long account description.`.repeat(2));
      const long = (await sf.post('sobjects/Account', { Name: 'Long', Description: lines.join('\n') })).json<{
        id: string;
      }>().id;
      // A Bulk ingest batch is one transaction: the same change to three records is one event.
      const job = (await sf.post('jobs/ingest', { object: 'Account', operation: 'update' })).json<{ id: string }>();
      await sf.put(`jobs/ingest/${job.id}/batches`, `Id,Industry\n${ids.map((id) => `${id},Apparel`).join('\n')}\n`);
      await sf.patch(`jobs/ingest/${job.id}`, { state: 'UploadComplete' });
      expect((await sf.waitJob('ingest', job.id)).state).toBe('JobComplete');
      const edited = lines.map((l, i) => (i === 7 ? 'Line seven, rewritten.' : l)).join('\n');
      await sf.patch(`sobjects/Account/${long}`, { Description: edited, BillingCity: 'Lyon' });
      await c.until(() => c.got.events.length === 6);
      client.close();

      const [merged, diffed] = c.got.events.slice(4).map((e) => e.payload) as [
        OracleEvent['payload'],
        OracleEvent['payload'],
      ];
      expect(merged.ChangeEventHeader).toMatchObject({ changeType: 'UPDATE', recordIds: ids });
      expect([...(merged.ChangeEventHeader.changedFields as string[])].sort()).toEqual([
        'Industry',
        'LastModifiedDate',
      ]);
      expect(merged.Industry).toBe('Apparel');
      const header = diffed.ChangeEventHeader;
      expect(header.diffFields).toEqual(['Description']);
      expect([...(header.changedFields as string[])].sort()).toEqual(
        ['BillingAddress', 'BillingAddress.City', 'Description', 'LastModifiedDate'].sort(),
      );
      const sha = createHash('sha256').update(edited).digest('hex');
      expect(diffed.Description).toBe(`--- \n+++ ${sha}\n@@ -8,1 +8,1 @@\n-${lines[7]}\n+Line seven, rewritten.`);
    } finally {
      em.pubsub?.setEventShapes({ mergeRecordIds: false, longTextDiffs: false, compoundParentBits: false });
    }
  });
});

/**
 * GetTopic from a separate Node process with grpc-js's default roots, as the CLI would, under these CA variables
 * (both cleared first): prints the status code (0 = OK).
 */
async function childGetTopic(caEnv: Record<string, string>): Promise<string> {
  const script = `
    import { createRequire } from 'node:module';
    import { dirname, join } from 'node:path';
    const require = createRequire(process.cwd() + '/');
    const grpc = require('@grpc/grpc-js');
    const loader = require('@grpc/proto-loader');
    const proto = join(dirname(require.resolve('salesforce-pubsub-api-client')), '..', 'pubsub_api.proto');
    const pkg = grpc.loadPackageDefinition(loader.loadSync(proto, {}));
    const md = new grpc.Metadata();
    for (const [k, v] of Object.entries(JSON.parse(process.argv[1]))) md.set(k, v);
    const client = new pkg.eventbus.v1.PubSub(process.argv[2], grpc.credentials.createSsl());
    client.GetTopic({ topicName: '${ACCOUNT_TOPIC}' }, md, (err) => {
      console.log(err ? err.code : 0);
      client.close();
    });
  `;
  const md = JSON.stringify({ accesstoken: token, instanceurl: em.url, tenantid: em.orgId });
  const env: Record<string, string | undefined> = { ...process.env, ...caEnv };
  for (const k of ['NODE_EXTRA_CA_CERTS', 'GRPC_DEFAULT_SSL_ROOTS_FILE_PATH']) if (!(k in caEnv)) delete env[k];
  const args = ['--input-type=module', '-e', script, md, em.pubsub?.endpoint ?? ''];
  // Asynchronous: the emulator answering the child lives in this process.
  const { stdout } = await promisify(execFile)(process.execPath, args, { env, encoding: 'utf8' });
  return stdout.trim();
}

describe('Pub/Sub API over plain grpc-js', () => {
  it('speaks TLS only: trusted via NODE_EXTRA_CA_CERTS or GRPC_DEFAULT_SSL_ROOTS_FILE_PATH, not without', async () => {
    const { caPath = '', caBundlePath = '' } = em.pubsub ?? {};
    expect(await childGetTopic({ NODE_EXTRA_CA_CERTS: caPath })).toBe('0');
    expect(await childGetTopic({ GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: caBundlePath })).toBe('0');
    // grpc-js trusts the GRPC_DEFAULT_SSL_ROOTS_FILE_PATH file alone, whatever NODE_EXTRA_CA_CERTS says.
    const system = join(await mkdtemp(join(tmpdir(), 'pubsub-test-')), 'roots.pem');
    await writeFile(system, rootCertificates.join('\n'));
    expect(await childGetTopic({ NODE_EXTRA_CA_CERTS: caPath, GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: system })).toBe('14');
    expect(await childGetTopic({})).toBe('14'); // UNAVAILABLE: the certificate is not trusted
  });

  it('answers GetTopic / GetSchema, and NOT_FOUND for an object not selected for CDC', async () => {
    const c = pubsubClient(em, token);
    const topic = await c.getTopic({ topicName: ACCOUNT_TOPIC });
    expect(topic).toMatchObject({ topicName: ACCOUNT_TOPIC, canPublish: false });
    const schema = JSON.parse((await c.getSchema({ schemaId: topic.schemaId })).schemaJson);
    expect(schema).toMatchObject({ type: 'record', name: 'AccountChangeEvent', namespace: 'com.sforce.eventbus' });
    expect(schema.fields[0].name).toBe('ChangeEventHeader');
    const names = schema.fields.map((f: { name: string }) => f.name);
    expect(names).not.toContain('Id');
    expect(names).not.toContain('SystemModstamp');
    expect(names).not.toContain('BillingCity'); // a component lives inside BillingAddress
    const err = await c.getTopic({ topicName: '/data/LeadChangeEvent' }).catch((e) => e);
    expect(err.code).toBe(5); // NOT_FOUND
    expect(err.details).toMatch(/topic \/data\/LeadChangeEvent not found/);
    c.close();
  });

  it('never delivers more than requested, takes more requests on one stream and reports what is owed', async () => {
    em.pubsub?.enableCdc('Invoice__c');
    const ids = em.pubsub?.applyTransaction(
      [1, 2, 3, 4, 5].map((n) => ({ op: 'insert' as const, object: 'Invoice__c', values: { Name: `INV-${n}` } })),
    );
    const c = pubsubClient(em, token);
    const sub = c.subscribe({ topicName: '/data/Invoice__ChangeEvent', replayPreset: 'EARLIEST', numRequested: 2 });
    await sub.until((s) => s.events().length === 2);
    expect(sub.responses.at(-1)?.pendingNumRequested).toBe(0);
    // Three keepalive periods: still only the two requested, and no keepalives: they come only while events are owed.
    await new Promise((r) => setTimeout(r, KEEPALIVE_MS * 3));
    expect(sub.events()).toHaveLength(2);
    expect(sub.responses.filter((r) => r.events.length === 0)).toEqual([]);
    expect(sub.status).toBeUndefined();
    sub.request({ numRequested: 10 });
    await sub.until((s) => s.events().length === 5);
    const last = sub.responses.filter((r) => r.events.length > 0).at(-1) as FetchResponse;
    expect(last.pendingNumRequested).toBe(7);

    const decoded = await Promise.all(sub.events().map((e) => c.decode(e)));
    const headers = decoded.map((d) => d.ChangeEventHeader as Record<string, unknown>);
    expect(headers.map((h) => h.recordIds)).toEqual(ids?.map((id) => [id]));
    expect(new Set(headers.map((h) => h.transactionKey)).size).toBe(1);
    expect(headers.map((h) => h.sequenceNumber)).toEqual([1, 2, 3, 4, 5]);
    expect(new Set(headers.map((h) => h.commitNumber)).size).toBe(1);
    expect(decoded.map((d) => d.Name)).toEqual(['INV-1', 'INV-2', 'INV-3', 'INV-4', 'INV-5']);
    const replayIds = sub.events().map((e) => replayIdOf(e.replayId));
    for (let i = 1; i < replayIds.length; i++) expect(replayIds[i]! - replayIds[i - 1]!).toBeGreaterThan(1n);
    sub.close();
    c.close();
  });

  it('sends keepalives with the latest replay id at the configured interval', async () => {
    const c = pubsubClient(em, token);
    const started = Date.now();
    const sub = c.subscribe({ topicName: ACCOUNT_TOPIC, numRequested: 1 });
    await sub.until((s) => s.responses.length >= 3);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(KEEPALIVE_MS * 3 - 50);
    for (const r of sub.responses) {
      expect(r.events).toEqual([]);
      expect(r.latestReplayId).toHaveLength(8);
      expect(r.pendingNumRequested).toBe(1);
    }
    sub.close();
    c.close();
  });

  it('publishes gap and overflow events as headers only', async () => {
    const c = pubsubClient(em, token);
    const sub = c.subscribe({ topicName: ACCOUNT_TOPIC, numRequested: 2 });
    await sub.until((s) => s.responses.length > 0);
    const id = em.store.insert('Account', { Name: 'Gap target' }).Id;
    await sub.until((s) => s.events().length === 1);
    em.pubsub?.injectGap('Account', 'GAP_UPDATE', [id]);
    em.pubsub?.injectGap('Account', 'GAP_OVERFLOW');
    await sub.until((s) => s.events().length === 2);
    const gap = await c.decode(sub.events()[1]!);
    expect(gap.ChangeEventHeader).toMatchObject({ changeType: 'GAP_UPDATE', recordIds: [id], changedFields: [] });
    expect(gap.Name).toBeNull();
    sub.request({ numRequested: 1 });
    await sub.until((s) => s.events().length === 3);
    const overflow = await c.decode(sub.events()[2]!);
    expect(overflow.ChangeEventHeader).toMatchObject({ changeType: 'GAP_OVERFLOW', recordIds: [] });
    sub.close();
    c.close();
  });

  it('runs each Bulk ingest batch as one transaction, on both channels', async () => {
    const c = pubsubClient(em, token);
    const all = c.subscribe({ topicName: '/data/ChangeEvents', numRequested: 10 });
    await all.until((s) => s.responses.length > 0);
    const sf = api(em, token);
    const job = (await sf.post('jobs/ingest', { object: 'Account', operation: 'insert' })).json<{ id: string }>();
    await sf.put(`jobs/ingest/${job.id}/batches`, 'Name,Industry\nBulk A,Energy\nBulk B,Retail\nBulk C,\n');
    await sf.patch(`jobs/ingest/${job.id}`, { state: 'UploadComplete' });
    expect((await sf.waitJob('ingest', job.id)).state).toBe('JobComplete');
    await all.until((s) => s.events().length === 3);
    const headers = (await Promise.all(all.events().map((e) => c.decode(e)))).map(
      (d) => d.ChangeEventHeader as Record<string, unknown>,
    );
    expect(headers.map((h) => h.changeType)).toEqual(['CREATE', 'CREATE', 'CREATE']);
    expect(headers.map((h) => h.sequenceNumber)).toEqual([1, 2, 3]);
    expect(new Set(headers.map((h) => h.transactionKey)).size).toBe(1);
    expect(headers[0]?.changeOrigin).toBe('com/salesforce/api/bulk/62.0');
    all.close();
    c.close();
  });

  it('offers its controls over HTTP under /__admin/pubsub/', async () => {
    const admin = (path: string, init?: RequestInit) => fetch(`${em.url}/__admin/pubsub/${path}`, init);
    const post = (path: string, body: unknown) =>
      admin(path, { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
    expect(await (await admin('ca')).text()).toBe(em.pubsub?.caPem);
    expect((await post('cdc/Opportunity', {})).status).toBe(204);
    const account = em.store.insert('Account', { Name: 'Parent' }).Id;
    const tx = await post('transaction', {
      origin: 'admin-test',
      operations: [
        {
          op: 'insert',
          object: 'Opportunity',
          values: { Name: 'Deal', StageName: 'Prospecting', CloseDate: '2024-03-01', AccountId: account },
        },
        {
          op: 'insert',
          object: 'Opportunity',
          values: { Name: 'Deal 2', StageName: 'Closed Won', CloseDate: '2024-03-02' },
        },
      ],
    });
    const { ids } = (await tx.json()) as { ids: string[] };
    expect((await post('gap', { object: 'Opportunity', changeType: 'GAP_DELETE', recordIds: [ids[0]] })).status).toBe(
      204,
    );
    expect((await post('gap', { object: 'Opportunity', changeType: 'UPDATE' })).status).toBe(400);
    const events = (await (await admin('events?topic=/data/OpportunityChangeEvent')).json()) as {
      replayId: string;
      payload: { ChangeEventHeader: Record<string, unknown>; CloseDate: number | null; IsWon: boolean | null };
    }[];
    expect(events.map((e) => e.payload.ChangeEventHeader.changeType)).toEqual(['CREATE', 'CREATE', 'GAP_DELETE']);
    expect(events[0]?.payload.ChangeEventHeader).toMatchObject({ changeOrigin: 'admin-test', recordIds: [ids[0]] });
    expect(events[1]?.payload.ChangeEventHeader.transactionKey).toBe(
      events[0]?.payload.ChangeEventHeader.transactionKey,
    );
    expect(events[0]?.payload.CloseDate).toBe(Date.UTC(2024, 2, 1)); // a date: epoch ms of its midnight UTC
    expect(events[1]?.payload.IsWon).toBe(true); // derived fields are part of the change
    expect(BigInt(events[2]!.replayId)).toBeGreaterThan(BigInt(events[1]!.replayId));
  });

  it('refuses a bad token, and ends an open stream once its session is revoked', async () => {
    const bad = pubsubClient(em, `${em.orgId.slice(0, 15)}!not-a-session`);
    const err = await bad.getTopic({ topicName: ACCOUNT_TOPIC }).catch((e) => e);
    expect(err.code).toBe(16); // UNAUTHENTICATED
    expect(err.details).toMatch(
      /^An authentication exception occurred\. Provide valid authentication via metadata headers\. rpcId: \S+$/,
    );
    expect(err.metadata.get('error-code')).toEqual(['sfdc.platform.eventbus.grpc.service.auth.error']);
    bad.close();

    // An org of its own: revoking every session must not end the oracle's streams above, which it cannot cancel.
    const other = await createEmulator({ accounts: 1, pubsub: { keepaliveMs: KEEPALIVE_MS, cdcObjects: ['Account'] } });
    try {
      const c = pubsubClient(other, await login(other));
      const sub = c.subscribe({ topicName: ACCOUNT_TOPIC, numRequested: 1 });
      await sub.until((s) => s.responses.length > 0);
      other.admin.revokeSessions();
      await sub.until((s) => s.error !== undefined);
      expect(sub.error?.code).toBe(16);
      expect(sub.error?.metadata.get('error-code')).toEqual(['sfdc.platform.eventbus.grpc.service.auth.error']);
      c.close();
    } finally {
      await other.close();
    }
  });
});

/**
 * docs/salesforce.md#pubsub-api-flow-control as Salesforce does it, with the 60 s a stream owed nothing waits for a
 * FetchRequest shortened: at most 100 events owed across requests, keepalives only while some are owed, and the stream
 * closed when nothing is owed and no request comes in time.
 */
describe('Pub/Sub flow control limits', () => {
  const REFETCH_MS = 1_500;
  // Bounds on the close are loose: the client can read the last event late on a busy machine, and the test only has
  // to tell "closed after the timeout" from "closed at once" and "never closed".
  const SOON = REFETCH_MS / 2;
  const LATE = REFETCH_MS * 10;
  let org: Emulator;
  let orgToken: string;
  beforeAll(async () => {
    org = await createEmulator({
      accounts: 2,
      pubsub: { keepaliveMs: KEEPALIVE_MS, refetchTimeoutMs: REFETCH_MS, cdcObjects: ['Account', 'Invoice__c'] },
    });
    orgToken = await login(org);
  });
  afterAll(async () => {
    await org?.close();
  });
  const insertAccounts = (n: number, prefix: string) =>
    org.pubsub?.applyTransaction(
      Array.from({ length: n }, (_, i) => ({
        op: 'insert' as const,
        object: 'Account',
        values: { Name: `${prefix} ${i}` },
      })),
    );

  it('official client: a subscription for n events ends after them; an endless one asks on past 100', async () => {
    const finite = await oracle(org, orgToken);
    const endless = await oracle(org, orgToken);
    try {
      const f = collect();
      const e = collect();
      finite.subscribe(ACCOUNT_TOPIC, f.callback, 2);
      endless.subscribe('/data/ChangeEvents', e.callback);
      await f.until(() => f.keepalives() > 0 && e.keepalives() > 0);
      // More than the 100 one request can be owed: the endless subscription gets them by asking again.
      insertAccounts(150, 'Oracle flow');
      await e.until(() => e.got.events.length === 150);
      await f.until(() => f.got.events.length === 2 && f.at.lastEvent !== undefined);
      const before = f.keepalives();
      // The finite subscription asks for nothing more: no keepalives, and the server closes the stream in time.
      await f.until(() => f.at.end !== undefined, LATE);
      expect(f.keepalives()).toBe(before);
      expect(f.at.end! - f.at.lastEvent!).toBeGreaterThanOrEqual(SOON);
      expect(f.got.errors).toEqual([]);
      expect(f.got.events.map((x) => x.payload.Name)).toEqual(['Oracle flow 0', 'Oracle flow 1']);
      // The endless one is still owed 50: it hears keepalives and stays open past the timeout.
      const heard = e.keepalives();
      await new Promise((r) => setTimeout(r, REFETCH_MS * 1.5));
      expect(e.at.end).toBeUndefined();
      expect(e.keepalives()).toBeGreaterThan(heard);
      expect(e.got.events.map((x) => x.payload.Name)).toEqual(
        Array.from({ length: 150 }, (_, i) => `Oracle flow ${i}`),
      );
    } finally {
      finite.close();
      endless.close();
    }
  });

  it('owes at most 100 events across all requests, and asked again in time goes on', async () => {
    const c = pubsubClient(org, orgToken);
    const sub = c.subscribe({ topicName: ACCOUNT_TOPIC, numRequested: 70 });
    sub.request({ numRequested: 70 });
    // A keepalive proves both requests arrived before the events are published.
    await sub.until((s) => s.responses.length > 0);
    expect(sub.responses[0]?.pendingNumRequested).toBe(100);
    insertAccounts(150, 'Capped');
    await sub.until((s) => s.events().length === 100);
    await new Promise((r) => setTimeout(r, KEEPALIVE_MS * 3));
    expect(sub.events()).toHaveLength(100);
    expect(sub.responses.at(-1)).toMatchObject({ pendingNumRequested: 0 });
    expect(sub.responses.at(-1)?.events.length).toBeGreaterThan(0);
    sub.request({ numRequested: 500 });
    await sub.until((s) => s.events().length === 150);
    expect(sub.responses.at(-1)?.pendingNumRequested).toBe(50);
    const names = await Promise.all(sub.events().map(async (e) => (await c.decode(e)).Name));
    expect(names).toEqual(Array.from({ length: 150 }, (_, i) => `Capped ${i}`));
    expect(sub.status).toBeUndefined();
    sub.close();
    c.close();
  });

  it('closes a stream owed nothing when no FetchRequest comes within the timeout of the last response', async () => {
    const c = pubsubClient(org, orgToken);
    const sub = c.subscribe({ topicName: '/data/Invoice__ChangeEvent', numRequested: 1 });
    await sub.until((s) => s.responses.length > 0);
    org.pubsub?.applyTransaction([{ op: 'insert', object: 'Invoice__c', values: { Name: 'INV-closing' } }]);
    await sub.until((s) => s.events().length === 1);
    const last = sub.receivedAt.at(-1)!;
    await sub.until((s) => s.status !== undefined, LATE);
    expect(sub.status?.code).toBe(0);
    expect(sub.status!.at - last).toBeGreaterThanOrEqual(SOON);
    // Nothing after the event: no keepalive while nothing was owed.
    expect(sub.responses.at(-1)?.events).toHaveLength(1);
    expect(sub.error).toBeUndefined();
    c.close();
  });
});
