// `sfsync stream` through the CLI against the emulator's Pub/Sub API (gRPC over TLS) and a real PostgreSQL: change
// events of every kind into the table sync keeps, gap recovery, and a restart that resumes from the stored replay id.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/index.ts';
import { lastLine, runCli, startCli } from '../support/cli.ts';
import { compareTable } from '../support/compare.ts';
import { useTestDatabase } from '../support/db.ts';
import { streamEnv } from '../support/emulatorEnv.ts';
import { orgRecords } from '../support/org.ts';
import { describeSpec, syncConfig } from '../support/sync.ts';
import { until } from '../support/until.ts';

const db = useTestDatabase();
let SCHEMA = 'stream_0';
let tests = 0;
let emulator: Emulator;
let client: pg.Client;

/**
 * A gRPC roots file without the emulator's CA, as Debian images set GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: grpc-js alone
 * would then trust that file only; the stream must still trust NODE_EXTRA_CA_CERTS.
 */
const grpcRoots = path.join(mkdtempSync(path.join(tmpdir(), 'sfsync-grpc-roots-')), 'roots.pem');
writeFileSync(grpcRoots, tls.rootCertificates[0]!);

const env = () =>
  streamEnv(emulator, db.url, {
    SFSYNC_SCHEMA: SCHEMA,
    GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: grpcRoots,
  });

async function row(id: string): Promise<Record<string, unknown> | undefined> {
  const { rows } = await client.query(`SELECT * FROM ${SCHEMA}.account WHERE id = $1`, [id]);
  return rows[0];
}

/** Waits until the row of `id` satisfies `ok`. */
const rowWhere = (id: string, ok: (r: Record<string, unknown>) => boolean) =>
  until(`account ${id}`, async () => {
    const r = await row(id);
    return r && ok(r) ? r : undefined;
  });

async function streamStatus(): Promise<{ status: string; replay: Buffer | null } | undefined> {
  const { rows } = await client
    .query('SELECT status, replay_id FROM sfsync.stream_state WHERE target_schema = $1', [SCHEMA])
    .catch(() => ({ rows: [] as { status: string; replay_id: Buffer | null }[] }));
  return rows[0] ? { status: rows[0].status, replay: rows[0].replay_id } : undefined;
}

const runCount = async () =>
  (await client.query(`SELECT count(*)::int AS n FROM sfsync.runs WHERE target_schema = $1`, [SCHEMA])).rows[0].n;

function startStream(args = ['--objects', 'Account']) {
  const cli = startCli(['stream', ...args], env());
  const connected = until('the stream to connect', async () => {
    const s = await streamStatus();
    return s?.status === 'connected' ? s : undefined;
  });
  return { ...cli, connected };
}

