// No leaks: access tokens, the private key, the client secret and the password never reach the output (at
// LOG_LEVEL=debug) or the run history, through logins of every flow, a sync, a 401 re-auth and failures.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/index.ts';
import { type CliResult, runCli } from '../support/cli.ts';
import { useTestDatabase } from '../support/db.ts';
import { emulatorEnv } from '../support/emulatorEnv.ts';

const db = useTestDatabase();
let emulator: Emulator;
const PASSWORD = 'Pa55-word-that-must-never-print';
const WRONG_SECRET = 'wrong-client-secret-0123456789abcdef';

/** Everything that must stay secret, as the strings an output could contain. */
function secrets(): string[] {
  const tokens = emulator.admin.issuedTokens();
  // A token is `<orgId>!<secret part>`: the org id alone is public, the part after '!' is not.
  const tokenParts = tokens.flatMap((t) => [t, t.slice(t.indexOf('!') + 1)]);
  const keyLines = emulator.privateKeyPem.split('\n').filter((l) => l.length >= 16 && !l.startsWith('-----'));
  return [...tokenParts, ...keyLines, emulator.clientSecret, PASSWORD, WRONG_SECRET];
}

describe('secrets stay out of logs, errors and run history', () => {
  const outputs: CliResult[] = [];
  let history = '';

  beforeAll(async () => {
    emulator = await createEmulator({ port: 0, accounts: 40, seed: 17, password: PASSWORD });
    emulator.admin.setBulkLatency({ defaultMaxRecords: 20 });
    const run = async (args: string[], extra: Record<string, string> = {}) => {
      const r = await runCli(
        args,
        emulatorEnv(emulator, db.url, { SFSYNC_SCHEMA: 'secrets', LOG_LEVEL: 'debug', ...extra }),
      );
      outputs.push(r);
      return r;
    };
    // JWT login and an initial sync with a 401 in the middle of a Bulk download (re-mint + replay).
    emulator.admin.addFault({ route: /\/results\?locator=/, kind: 'invalidSession' });
    expect((await run(['sync', '--objects', 'Account,Contact'])).code).toBe(0);
    // A failure after login: the org refuses calls (on a full refresh's Bulk job, so the run row records it).
    emulator.admin.addFault({ route: /POST .*\/jobs\/query$/, kind: 'requestLimit' });
    expect((await run(['sync', '--objects', 'Account', '--full-refresh'])).code).toBe(4);
    // Client credentials (client secret), then a wrong secret, then the password flow.
    expect(
      (
        await run(['sync', '--objects', 'Account'], {
          SF_AUTH_FLOW: 'client_credentials',
          SF_CLIENT_SECRET: emulator.clientSecret,
        })
      ).code,
    ).toBe(0);
    expect(
      (
        await run(['sync', '--objects', 'Account'], {
          SF_AUTH_FLOW: 'client_credentials',
          SF_CLIENT_SECRET: WRONG_SECRET,
        })
      ).code,
    ).toBe(3);
    expect(
      (
        await run(['sync', '--objects', 'Contact'], {
          SF_AUTH_FLOW: 'password',
          SF_CLIENT_SECRET: emulator.clientSecret,
          SF_PASSWORD: PASSWORD,
        })
      ).code,
    ).toBe(0);
    // A failure in the middle of a load: a Bulk page that keeps dropping.
    emulator.admin.addFault({ route: /\/results/, kind: 'reset', times: 50 });
    expect((await run(['sync', '--objects', 'Opportunity'])).code).toBe(1);
    emulator.admin.clearFaults();

    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query("SELECT coalesce(string_agg(t::text, E'\\n'), '') AS h FROM sfsync.runs t");
      const { rows: wm } = await client.query(
        "SELECT coalesce(string_agg(w::text, E'\\n'), '') AS h FROM sfsync.watermarks w",
      );
      history = `${rows[0].h}\n${wm[0].h}`;
    } finally {
      await client.end();
    }
  });
  afterAll(async () => {
    await emulator?.close();
  });

  it('exercised what it claims: debug output, several tokens, a re-mint, recorded failures', () => {
    const all = outputs.map((o) => o.stdout + o.stderr).join('\n');
    expect(all).toMatch(/"level":30/);
    expect(all).toMatch(/TokenEndpointError: Salesforce login refused: invalid_client/);
    expect(all).toContain('minting a new token');
    expect(emulator.admin.issuedTokens().length).toBeGreaterThanOrEqual(5);
    expect(history).toMatch(/REQUEST_LIMIT_EXCEEDED/);
    expect(history).toMatch(/ECONNRESET|socket hang up/);
    expect(history).toMatch(/succeeded/);
  });

  it('prints no token, key line, client secret or password on stdout or stderr', () => {
    const all = outputs.map((o) => o.stdout + o.stderr).join('\n');
    const leaked = secrets().filter((s) => all.includes(s));
    expect(leaked.map((s) => `${s.slice(0, 6)}... (${s.length} chars)`)).toEqual([]);
  });

  it('stores none of them in sfsync.runs or sfsync.watermarks', () => {
    expect(history.length).toBeGreaterThan(100);
    const leaked = secrets().filter((s) => history.includes(s));
    expect(leaked.map((s) => `${s.slice(0, 6)}... (${s.length} chars)`)).toEqual([]);
  });
});
