// `sfsync stream` through the CLI against the emulator's Pub/Sub API and a real PostgreSQL, with each change event
// shape Salesforce sends only sometimes turned on (docs/salesforce.md#change-event-header, #change-event-fields): one
// event for several records, a long text area sent as a diff, a compound's own bit beside its nested entry. Whatever
// the shape, every table ends equal to the org.
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator, type PubSubOptions } from '../../emulator/index.ts';
import type { DecodedEvent } from '../../emulator/pubsub/service.ts';
import { bitmapPositions } from '../../transforms/changeEvent.ts';
import { startCli } from '../support/cli.ts';
import { compareTable } from '../support/compare.ts';
import { useTestDatabase } from '../support/db.ts';
import { streamEnv } from '../support/emulatorEnv.ts';
import { orgRecords } from '../support/org.ts';
import { describeSpec, syncConfig } from '../support/sync.ts';
import { until } from '../support/until.ts';

const db = useTestDatabase();
let SCHEMA = 'stream_shapes_0';
let tests = 0;
let emulator: Emulator | undefined;
let client: pg.Client;

async function start(pubsub: PubSubOptions): Promise<Emulator> {
  emulator = await createEmulator({ port: 0, accounts: 30, seed: 7, pubsub: { keepaliveMs: 200, ...pubsub } });
  SCHEMA = `stream_shapes_${++tests}`;
  return emulator;
}

const env = (em: Emulator) =>
  streamEnv(em, db.url, {
    SFSYNC_SCHEMA: SCHEMA,
  });

async function rows(table: string, ids: readonly string[]): Promise<Record<string, unknown>[]> {
  const { rows: found } = await client.query(`SELECT * FROM ${SCHEMA}.${table} WHERE id = ANY($1::text[])`, [ids]);
  return found;
}

/** Waits until every one of `ids` has a row in `table` and `ok` holds for each. */
const rowsWhere = (table: string, ids: readonly string[], ok: (r: Record<string, unknown>) => boolean) =>
  until(`${table} rows ${ids.join(', ')}`, async () => {
    const found = await rows(table, ids);
    return found.length === ids.length && found.every(ok) ? found : undefined;
  });

/** `sfsync stream` for `objects`, connected once every object's stream is. */
function startStream(em: Emulator, objects: string[]) {
  const cli = startCli(['stream', '--objects', objects.join(',')], env(em));
  const connected = until('the streams to connect', async () => {
    const { rows: states } = await client
      .query('SELECT status FROM sfsync.stream_state WHERE target_schema = $1', [SCHEMA])
      .catch(() => ({ rows: [] as { status: string }[] }));
    return states.length === objects.length && states.every((s) => s.status === 'connected') ? true : undefined;
  });
  // A stream that ends early fails the wait at once, with its stderr.
  const failed = cli.done.then((r) => Promise.reject(new Error(`the stream ended: ${r.stderr}`)));
  failed.catch(() => {});
  const race = <T>(p: Promise<T>) => Promise.race([p, failed]);
  return { ...cli, connected: race(connected), race };
}

/** Stops a stream with SIGTERM; it must end cleanly. */
async function stop(stream: ReturnType<typeof startStream>): Promise<void> {
  stream.child.kill('SIGTERM');
  const done = await stream.done;
  expect(done.code, done.stderr).toBe(0);
}

/** Field for field, each table is the org. */
async function expectTablesAreOrg(em: Emulator, objects: string[]): Promise<void> {
  for (const object of objects) {
    const spec = await describeSpec(syncConfig(env(em), [object]), object);
    const result = await compareTable(client, SCHEMA, spec, orgRecords(em.store, object));
    expect(result.missing, object).toEqual([]);
    expect(result.extra, object).toEqual([]);
    expect(result.mismatches.slice(0, 5), object).toEqual([]);
  }
}

type Header = { changeType: string; recordIds: string[]; changedFields: string[]; diffFields: string[] };
const headers = (em: Emulator, topic: string): Header[] =>
  em.pubsub!.events(topic).map((e: DecodedEvent) => (e.payload as { ChangeEventHeader: Header }).ChangeEventHeader);

const live = (em: Emulator, object: string) => orgRecords(em.store, object).filter((r) => r.IsDeleted === false);