describe('sfsync stream', () => {
  beforeAll(async () => {
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  });
  beforeEach(async () => {
    emulator = await createEmulator({
      port: 0,
      accounts: 40,
      seed: 3,
      pubsub: { keepaliveMs: 200, cdcObjects: ['Account'] },
    });
    SCHEMA = `stream_${++tests}`;
  });
  afterEach(async () => {
    await emulator?.close();
  });
  afterAll(async () => {
    await client?.end();
  });

  it('applies creates, updates with nulled fields, deletes, undeletes, a transaction and a gap; resumes', async () => {
    const first = startStream();
    try {
      await first.connected;
      // No replay id yet: the stream subscribed at LATEST and synced the object to cover the time before.
      expect(await runCount()).toBe(1);
      const live = orgRecords(emulator.store, 'Account').filter((r) => r.IsDeleted === false);
      const withPhone = live.find((r) => r.Phone !== null)!;
      expect(await row(withPhone.Id)).toMatchObject({ phone: withPhone.Phone });

      const created = emulator.store.insert('Account', { Name: 'Streamed Co', Phone: '+1 555 0100' });
      await rowWhere(created.Id, (r) => r.name === 'Streamed Co' && r.phone === '+1 555 0100');

      emulator.store.update(withPhone.Id, { Name: 'Renamed by CDC', Phone: null });
      const updated = await rowWhere(withPhone.Id, (r) => r.name === 'Renamed by CDC');
      expect(updated.phone).toBeNull();
      expect(updated.isdeleted).toBe(false);

      emulator.store.softDelete(created.Id);
      await rowWhere(created.Id, (r) => r.isdeleted === true);
      emulator.store.undelete(created.Id);
      await rowWhere(created.Id, (r) => r.isdeleted === false && r.name === 'Streamed Co');

      // One Salesforce transaction touching three records: one transactionKey.
      const [a, b] = [live[1]!, live[2]!];
      let third = '';
      emulator.pubsub!.transaction(() => {
        emulator.store.update(a.Id, { Name: 'Tx A' });
        emulator.store.update(b.Id, { Name: 'Tx B' });
        third = emulator.store.insert('Account', { Name: 'Tx C' }).Id;
      });
      await rowWhere(third, (r) => r.name === 'Tx C');
      expect((await row(a.Id))?.name).toBe('Tx A');
      expect((await row(b.Id))?.name).toBe('Tx B');

      // A gap event carries no values: the record is read again by Id. The row is made stale first, so only the
      // re-read can bring it back.
      const gap = live[3]!;
      await client.query(`UPDATE ${SCHEMA}.account SET name = 'stale', systemmodstamp = '2000-01-01' WHERE id = $1`, [
        gap.Id,
      ]);
      emulator.pubsub!.injectGap('Account', 'GAP_UPDATE', [gap.Id]);
      await rowWhere(gap.Id, (r) => r.name === gap.Name);

      // The session is revoked: the stream logs in again and subscribes again from the stored replay id.
      emulator.admin.expireAllSessions();
      emulator.store.update(gap.Id, { Phone: '+1 555 0199' });
      await rowWhere(gap.Id, (r) => r.phone === '+1 555 0199');

      const status = await runCli(['status', '--json'], env());
      expect(status.code, status.stderr).toBe(0);
      const [stream] = JSON.parse(status.stdout).streams;
      expect(stream).toMatchObject({ object: 'Account', topic: '/data/AccountChangeEvent', state: 'connected' });
      expect(stream.eventsApplied).toBe(9);
      expect(Date.parse(stream.lastEventAt)).toBeGreaterThan(Date.now() - 60_000);
      expect(stream.lagSeconds).toBeGreaterThanOrEqual(0);
    } finally {
      first.child.kill('SIGTERM');
    }
    const stopped = await first.done;
    expect(stopped.stderr).toContain('stream stopped');
    expect(stopped.stderr).toMatch(/"action":"reauth".*stream: subscription ended/);
    expect(stopped.code, stopped.stderr).toBe(0);
    const stored = await streamStatus();
    expect(stored?.status).toBe('stopped');
    expect(stored?.replay?.length).toBeGreaterThan(0);

    // Changes made while no stream runs arrive on restart from the stored replay id, with no catch-up sync.
    const target = orgRecords(emulator.store, 'Account').find((r) => r.IsDeleted === false && r.Name !== 'Tx A')!;
    emulator.store.update(target.Id, { Name: 'Changed while stopped' });
    const runs = await runCount();
    // Named in lower case this time: the same topic, replay id and status row.
    const second = startStream(['--objects', 'account']);
    try {
      await second.connected;
      await rowWhere(target.Id, (r) => r.name === 'Changed while stopped');
      expect(await runCount()).toBe(runs);
      const { rows } = await client.query('SELECT topic FROM sfsync.stream_state WHERE target_schema = $1', [SCHEMA]);
      expect(rows).toEqual([{ topic: '/data/AccountChangeEvent' }]);
    } finally {
      second.child.kill('SIGTERM');
    }
    expect((await second.done).code).toBe(0);

    await expectTableIsOrg();
  }, 300_000);

  it('a field added while the stream was stopped: the restart syncs its column in, then applies events', async () => {
    const first = startStream();
    let created = '';
    try {
      await first.connected;
      created = emulator.store.insert('Account', { Name: 'Before Tier' }).Id;
      await rowWhere(created, (r) => r.name === 'Before Tier');
    } finally {
      first.child.kill('SIGINT');
      expect((await first.done).code).toBe(0);
    }
    emulator.store.addField(
      'Account',
      { name: 'Tier__c', label: 'Tier', type: 'string', length: 20, nillable: true, custom: true },
      () => 'Silver',
    );
    const second = startStream();
    try {
      await second.connected;
      emulator.store.update(created, { Name: 'After Tier', Tier__c: 'Gold' });
      // Without the column the event failed the stream (exit 1) on every restart until a `sync` ran.
      const r = await Promise.race([second.done, rowWhere(created, (x) => x.name === 'After Tier')]);
      expect(r).toMatchObject({ name: 'After Tier', tier__c: 'Gold' });
    } finally {
      second.child.kill('SIGINT');
      expect((await second.done).code).toBe(0);
    }
  });

  it('an expired replay id and an overflow event end in syncs that cover what the events cannot give', async () => {
    const first = startStream();
    try {
      await first.connected;
      const some = orgRecords(emulator.store, 'Account').find((r) => r.IsDeleted === false)!;
      emulator.store.update(some.Id, { Name: 'Before the stop' });
      await rowWhere(some.Id, (r) => r.name === 'Before the stop');
    } finally {
      first.child.kill('SIGTERM');
    }
    expect((await first.done).code).toBe(0);

    // Changed while stopped, then the event is purged: the stored replay id is past the retention window.
    const lost = orgRecords(emulator.store, 'Account').filter((r) => r.IsDeleted === false)[5]!;
    emulator.store.update(lost.Id, { Name: 'Purged event' });
    emulator.pubsub!.setRetention(1);
    await new Promise((r) => setTimeout(r, 20));
    // The emulator purges when a topic is read.
    expect(emulator.pubsub!.events('/data/AccountChangeEvent')).toEqual([]);
    emulator.pubsub!.setRetention(72 * 3_600_000);
    const runs = await runCount();
    const second = startStream();
    try {
      await second.connected;
      // Subscribed at LATEST and synced the object: the change whose event is gone came through the sync.
      await rowWhere(lost.Id, (r) => r.name === 'Purged event');
      expect(await runCount()).toBe(runs + 1);

      // A change no event reports (the object was not selected for CDC at the time), then an overflow event: only
      // a sync of the object brings it in.
      const quiet = orgRecords(emulator.store, 'Account').filter((r) => r.IsDeleted === false)[6]!;
      emulator.pubsub!.disableCdc('Account');
      emulator.store.update(quiet.Id, { Name: 'No event for this' });
      emulator.pubsub!.enableCdc('Account');
      const before = (await streamStatus())?.replay;
      emulator.pubsub!.injectGap('Account', 'GAP_OVERFLOW');
      await rowWhere(quiet.Id, (r) => r.name === 'No event for this');
      expect(await runCount()).toBe(runs + 2);
      // The overflow event's replay id is stored once the sync has committed.
      await until('the replay id to move', async () => {
        const now = (await streamStatus())?.replay;
        return now && before && !now.equals(before) ? now : undefined;
      });
    } finally {
      second.child.kill('SIGKILL');
    }
    await second.done;
    const status = await runCli(['status'], env());
    expect(status.stdout).toMatch(/Account\s+not running/);

    // After kill -9, a new stream resumes from the replay id committed last.
    const last = orgRecords(emulator.store, 'Account').filter((r) => r.IsDeleted === false)[7]!;
    emulator.store.update(last.Id, { Name: 'After kill -9' });
    const third = startStream();
    try {
      await third.connected;
      await rowWhere(last.Id, (r) => r.name === 'After kill -9');
      expect(await runCount()).toBe(runs + 2);
    } finally {
      third.child.kill('SIGTERM');
    }
    expect((await third.done).code).toBe(0);
    await expectTableIsOrg();
    const verify = await runCli(['verify', '--objects', 'Account', '--sample', '20'], env());
    expect(verify.code, verify.stderr + verify.stdout).toBe(0);
  }, 300_000);
});

