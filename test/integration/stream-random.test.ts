// `sfsync stream` under a seeded random load of Account and Contact changes (compound names and addresses, nulls,
// deletes, undeletes, multi-record transactions), with kill -9 mid-stream, retention expiry while stopped, an overflow
// event, and a `sync` of the same object running at once. Afterwards the tables are the org, field for field, and
// `sfsync verify --sample` agrees.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/index.ts';
import type { FieldValue, SfRecord } from '../../emulator/types.ts';
import { runCli, startCli } from '../support/cli.ts';
import { compareTable } from '../support/compare.ts';
import { useTestDatabase } from '../support/db.ts';
import { emulatorEnv } from '../support/emulatorEnv.ts';
import { orgRecords } from '../support/org.ts';
import { prng } from '../support/prng.ts';
import { describeSpec, syncConfig } from '../support/sync.ts';
import { until } from '../support/until.ts';

const SEED = 20261206;
const OBJECTS = ['Account', 'Contact'] as const;
const SCHEMA = 'stream_random';
const db = useTestDatabase();
let emulator: Emulator;
let client: pg.Client;
const rand = prng(SEED);

const env = () =>
  emulatorEnv(emulator, db.url, {
    SFSYNC_SCHEMA: SCHEMA,
    SF_PUBSUB_ENDPOINT: emulator.pubsub!.endpoint,
    NODE_EXTRA_CA_CERTS: emulator.pubsub!.caPath,
  });

const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
const maybeNull = (v: FieldValue): FieldValue => (rand() < 0.25 ? null : v);
const word = () => `w${Math.floor(rand() * 1e6)}`;

/** A random change of a few fields the object lets one write, nulls included. */
function values(object: (typeof OBJECTS)[number]): Record<string, FieldValue> {
  const all: Record<string, () => FieldValue> =
    object === 'Account'
      ? {
          Name: () => `Acct ${word()}`,
          Phone: () => maybeNull(`+1 555 ${Math.floor(rand() * 9000) + 1000}`),
          BillingCity: () => maybeNull(`City ${word()}`),
          BillingStreet: () => maybeNull(`${Math.floor(rand() * 99)} Main St\nSuite ${word()}`),
          AnnualRevenue: () => maybeNull(String(Math.floor(rand() * 1e7))),
          NumberOfEmployees: () => maybeNull(String(Math.floor(rand() * 5000))),
        }
      : {
          FirstName: () => maybeNull(`First ${word()}`),
          LastName: () => `Last ${word()}`,
          Email: () => maybeNull(`${word()}@example.com`),
          MailingCity: () => maybeNull(`Town ${word()}`),
          Birthdate: () => maybeNull(`19${Math.floor(rand() * 90) + 10}-0${Math.floor(rand() * 9) + 1}-15`),
          HasOptedOutOfEmail: () => rand() < 0.5,
        };
  const names = Object.keys(all).filter(() => rand() < 0.5);
  const chosen = names.length > 0 ? names : [Object.keys(all)[0]!];
  return Object.fromEntries(chosen.map((n) => [n, all[n]!()]));
}

const records = (object: string, deleted: boolean): SfRecord[] =>
  orgRecords(emulator.store, object).filter((r) => r.IsDeleted === deleted);

/** One random change in the org (each write publishes its change events while the object is selected for CDC). */
function change(): void {
  const object = pick(OBJECTS);
  const roll = rand();
  const live = records(object, false);
  if (roll < 0.35 && live.length > 0) emulator.store.update(pick(live).Id, values(object));
  else if (roll < 0.55)
    emulator.store.insert(object, { ...values(object), ...(object === 'Account' ? { Name: `New ${word()}` } : {}) });
  else if (roll < 0.65 && live.length > 5) emulator.store.softDelete(pick(live).Id);
  else if (roll < 0.75) {
    const deleted = records(object, true);
    if (deleted.length > 0) emulator.store.undelete(pick(deleted).Id);
  } else
    emulator.pubsub!.transaction(() => {
      for (let i = 0; i < 2 + Math.floor(rand() * 3); i++) {
        const o = pick(OBJECTS);
        emulator.store.update(pick(records(o, false)).Id, values(o));
      }
    });
}

async function changes(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    change();
    if (rand() < 0.3) await new Promise((r) => setTimeout(r, 20));
  }
}

