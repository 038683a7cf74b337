// `sfsync stream` through the CLI against the emulator's Pub/Sub API and a real PostgreSQL, where a change event alone
// cannot say what the row is: person accounts' switchable Name, an update of a row marked deleted, and a quiet object
// whose stored replay id would outlive the retention (docs/salesforce.md#change-event-fields, #replay-ids).
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator, type PubSubOptions } from '../../emulator/index.ts';
import { startCli } from '../support/cli.ts';
import { compareTable } from '../support/compare.ts';
import { useTestDatabase } from '../support/db.ts';
import { streamEnv } from '../support/emulatorEnv.ts';
import { orgRecords } from '../support/org.ts';
import { describeSpec, syncConfig } from '../support/sync.ts';
import { until } from '../support/until.ts';

const db = useTestDatabase();
let SCHEMA = 'stream_recovery_0';
let tests = 0;
let emulator: Emulator | undefined;
let client: pg.Client;

async function start(pubsub: PubSubOptions): Promise<Emulator> {
  emulator = await createEmulator({ port: 0, accounts: 30, seed: 5, pubsub: { keepaliveMs: 200, ...pubsub } });
  SCHEMA = `stream_recovery_${++tests}`;
  return emulator;
}

const env = (em: Emulator) =>
  streamEnv(em, db.url, {
    SFSYNC_SCHEMA: SCHEMA,
  });

async function row(id: string): Promise<Record<string, unknown> | undefined> {
  const { rows } = await client.query(`SELECT * FROM ${SCHEMA}.account WHERE id = $1`, [id]);
  return rows[0];
}

const rowWhere = (id: string, ok: (r: Record<string, unknown>) => boolean) =>
  until(`account ${id}`, async () => {
    const r = await row(id);
    return r && ok(r) ? r : undefined;
  });

async function streamState(): Promise<{ status: string; replay: Buffer | null } | undefined> {
  const { rows } = await client
    .query('SELECT status, replay_id FROM sfsync.stream_state WHERE target_schema = $1', [SCHEMA])
    .catch(() => ({ rows: [] as { status: string; replay_id: Buffer | null }[] }));
  return rows[0] ? { status: rows[0].status, replay: rows[0].replay_id } : undefined;
}

const runCount = async () =>
  (await client.query('SELECT count(*)::int AS n FROM sfsync.runs WHERE target_schema = $1', [SCHEMA])).rows[0].n;

function startStream(em: Emulator) {
  const cli = startCli(['stream', '--objects', 'Account'], env(em));
  const connected = until('the stream to connect', async () => {
    const s = await streamState();
    return s?.status === 'connected' ? s : undefined;
  });
  return { ...cli, connected };
}

/** Stops a stream with SIGTERM; it must end cleanly, and its stderr is returned. */
async function stop(stream: ReturnType<typeof startStream>): Promise<string> {
  stream.child.kill('SIGTERM');
  const done = await stream.done;
  expect(done.code, done.stderr).toBe(0);
  return done.stderr;
}

/** Field for field, the table is the org. */
async function expectTableIsOrg(em: Emulator): Promise<void> {
  const spec = await describeSpec(syncConfig(env(em), ['Account']), 'Account');
  const result = await compareTable(client, SCHEMA, spec, orgRecords(em.store, 'Account'));
  expect(result.missing).toEqual([]);
  expect(result.extra).toEqual([]);
  expect(result.mismatches.slice(0, 5)).toEqual([]);
}

