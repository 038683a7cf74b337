// The enterprise org (emulator profile `enterprise`: a 624-field Account with long namespaced names, a json field,
// archived activities, a non-replicateable share object, an object Bulk refuses, one without IsDeleted, a History
// object whose name passes 63 characters) through every command a data engineer runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENTERPRISE } from '../../emulator/enterprise.ts';
import { createEmulator, type Emulator } from '../../emulator/index.ts';
import { runCli } from '../support/cli.ts';
import { useTestDatabase } from '../support/db.ts';
import { emulatorEnv } from '../support/emulatorEnv.ts';

const db = useTestDatabase();
const OBJECTS = [
  'Account',
  'Contact',
  ...ENTERPRISE.activityObjects,
  ENTERPRISE.shareObject,
  ENTERPRISE.bulkUnsupportedObject,
  ENTERPRISE.renewalObject,
  ENTERPRISE.renewalHistory,
].join(',');

describe('the enterprise org through the CLI', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await createEmulator({ port: 0, accounts: 120, seed: 31, profile: 'enterprise' });
  });
  afterAll(async () => emulator?.close());

  it('syncs, syncs a delta, reconciles, verifies 200 sampled records and backfills, all clean', async () => {
    const env = emulatorEnv(emulator, db.url, { SFSYNC_SCHEMA: 'enterprise' });
    const initial = await runCli(['sync', '--objects', OBJECTS], env);
    expect(initial.code, initial.stdout + initial.stderr).toBe(0);
    const live = [];
    const accounts = emulator.store.snapshot('Account');
    for (let i = 0; i < accounts.size && live.length < 25; i++) {
      const rec = accounts.at(i);
      if (rec?.IsDeleted === false) live.push(rec.Id);
    }
    for (const id of live.slice(0, 20)) emulator.store.update(id, { [ENTERPRISE.longField]: `changed ${id}` });
    for (const id of live.slice(20, 23)) emulator.store.softDelete(id);
    emulator.store.hardDelete(live[23]!);
    const delta = await runCli(['sync', '--objects', OBJECTS], env);
    expect(delta.code, delta.stdout + delta.stderr).toBe(0);
    expect(delta.stdout).toMatch(/Account\s+incremental/);
    const reconcile = await runCli(['reconcile', '--objects', OBJECTS], env);
    expect(reconcile.code, reconcile.stdout + reconcile.stderr).toBe(0);
    const verify = await runCli(['verify', '--objects', OBJECTS, '--sample', '200'], env);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    const backfill = await runCli(
      ['backfill', '--objects', 'Account,Task', '--since', '2000-01-01', '--window', '120mo'],
      env,
    );
    expect(backfill.code, backfill.stdout + backfill.stderr).toBe(0);
    const after = await runCli(['verify', '--objects', OBJECTS, '--sample', '200'], env);
    expect(after.code, after.stdout + after.stderr).toBe(0);
  });
});
