// The completeness acceptance test: a long randomized history of inserts, updates, deletes, undeletes and hard deletes
// interleaved with syncs (one CLI sync killed with SIGKILL mid-run), then reconcile: verify passes and every table
// equals the org. Fixed seed (SFSYNC_TEST_SEED overrides); the seed is in every failure message.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/index.ts';
import { LockedError } from '../../lib/errors.ts';
import { silentLogger } from '../../lib/log.ts';
import { startCli } from '../support/cli.ts';
import { compareTable } from '../support/compare.ts';
import { useTestDatabase } from '../support/db.ts';
import { orgRecords } from '../support/org.ts';
import { emulatorEnv } from '../support/emulatorEnv.ts';
import { prng } from '../support/prng.ts';
import { describeSpec, syncConfig, syncInProcess } from '../support/sync.ts';
import { reconcileAll } from '../../pipelines/completeness/reconcileAll.ts';
import { verifyAll } from '../../pipelines/completeness/verify.ts';
import { withRunContext } from '../../pipelines/runtime/runContext.ts';

const SEED = Number(process.env.SFSYNC_TEST_SEED ?? 20240501);
const OBJECTS = ['Account', 'Contact'];
const SCHEMA = 'salesforce';
const ROUNDS = 6;
const OPS_PER_ROUND = 70;
const db = useTestDatabase();
let emulator: Emulator;
let client: pg.Client;

const config = () => syncConfig(emulatorEnv(emulator, db.url, { SFSYNC_SCHEMA: SCHEMA }), OBJECTS);

/** A SIGKILLed process's advisory lock goes when Postgres notices the dead session: retry briefly on LockedError. */
async function syncRetryingLocked(): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const summaries = await syncInProcess(config());
    const failed = summaries.filter((s) => s.status === 'failed');
    if (failed.length === 0) return;
    if (attempt < 20 && failed.every((s) => s.error instanceof LockedError)) {
      await new Promise((r) => setTimeout(r, 250));
      continue;
    }
    throw new Error(`seed ${SEED}: sync failed: ${failed.map((s) => `${s.object}: ${String(s.error)}`).join('; ')}`);
  }
}

function randomOps(rand: () => number, hardDeleted: Set<string>): void {
  const pick = <T>(items: T[]): T | undefined => items[Math.floor(rand() * items.length)];
  for (let i = 0; i < OPS_PER_ROUND; i++) {
    const object = pick(OBJECTS)!;
    const records = orgRecords(emulator.store, object);
    const live = records.filter((r) => r.IsDeleted !== true);
    const binned = records.filter((r) => r.IsDeleted === true);
    const roll = rand();
    if (roll < 0.2) {
      emulator.store.insert(
        object,
        object === 'Account' ? { Name: `Random ${SEED}-${i}` } : { LastName: `Random ${SEED}-${i}` },
      );
    } else if (roll < 0.6) {
      const rec = pick(live);
      if (rec) emulator.store.update(rec.Id, { Description: `edit ${Math.floor(rand() * 1e6)}` });
    } else if (roll < 0.75) {
      const rec = pick(live);
      if (rec) emulator.store.softDelete(rec.Id);
    } else if (roll < 0.85) {
      const rec = pick(binned);
      if (rec) emulator.store.undelete(rec.Id);
    } else {
      const rec = pick(rand() < 0.5 ? live : binned);
      if (rec) {
        emulator.store.hardDelete(rec.Id);
        hardDeleted.add(rec.Id);
      }
    }
  }
}

async function killedCliSync(): Promise<void> {
  emulator.admin.clearRequestLog();
  // Slow Bulk results so the process is surely mid-run when it dies.
  emulator.admin.addFault({ route: /\/results/, times: 2, kind: 'delay', ms: 3000 });
  const { child, done } = startCli(
    ['sync', '--objects', OBJECTS.join(','), '--full-refresh'],
    emulatorEnv(emulator, db.url, { SFSYNC_SCHEMA: SCHEMA, LOG_LEVEL: 'silent' }),
  );
  for (let i = 0; i < 400 && !emulator.admin.requestLog().some((e) => e.path.includes('/results')); i++)
    await new Promise((r) => setTimeout(r, 25));
  child.kill('SIGKILL');
  const result = await done;
  emulator.admin.clearFaults();
  expect(result.signal, `seed ${SEED}`).toBe('SIGKILL');
}

describe(`randomized history (seed ${SEED}), then reconcile and verify`, () => {
  beforeAll(async () => {
    // Record clock 2 minutes behind the Date header, so getDeleted (whole minutes, docs/salesforce.md#getdeleted) sees
    // fresh deletions.
    emulator = await createEmulator({
      port: 0,
      accounts: 40,
      seed: SEED % 1000,
      clockStart: new Date(Date.now() - 120_000),
    });
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await emulator?.close();
  });

  it('ends with verify passing and every table equal to the org', async () => {
    const rand = prng(SEED);
    const hardDeleted = new Set<string>();
    await syncRetryingLocked();
    for (let round = 0; round < ROUNDS; round++) {
      randomOps(rand, hardDeleted);
      if (round === Math.floor(ROUNDS / 2)) await killedCliSync();
      await syncRetryingLocked();
    }
    randomOps(rand, hardDeleted);
    await syncRetryingLocked();
    const reconciled = await withRunContext(config(), silentLogger(), reconcileAll);
    expect(
      reconciled.map((r) => r.status),
      `seed ${SEED}`,
    ).toEqual(['succeeded', 'succeeded']);

    const verified = await withRunContext(config(), silentLogger(), (ctx) => verifyAll(ctx, 25));
    expect(
      verified.map((r) => [r.object, r.ok]),
      `seed ${SEED}: ${JSON.stringify(verified)}`,
    ).toEqual(OBJECTS.map((o) => [o, true]));

    for (const object of OBJECTS) {
      const spec = await describeSpec(config(), object);
      const result = await compareTable(client, SCHEMA, spec, orgRecords(emulator.store, object));
      expect(result.missing, `seed ${SEED} ${object} missing`).toEqual([]);
      expect(result.mismatches.slice(0, 5), `seed ${SEED} ${object} mismatches`).toEqual([]);
      // Hard-deleted records stay in the warehouse, marked deleted; nothing else is extra.
      expect(
        result.extra.filter((id) => !hardDeleted.has(id)),
        `seed ${SEED} ${object} extra`,
      ).toEqual([]);
      const { rows } = await client.query(
        `SELECT count(*)::int AS n FROM ${SCHEMA}.${spec.table} WHERE id = ANY($1) AND isdeleted IS NOT TRUE`,
        [result.extra],
      );
      expect(rows[0].n, `seed ${SEED} ${object}: hard-deleted rows not marked`).toBe(0);
    }
    expect(hardDeleted.size).toBeGreaterThan(20);
  }, 60_000);
});
