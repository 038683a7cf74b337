// `sfsync stream` against Salesforce's flow control (docs/salesforce.md#pubsub-api-flow-control): once everything asked
// for has been delivered, a stream that does not ask again within the refetch timeout is closed by the server. Here
// the stream is slow to ask again (an overflow event's sync outlasts a shortened timeout): it must subscribe again
// from the replay id it stored and end with the table equal to the org.
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/index.ts';
import { startCli } from '../support/cli.ts';
import { compareTable } from '../support/compare.ts';
import { useTestDatabase } from '../support/db.ts';
import { streamEnv } from '../support/emulatorEnv.ts';
import { orgRecords } from '../support/org.ts';
import { describeSpec, syncConfig } from '../support/sync.ts';
import { until } from '../support/until.ts';

const db = useTestDatabase();
const SCHEMA = 'stream_flow';
const REFETCH_MS = 1_500;
let emulator: Emulator;
let client: pg.Client;

const env = () =>
  streamEnv(emulator, db.url, {
    SFSYNC_SCHEMA: SCHEMA,
  });

const streamStatus = async () =>
  (
    await client
      .query('SELECT status, replay_id FROM sfsync.stream_state WHERE target_schema = $1', [SCHEMA])
      .catch(() => ({ rows: [] as { status: string; replay_id: Buffer | null }[] }))
  ).rows[0] as { status: string; replay_id: Buffer | null } | undefined;

const runCount = async () =>
  (await client.query('SELECT count(*)::int AS n FROM sfsync.runs WHERE target_schema = $1', [SCHEMA])).rows[0].n;

const nameOf = async (id: string) =>
  (await client.query(`SELECT name FROM ${SCHEMA}.account WHERE id = $1`, [id])).rows[0]?.name as string | undefined;

describe('sfsync stream and the refetch timeout', () => {
  beforeAll(async () => {
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  });
  beforeEach(async () => {
    emulator = await createEmulator({
      port: 0,
      accounts: 40,
      seed: 5,
      pubsub: { keepaliveMs: 200, refetchTimeoutMs: REFETCH_MS, cdcObjects: ['Account'] },
    });
  });
  afterEach(async () => {
    await emulator?.close();
  });
  afterAll(async () => {
    await client?.end();
  });

  it('asks again after a sync longer than the timeout: subscribes again from its replay id, nothing lost', async () => {
    const stream = startCli(['stream', '--objects', 'Account'], env());
    try {
      await until('the stream to connect', async () =>
        (await streamStatus())?.status === 'connected' ? true : undefined,
      );
      const runs = await runCount();
      const live = orgRecords(emulator.store, 'Account').filter((r) => r.IsDeleted === false);
      // The overflow event's sync waits on its first read of Salesforce for longer than the refetch timeout.
      emulator.admin.addFault({ route: /\/services\/data\/v[\d.]+\/(query|jobs)/, kind: 'delay', ms: REFETCH_MS * 3 });
      // One response brings all 100 events the stream is owed: the overflow event (applied first: it needs a sync)
      // and 99 of the transaction's 150 updates. The stream owes nothing while the sync runs; it asks again only after.
      emulator.pubsub!.injectGap('Account', 'GAP_OVERFLOW');
      // The last update of each record wins; every one of them must arrive.
      const expected = new Map<string, string>();
      emulator.pubsub!.transaction(() => {
        for (let i = 0; i < 150; i++) {
          const id = live[i % live.length]!.Id;
          emulator.store.update(id, { Name: `Flow ${i}` });
          expected.set(id, `Flow ${i}`);
        }
      });
      await until(
        'every update',
        async () => {
          for (const [id, name] of expected) if ((await nameOf(id)) !== name) return undefined;
          return true;
        },
        90_000,
      );
      // The overflow sync, no catch-up sync: the new stream started from the stored replay id.
      expect(await runCount()).toBe(runs + 1);
      // Alive again: a later change arrives by event.
      const later = live[0]!;
      emulator.store.update(later.Id, { Name: 'After the close' });
      await until('the later change', async () => ((await nameOf(later.Id)) === 'After the close' ? true : undefined));
      expect(await runCount()).toBe(runs + 1);
    } finally {
      stream.child.kill('SIGTERM');
    }
    const done = await stream.done;
    expect(done.code, done.stderr).toBe(0);
    // The server did close the stream it owed nothing, and the stream subscribed again.
    expect(done.stderr).toMatch(/the server ended it.*"action":"reconnect"|"action":"reconnect".*the server ended it/);

    const spec = await describeSpec(syncConfig(env(), ['Account']), 'Account');
    const result = await compareTable(client, SCHEMA, spec, orgRecords(emulator.store, 'Account'));
    expect(result.missing).toEqual([]);
    expect(result.extra).toEqual([]);
    expect(result.mismatches.slice(0, 5)).toEqual([]);
  }, 180_000);
});