describe('sfsync stream with the change event shapes Salesforce sends only sometimes', () => {
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

  it('mergeRecordIds: one UPDATE and one DELETE event for several records are applied to each of them', async () => {
    const em = await start({ cdcObjects: ['Account'], mergeRecordIds: true });
    const [a, b, c, d, e] = live(em, 'Account').map((r) => r.Id) as [string, string, string, string, string];
    // Last modified by the API user, like every record a merged change names: a record some other user modified last
    // would also change LastModifiedById, a change of its own.
    for (const [i, id] of [a, b, c, d, e].entries()) em.store.update(id, { Phone: `555-010${i}` });
    const stream = startStream(em, ['Account']);
    try {
      await stream.connected;
      em.pubsub!.applyTransaction([
        // Values no seeded record has: the same change for each of them.
        ...[a, b, c].map((id) => ({ op: 'update' as const, id, values: { Description: 'Merged', Phone: '555-0142' } })),
        { op: 'update', id: d, values: { Description: 'Not merged' } },
        { op: 'delete', id: d },
        { op: 'delete', id: e },
      ]);
      await stream.race(rowsWhere('account', [a, b, c], (r) => r.description === 'Merged' && r.phone === '555-0142'));
      await stream.race(rowsWhere('account', [d, e], (r) => r.isdeleted === true));
    } finally {
      await stop(stream);
    }
    const merged = headers(em, '/data/AccountChangeEvent')
      .slice(-3)
      .map((h) => [h.changeType, h.recordIds]);
    expect(merged).toEqual([
      ['UPDATE', [a, b, c]],
      ['UPDATE', [d]],
      ['DELETE', [d, e]],
    ]);
    await expectTablesAreOrg(em, ['Account']);
  }, 180_000);

  it('longTextDiffs: a Description sent as a diff is read again by Id', async () => {
    const em = await start({ cdcObjects: ['Account'], longTextDiffs: true });
    const text = Array.from({ length: 16 }, (_, i) => `Line ${i}: ${'a long account description '.repeat(3)}`);
    const stream = startStream(em, ['Account']);
    try {
      await stream.connected;
      const id = em.store.insert('Account', { Name: 'Long text', Description: text.join('\n') }).Id;
      await stream.race(rowsWhere('account', [id], (r) => r.description === text.join('\n')));
      const edited = text.map((l, i) => (i === 4 ? `${l} Edited.` : l)).join('\n');
      em.store.update(id, { Description: edited, Phone: '+1 555 0199' });
      await stream.race(rowsWhere('account', [id], (r) => r.description === edited && r.phone === '+1 555 0199'));
      const seeded = live(em, 'Account')[0]!;
      em.store.update(seeded.Id, { Description: text.join('\r\n') });
      em.store.update(seeded.Id, { Description: text.slice(1).join('\r\n') });
      await stream.race(rowsWhere('account', [seeded.Id], (r) => r.description === text.slice(1).join('\r\n')));
    } finally {
      await stop(stream);
    }
    const updates = headers(em, '/data/AccountChangeEvent').filter((h) => h.changeType === 'UPDATE');
    // The edit and the removed first line were diffs; the seeded record's first long value was not.
    expect(updates.map((h) => h.diffFields.length > 0)).toEqual([true, false, true]);
    await expectTablesAreOrg(em, ['Account']);
  }, 180_000);

  it("compoundParentBits: a compound's own bit beside its nested entry changes nothing applied", async () => {
    const em = await start({ cdcObjects: ['Account', 'Contact'], compoundParentBits: true });
    const stream = startStream(em, ['Account', 'Contact']);
    const account = live(em, 'Account')[0]!.Id;
    const contact = live(em, 'Contact')[0]!.Id;
    try {
      await stream.connected;
      em.store.update(account, { BillingCity: 'Lyon', BillingStreet: null, Phone: '+1 555 0123' });
      em.store.update(contact, { FirstName: 'Ada', MailingCity: 'Oslo' });
      await stream.race(rowsWhere('account', [account], (r) => r.billingcity === 'Lyon' && r.billingstreet === null));
      const full = `${em.store.get(contact)!.Name}`;
      await stream.race(rowsWhere('contact', [contact], (r) => r.name === full && r.mailingcity === 'Oslo'));
    } finally {
      await stop(stream);
    }
    for (const topic of ['/data/AccountChangeEvent', '/data/ContactChangeEvent']) {
      const h = headers(em, topic).at(-1)!;
      const [top, ...nested] = h.changedFields;
      // Every `<parentPosition>-0x..` entry's parent has its own bit set in the top-level bitmap.
      expect(nested.length, topic).toBeGreaterThan(0);
      for (const entry of nested) expect(bitmapPositions(top!)).toContain(Number(entry.split('-')[0]));
    }
    await expectTablesAreOrg(em, ['Account', 'Contact']);
  }, 180_000);
});