describe('sfsync stream --topics', () => {
  beforeAll(async () => {
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
    emulator = await createEmulator({ port: 0, accounts: 5, seed: 3, pubsub: { keepaliveMs: 200 } });
    SCHEMA = 'stream_events';
  });
  afterAll(async () => {
    await emulator?.close();
    await client?.end();
  });

  it('stores each platform event once, typed from its schema, from the earliest retained event on', async () => {
    const pubsub = emulator.pubsub!;
    pubsub.definePlatformEvent('Order_Shipped__e', [
      { name: 'Order_Number__c', type: 'string' },
      { name: 'Amount__c', type: 'double' },
      { name: 'Shipped__c', type: 'boolean' },
      { name: 'Ship_Date__c', type: 'date' },
    ]);
    // Published before any stream: the first one starts at the earliest retained event, so these are kept too.
    pubsub.publishPlatformEvent('Order_Shipped__e', { Order_Number__c: 'A-1', Amount__c: 12.5, Shipped__c: true });
    pubsub.publishPlatformEvent('Order_Shipped__e', { Order_Number__c: 'A-2', Amount__c: null, Shipped__c: false });
    const events = async () =>
      (
        await client.query(
          `SELECT encode(replay_id, 'hex') AS replay, published_at, order_number__c AS n, amount__c AS amount,
             shipped__c AS shipped FROM ${SCHEMA}.order_shipped__e ORDER BY replay_id`,
        )
      ).rows;
    const count = (n: number) =>
      until(`${n} events`, async () => {
        const rows = await events().catch(() => []);
        return rows.length === n ? rows : undefined;
      });
    const first = startStream(['--topics', '/event/Order_Shipped__e']);
    try {
      await first.connected;
      pubsub.publishPlatformEvent('Order_Shipped__e', { Order_Number__c: 'A-3', Amount__c: 7, Shipped__c: true });
      const rows = await count(3);
      expect(rows.map((r) => [r.n, r.amount, r.shipped])).toEqual([
        ['A-1', '12.5', true],
        ['A-2', null, false],
        ['A-3', '7', true],
      ]);
      expect(rows.every((r) => r.published_at instanceof Date)).toBe(true);
    } finally {
      first.child.kill('SIGTERM');
    }
    expect((await first.done).code).toBe(0);

    // Published while stopped: the restart resumes after the stored replay id, and nothing is stored twice.
    pubsub.publishPlatformEvent('Order_Shipped__e', { Order_Number__c: 'A-4', Amount__c: 1, Shipped__c: false });
    const second = startStream(['--topics', '/event/Order_Shipped__e']);
    try {
      await second.connected;
      expect((await count(4)).map((r) => r.n)).toEqual(['A-1', 'A-2', 'A-3', 'A-4']);
    } finally {
      second.child.kill('SIGTERM');
    }
    expect((await second.done).code).toBe(0);
    // No object was followed: --topics alone.
    const { rows } = await client.query('SELECT topic, object FROM sfsync.stream_state WHERE target_schema = $1', [
      SCHEMA,
    ]);
    expect(rows).toEqual([{ topic: '/event/Order_Shipped__e', object: 'Order_Shipped__e' }]);
  });

  it('keeps custom date and datetime fields of a platform event as date and timestamptz columns', async () => {
    const pubsub = emulator.pubsub!;
    pubsub.definePlatformEvent('Delivery_Planned__e', [
      { name: 'Order_Number__c', type: 'string' },
      { name: 'Delivery_Date__c', type: 'date' },
      { name: 'Planned_At__c', type: 'datetime' },
    ]);
    // docs/salesforce.md#change-event-fields: both are epoch-ms longs; a date is its midnight UTC.
    const plannedAt = Date.UTC(2024, 5, 10, 6, 13, 20, 123);
    const values = [
      { Order_Number__c: 'D-1', Delivery_Date__c: Date.UTC(2024, 5, 12), Planned_At__c: plannedAt },
      { Order_Number__c: 'D-2', Delivery_Date__c: Date.UTC(1969, 11, 31), Planned_At__c: Date.UTC(1969, 11, 31, 23) },
      { Order_Number__c: 'D-3', Delivery_Date__c: null, Planned_At__c: null },
    ];
    for (const v of values) pubsub.publishPlatformEvent('Delivery_Planned__e', v);
    // Not startStream: the status row it waits for would be the other topic's, of the test above.
    const stream = startCli(['stream', '--topics', '/event/Delivery_Planned__e'], env());
    try {
      await until('3 delivery events', async () => {
        const { rows } = await client
          .query(`SELECT count(*)::int AS n FROM ${SCHEMA}.delivery_planned__e`)
          .catch(() => ({ rows: [{ n: 0 }] }));
        return rows[0].n === 3 ? true : undefined;
      });
      const { rows: types } = await client.query(
        `SELECT column_name, data_type FROM information_schema.columns
         WHERE table_schema = $1 AND table_name = 'delivery_planned__e' AND column_name IN ('delivery_date__c',
           'planned_at__c') ORDER BY column_name`,
        [SCHEMA],
      );
      expect(types).toEqual([
        { column_name: 'delivery_date__c', data_type: 'date' },
        { column_name: 'planned_at__c', data_type: 'timestamp with time zone' },
      ]);
      const { rows } = await client.query(
        `SELECT order_number__c AS n, delivery_date__c::text AS day,
           to_char(planned_at__c AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS') AS at
         FROM ${SCHEMA}.delivery_planned__e ORDER BY replay_id`,
      );
      expect(rows).toEqual([
        { n: 'D-1', day: '2024-06-12', at: '2024-06-10T06:13:20.123' },
        { n: 'D-2', day: '1969-12-31', at: '1969-12-31T23:00:00.000' },
        { n: 'D-3', day: null, at: null },
      ]);
    } finally {
      stream.child.kill('SIGTERM');
    }
    expect((await stream.done).code).toBe(0);
  });

  it('names the Setup page when an object is not selected for Change Data Capture', async () => {
    const r = await runCli(['stream', '--objects', 'Opportunity'], env());
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(
      'sfsync: /data/OpportunityChangeEvent not found: is Opportunity selected for Change Data Capture',
    );
    // Nothing ran: no sync, and the status row says why the stream stopped.
    expect(await runCount()).toBe(0);
    const { rows } = await client.query(
      'SELECT status, error FROM sfsync.stream_state WHERE target_schema = $1 AND object = $2',
      [SCHEMA, 'Opportunity'],
    );
    expect(rows[0].status).toBe('stopped');
    expect(rows[0].error).toContain('selected for Change Data Capture');
  });

  it('stops at once with one line when the endpoint certificate is not trusted, never retrying it', async () => {
    const { NODE_EXTRA_CA_CERTS: _trusted, ...untrusted } = env();
    const started = Date.now();
    const r = await runCli(['stream', '--objects', 'Account'], untrusted);
    expect(r.code, r.stderr).toBe(2);
    // The warning that the subscription ended, then the one line of the error.
    expect(lastLine(r.stderr)).toMatch(
      /^sfsync: Subscribe \/data\/AccountChangeEvent: TLS_VERIFICATION: .*certificate/,
    );
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('refuses a topic that is not a platform event', async () => {
    const r = await runCli(['stream', '--topics', '/data/AccountChangeEvent'], env());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--topics: '/data/AccountChangeEvent' is not");
  });
});

/** Field for field, the table is the org. */
async function expectTableIsOrg(): Promise<void> {
  const spec = await describeSpec(syncConfig(env(), ['Account']), 'Account');
  const result = await compareTable(client, SCHEMA, spec, orgRecords(emulator.store, 'Account'));
  expect(result.missing).toEqual([]);
  expect(result.extra).toEqual([]);
  expect(result.mismatches.slice(0, 5)).toEqual([]);
}