describe('sfsync stream recovers what an event cannot give', () => {
  beforeAll(async () => {
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  });
  afterEach(async () => {
    await emulator?.close();
    emulator = undefined;
  });
  afterAll(async () => {
    await client?.end();
  });

  it("person accounts: a business account's Name is applied, a person's read again; the stream goes on", async () => {
    const em = await start({ cdcObjects: ['Account'], personAccounts: true });
    const stream = startStream(em);
    try {
      await stream.connected;
      const person = em.store.insert('Account', {
        IsPersonAccount: true,
        Salutation: 'Ms.',
        FirstName: 'Martha',
        LastName: 'Brown',
        Phone: '+1 555 0101',
      }).Id;
      // The CREATE carries Name as the person's parts: the full name only a read by Id gives.
      await Promise.race([
        stream.done.then((r) => Promise.reject(new Error(`the stream ended: ${r.stderr}`))),
        rowWhere(person, (r) => r.name === 'Martha Brown' && r.firstname === 'Martha' && r.ispersonaccount === true),
      ]);
      // An UPDATE of FirstName: `<Name position>-0x02`, a nested bit of the switchable Name.
      em.store.update(person, { FirstName: 'Marta' });
      await rowWhere(person, (r) => r.name === 'Marta Brown' && r.firstname === 'Marta');
      // A business account's Name is the string branch: applied as it is.
      const business = em.store.insert('Account', { Name: 'Acme Streamed' }).Id;
      await rowWhere(business, (r) => r.name === 'Acme Streamed' && r.firstname === null);
      em.store.update(business, { Name: 'Acme Renamed' });
      await rowWhere(business, (r) => r.name === 'Acme Renamed');
      expect(stream.child.exitCode).toBeNull();
    } finally {
      await stop(stream);
    }
    // A restart resumes after those events, and the next one is applied too.
    const again = startStream(em);
    try {
      await again.connected;
      const seeded = orgRecords(em.store, 'Account').find((r) => r.IsDeleted === false)!;
      em.store.update(seeded.Id, { Phone: '+1 555 0102' });
      await rowWhere(seeded.Id, (r) => r.phone === '+1 555 0102');
    } finally {
      await stop(again);
    }
    await expectTableIsOrg(em);
  }, 180_000);

  it('an update of a row marked deleted (its UNDELETE older than the row) reads the record again', async () => {
    const em = await start({ cdcObjects: ['Account'] });
    const stream = startStream(em);
    try {
      await stream.connected;
      const target = orgRecords(em.store, 'Account').find((r) => r.IsDeleted === false)!;
      em.store.softDelete(target.Id);
      await rowWhere(target.Id, (r) => r.isdeleted === true);
      // The delete's re-read stored the deleted version's SystemModstamp, which may be later than the LastModifiedDate
      // the UNDELETE carries (docs/salesforce.md#change-events-and-systemmodstamp): the cursor is moved 1.5 s on so the
      // UNDELETE is older than the row and is not applied.
      await client.query(
        `UPDATE ${SCHEMA}.account SET systemmodstamp = systemmodstamp + interval '1.5 seconds' WHERE id = $1`,
        [target.Id],
      );
      em.store.undelete(target.Id);
      await new Promise((r) => setTimeout(r, 2_000));
      expect((await row(target.Id))?.isdeleted).toBe(true);
      // Changed after the row's cursor: the UPDATE meets a row marked deleted, which is stale.
      em.store.update(target.Id, { Phone: '+1 555 0142' });
      await rowWhere(target.Id, (r) => r.isdeleted === false && r.phone === '+1 555 0142');
    } finally {
      await stop(stream);
    }
    await expectTableIsOrg(em);
  }, 180_000);

  it("a quiet object's replay id follows the keepalives, so it outlives no retention", async () => {
    const em = await start({ cdcObjects: ['Account', 'Contact'] });
    const some = orgRecords(em.store, 'Account').filter((r) => r.IsDeleted === false);
    const first = startStream(em);
    try {
      await first.connected;
      em.store.update(some[0]!.Id, { Name: 'Last Account event' });
      await rowWhere(some[0]!.Id, (r) => r.name === 'Last Account event');
    } finally {
      await stop(first);
    }
    const afterEvent = (await streamState())?.replay;
    expect(afterEvent?.length).toBe(8);

    // Other objects change, Account does not: the org's event bus moves on.
    for (let i = 0; i < 3; i++) em.store.insert('Contact', { LastName: `Elsewhere ${i}` });
    const quiet = startStream(em);
    try {
      await quiet.connected;
      // A keepalive's latest replay id is past the last Account event: it is stored.
      await until('a keepalive replay id to be stored', async () => {
        const now = (await streamState())?.replay;
        return now && !now.equals(afterEvent!) ? now : undefined;
      });
    } finally {
      await stop(quiet);
    }

    // The retention passes over the last Account event: its replay id would now be refused.
    em.pubsub!.setRetention(1);
    await new Promise((r) => setTimeout(r, 20));
    expect(em.pubsub!.events('/data/AccountChangeEvent')).toEqual([]);
    em.pubsub!.setRetention(72 * 3_600_000);
    const runs = await runCount();
    const third = startStream(em);
    let stderr = '';
    try {
      await third.connected;
      em.store.update(some[1]!.Id, { Name: 'After the quiet spell' });
      await rowWhere(some[1]!.Id, (r) => r.name === 'After the quiet spell');
    } finally {
      stderr = await stop(third);
    }
    // Resumed from the stored keepalive position: no invalid replay id, no catch-up sync.
    expect(stderr).not.toContain('resubscribe-latest');
    expect(await runCount()).toBe(runs);
    await expectTableIsOrg(em);
  }, 180_000);
});