const connectedStreams = async () =>
  (
    await client
      .query(`SELECT count(*)::int AS n FROM sfsync.stream_state WHERE target_schema = $1 AND status = 'connected'`, [
        SCHEMA,
      ])
      .catch(() => ({ rows: [{ n: 0 }] }))
  ).rows[0].n as number;

async function startStream() {
  const cli = startCli(['stream', '--objects', OBJECTS.join(',')], env());
  await until('both streams to connect', async () => ((await connectedStreams()) === 2 ? true : undefined));
  return cli;
}

async function differences(object: string) {
  const spec = await describeSpec(syncConfig(env(), [object]), object);
  return compareTable(client, SCHEMA, spec, orgRecords(emulator.store, object));
}

/** Waits until both tables hold every change made so far (the stream applied them). */
async function caughtUp(): Promise<void> {
  await until(
    'the tables to catch up',
    async () => {
      for (const o of OBJECTS) {
        const d = await differences(o);
        if (d.missing.length + d.extra.length + d.mismatches.length > 0) return undefined;
      }
      return true;
    },
    45_000,
  );
}

const replayIds = async (): Promise<(Buffer | null)[]> =>
  (
    await client.query('SELECT replay_id FROM sfsync.stream_state WHERE target_schema = $1 ORDER BY topic', [SCHEMA])
  ).rows.map((r) => r.replay_id);

describe(`sfsync stream under random changes (seed ${SEED})`, () => {
  beforeAll(async () => {
    emulator = await createEmulator({
      port: 0,
      accounts: 30,
      seed: 11,
      pubsub: { keepaliveMs: 200, cdcObjects: [...OBJECTS] },
    });
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await emulator?.close();
  });

  it('converges on the org through kill -9, retention expiry, overflow and a concurrent sync', async () => {
    // Round 1: a burst applied, then killed with -9 in the middle of the next burst.
    let stream = await startStream();
    await changes(15);
    await caughtUp();
    await changes(5);
    stream.child.kill('SIGKILL');
    await changes(10);
    await stream.done;
    const stored = await replayIds();
    expect(stored.every((r) => r !== null)).toBe(true);

    // Round 2: resumes from the stored replay ids; an overflow event and a concurrent sync of Account while changes
    // keep coming.
    stream = await startStream();
    await changes(10);
    emulator.pubsub!.injectGap('Contact', 'GAP_OVERFLOW');
    const sync = runCli(['sync', '--objects', 'Account', '--wait-for-lock'], env());
    await changes(15);
    const synced = await sync;
    expect(synced.code, synced.stderr).toBe(0);
    await caughtUp();
    stream.child.kill('SIGTERM');
    expect((await stream.done).code).toBe(0);

    // Round 3: while stopped, changes whose events then pass the retention window.
    await changes(10);
    emulator.pubsub!.setRetention(1);
    await new Promise((r) => setTimeout(r, 20));
    // The emulator purges when a topic is read.
    for (const o of OBJECTS) expect(emulator.pubsub!.events(`/data/${o}ChangeEvent`)).toEqual([]);
    emulator.pubsub!.setRetention(72 * 3_600_000);
    stream = await startStream();
    await changes(15);
    await caughtUp();
    stream.child.kill('SIGTERM');
    const last = await stream.done;
    expect(last.code).toBe(0);
    // Both stored replay ids had expired: each stream started again from LATEST with a catch-up sync.
    expect(last.stderr.match(/resubscribe-latest/g)?.length).toBe(2);
    // Syncs per object: the first catch-up, the concurrent sync (Account) or the overflow (Contact), the last catch-up.
    const { rows } = await client.query(
      `SELECT object, count(*)::int AS n FROM sfsync.runs WHERE target_schema = $1 AND mode <> 'reconcile'
       GROUP BY object ORDER BY object`,
      [SCHEMA],
    );
    expect(rows).toEqual([
      { object: 'Account', n: 3 },
      { object: 'Contact', n: 3 },
    ]);
    for (const o of OBJECTS) {
      const d = await differences(o);
      expect(d.missing, o).toEqual([]);
      expect(d.extra, o).toEqual([]);
      expect(d.mismatches.slice(0, 5), o).toEqual([]);
      expect(d.compared).toBeGreaterThan(20);
    }
    const verify = await runCli(['verify', '--objects', OBJECTS.join(','), '--sample', '30'], env());
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  }, 300_000);
});
