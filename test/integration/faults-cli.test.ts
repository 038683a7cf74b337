// The fault suite through the CLI as users run it: exit codes and the one last stderr line, for injected
// server faults and for bad input (private key, login URL, object names). Nothing may be loaded by a failed run.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/index.ts';
import { lastLine, runCli } from '../support/cli.ts';
import { useTestDatabase } from '../support/db.ts';
import { orgRecords } from '../support/org.ts';
import { emulatorEnv } from '../support/emulatorEnv.ts';

const db = useTestDatabase();
let emulator: Emulator;
let client: pg.Client;
const dir = mkdtempSync(path.join(tmpdir(), 'sfsync-faults-'));

function keyFile(name: string, pem: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, pem);
  return file;
}

async function count(sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await client.query(sql, params);
  return rows[0].n;
}

describe('sfsync sync (CLI) under faults and bad input', () => {
  beforeAll(async () => {
    emulator = await createEmulator({ port: 0, accounts: 80, seed: 13 });
    emulator.admin.setBulkLatency({ defaultMaxRecords: 40 });
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  });
  afterEach(() => emulator.admin.clearFaults());
  afterAll(async () => {
    await client?.end();
    await emulator?.close();
  });

  it('exits 0 with every record loaded once through a reset, a truncated page and a 503 with Retry-After', async () => {
    emulator.admin.addFault({ route: /\/results\?locator=/, kind: 'reset' });
    emulator.admin.addFault({ route: /\/results\?locator=/, kind: 'truncate', afterBytes: 700 });
    emulator.admin.addFault({ route: /POST .*\/jobs\/query$/, kind: 'status', status: 503, retryAfter: 1 });
    const run = await runCli(
      ['sync', '--objects', 'Account,Contact'],
      emulatorEnv(emulator, db.url, { SFSYNC_SCHEMA: 'cok' }),
    );
    expect(run.code, run.stderr).toBe(0);
    expect(emulator.admin.faults()).toEqual([]);
    for (const [object, table] of [
      ['Account', 'account'],
      ['Contact', 'contact'],
    ] as const) {
      const expected = orgRecords(emulator.store, object).length;
      const { rows } = await client.query(`SELECT count(*)::int AS n, count(DISTINCT id)::int AS d FROM cok.${table}`);
      expect(rows[0]).toEqual({ n: expected, d: expected });
    }
  });

  it.each([
    ['REQUEST_LIMIT_EXCEEDED on the Bulk job create', { kind: 'requestLimit' }, /REQUEST_LIMIT_EXCEEDED/, 4],
    // These two are retried as smaller cursor windows first: 1 + 3 splits, all refused.
    [
      'QUERY_TIMEOUT on the Bulk job create',
      { kind: 'queryTimeout', times: 4 },
      /Account: Salesforce 400 QUERY_TIMEOUT/,
      1,
    ],
    [
      'a Bulk job that ends Failed',
      { kind: 'bulkJobFailed', message: 'InternalServerError', times: 4 },
      /Account: Bulk query job \w+ ended Failed: InternalServerError \(window .*after 3 split/,
      1,
    ],
  ] as const)('exits non-zero with one clear line for %s, loading nothing', async (_what, kind, pattern, code) => {
    const schema = `c${kind.kind.toLowerCase()}`;
    emulator.admin.addFault({ route: /POST .*\/jobs\/query$/, ...kind });
    const run = await runCli(
      ['sync', '--objects', 'Account'],
      emulatorEnv(emulator, db.url, { SFSYNC_SCHEMA: schema }),
    );
    expect(run.code, run.stderr).toBe(code);
    expect(lastLine(run.stderr)).toMatch(/^sfsync: /);
    expect(lastLine(run.stderr)).toMatch(pattern);
    expect(run.stdout).not.toMatch(/Account\s+initial\s+\d+ read/);
    expect(await count('SELECT count(*)::int AS n FROM sfsync.watermarks WHERE target_schema = $1', [schema])).toBe(0);
    expect(await count(`SELECT count(*)::int AS n FROM ${schema}.account`)).toBe(0);
  });

  const rsa = () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

  it.each([
    [
      'a missing private key file',
      () => ({ SF_PRIVATE_KEY_PATH: path.join(dir, 'nope.pem') }),
      /SF_PRIVATE_KEY_PATH: cannot read .*nope\.pem \(no such file\)/,
      2,
    ],
    [
      'an encrypted private key',
      () => ({
        SF_PRIVATE_KEY_PATH: keyFile(
          'enc.pem',
          rsa().export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret-pass' }).toString(),
        ),
      }),
      /private key is encrypted/,
      3,
    ],
    [
      'an EC private key',
      () => ({
        SF_PRIVATE_KEY_PATH: keyFile(
          'ec.pem',
          generateKeyPairSync('ec', { namedCurve: 'P-256' })
            .privateKey.export({ type: 'pkcs8', format: 'pem' })
            .toString(),
        ),
      }),
      /private key is ec, but Salesforce JWT bearer needs an RSA key/,
      3,
    ],
    [
      'a file that is no key at all',
      () => ({ SF_PRIVATE_KEY_PATH: keyFile('junk.pem', 'hello\n') }),
      /not a readable PEM private key/,
      3,
    ],
    [
      'an http login URL that is not loopback',
      () => ({ SF_LOGIN_URL: 'http://login.example.com' }),
      /SF_LOGIN_URL must use https \(got http:\/\/login\.example\.com\)/,
      2,
    ],
  ])('refuses %s with one clear line', async (_what, extra, pattern, code) => {
    const run = await runCli(
      ['sync', '--objects', 'Account'],
      emulatorEnv(emulator, db.url, { SFSYNC_SCHEMA: 'cbad', ...extra() }),
    );
    expect(run.code, run.stderr).toBe(code);
    expect(lastLine(run.stderr)).toMatch(/^sfsync: /);
    expect(lastLine(run.stderr)).toMatch(pattern);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  it.each([`Account"; DROP TABLE x; --`, 'Acc ount', "Invoice__c'"])(
    'refuses the object name %j before any call',
    async (name) => {
      emulator.admin.clearRequestLog();
      const run = await runCli(['sync', '--objects', name], emulatorEnv(emulator, db.url, { SFSYNC_SCHEMA: 'cbad' }));
      expect(run.code).toBe(2);
      expect(lastLine(run.stderr)).toMatch(/^sfsync: --objects: '.*' is not a Salesforce API name$/);
      expect(emulator.admin.requestLog()).toEqual([]);
    },
  );
});
