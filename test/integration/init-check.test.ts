// `sfsync init` then `sfsync check` as a user runs them against the emulator, and check naming the wrong setting for
// each way the login or an object's access can be broken; sync's object-name check before any work.
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, createEmulator } from '../../emulator/index.ts';
import { lastLine, runCli } from '../support/cli.ts';
import { useTestDatabase } from '../support/db.ts';

const db = useTestDatabase();
let emulator: Emulator;
let notSalesforce: Server;
const dir = mkdtempSync(path.join(tmpdir(), 'sfsync-init-'));
/** The settings of sfsync.env as written by init, filled in like a user would. */
let env: Record<string, string>;

function readEnvFile(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

const check = (settings: Record<string, string> = {}, args: string[] = []) =>
  runCli(['check', ...args], { ...env, ...settings });
const failLine = (stdout: string, name: string) =>
  stdout.split('\n').find((l) => l.startsWith(`FAIL ${name}`)) ?? `(no FAIL ${name} line in:\n${stdout})`;

describe('sfsync init and check', () => {
  beforeAll(async () => {
    emulator = await createEmulator({ port: 0, accounts: 40, seed: 11 });
    // A host that is no Salesforce login endpoint (a Lightning URL, a typo'd domain behind a proxy): HTML, 404.
    notSalesforce = createServer((_, res) => {
      res.writeHead(404, { 'Content-Type': 'text/html' });
      res.end('<html><body>Not Found</body></html>');
    });
    await new Promise<void>((resolve) => notSalesforce.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await emulator?.close();
    await new Promise((resolve) => notSalesforce?.close(resolve));
  });

  it('init writes the key (0600), the certificate, the config and the settings, and prints the app steps', async () => {
    const run = await runCli(['init', '--dir', dir, '--login-url', emulator.loginUrl], {});
    expect(run.code, run.stderr).toBe(0);
    const key = path.join(dir, 'sfsync.key');
    const cert = path.join(dir, 'sfsync.crt');
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect(readFileSync(key, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(readFileSync(cert, 'utf8')).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(readFileSync(path.join(dir, 'sfsync.config.yaml'), 'utf8')).toMatch(/^objects:\n {2}- Account/m);
    expect(run.stdout).toContain(`upload ${cert}`);
    for (const text of ['(api)', 'refresh_token, offline_access', 'Use digital signatures', 'pre-authorized'])
      expect(run.stdout).toContain(text);
    expect(run.stdout).toContain('http://localhost:1717/OauthRedirect');
    expect(run.stdout + run.stderr).not.toContain('PRIVATE KEY-----');
    env = {
      ...readEnvFile(path.join(dir, 'sfsync.env')),
      SF_CLIENT_ID: emulator.clientId,
      SF_USERNAME: emulator.username,
      DATABASE_URL: db.url,
    };
    expect(env.SF_LOGIN_URL).toBe(emulator.loginUrl);
    expect(env.SF_PRIVATE_KEY_PATH).toBe(key);
  });

  it('init refuses to overwrite a file (exit 2, naming it)', async () => {
    const run = await runCli(['init', '--dir', dir], {});
    expect(run.code).toBe(2);
    expect(lastLine(run.stderr)).toMatch(/sfsync\.key already exists/);
  });

  it('check passes once the certificate is uploaded to the app', async () => {
    await emulator.admin.uploadCertificate(readFileSync(path.join(dir, 'sfsync.crt'), 'utf8'));
    const run = await check();
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^PASS login +JWT bearer login as /m);
    expect(run.stdout).toMatch(/^PASS api version +62\.0 is served/m);
    expect(run.stdout).toMatch(/^PASS database +.* reachable and writable/m);
    expect(run.stdout).toMatch(/^PASS object Account +readable, \d+ fields/m);
    expect(run.stdout).toMatch(/^PASS bulk Account /m);
    expect(run.stdout).toMatch(/^PASS getDeleted Account /m);
    expect(run.stdout).toMatch(/^PASS api budget +\d+ of \d+ daily API requests left/m);
    const json = await check({}, ['--json']);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as { ok: boolean; checks: { check: string; status: string }[] };
    expect(parsed.ok).toBe(true);
    expect(parsed.checks.map((c) => c.check)).toContain('object Contact');
  });

  it('names SF_PRIVATE_KEY_PATH for a key that does not match the uploaded certificate', async () => {
    const run = await check({ SF_PRIVATE_KEY_PATH: emulator.privateKeyPath });
    expect(run.code).toBe(1);
    expect(failLine(run.stdout, 'login')).toMatch(/SF_PRIVATE_KEY_PATH: invalid_grant: invalid assertion/);
    expect(lastLine(run.stderr)).toMatch(/checks failed: login/);
  });

  it('names SF_USERNAME for an unknown user', async () => {
    const run = await check({ SF_USERNAME: 'nobody@example.com' });
    expect(run.code).toBe(1);
    expect(failLine(run.stdout, 'login')).toMatch(/SF_USERNAME.*nobody@example\.com is not a user of the org/);
  });

  it('names the pre-authorisation for a user the app is not approved for', async () => {
    emulator.admin.setUserApproval(emulator.username, false);
    try {
      const run = await check();
      expect(run.code).toBe(1);
      expect(failLine(run.stdout, 'login')).toMatch(/the app is not approved for that user.*pre-authorized/);
    } finally {
      emulator.admin.setUserApproval(emulator.username, true);
    }
  });

  it('names SF_LOGIN_URL for a host that is no Salesforce token endpoint', async () => {
    const { port } = notSalesforce.address() as AddressInfo;
    const run = await check({ SF_LOGIN_URL: `http://127.0.0.1:${port}` });
    expect(run.code).toBe(1);
    expect(failLine(run.stdout, 'login')).toMatch(/SF_LOGIN_URL: .* answered HTTP 404 an HTML page/);
  });

  it('names SF_CLIENT_ID for a consumer key the org does not know', async () => {
    const run = await check({ SF_CLIENT_ID: `${emulator.clientId}x` });
    expect(failLine(run.stdout, 'login')).toMatch(/SF_CLIENT_ID: invalid_client_id/);
  });

  it('names the missing Read permission for an object the user cannot see', async () => {
    emulator.admin.denyObjectAccess('Contact', emulator.username);
    try {
      const run = await check();
      expect(run.code).toBe(1);
      expect(failLine(run.stdout, 'object Contact')).toMatch(/lack Read on it.*grant Read on Contact/);
      expect(run.stdout).toMatch(/^PASS object Account /m);
    } finally {
      emulator.admin.restoreObjectAccess('Contact', emulator.username);
    }
  });

  describe('object names before any work', () => {
    it('stops sync at once on a typo in --objects (exit 2, did you mean)', async () => {
      const run = await runCli(['sync', '--objects', 'Contact,Acount'], env);
      expect(run.code).toBe(2);
      expect(lastLine(run.stderr)).toMatch(/--objects: 'Acount' \(did you mean Account\?\) is not an object/);
      expect(run.stdout).not.toMatch(/Contact/);
    });

    it('skips a config-file object the org does not have, with a warning, and syncs the others', async () => {
      const config = path.join(dir, 'gone.json');
      writeFileSync(config, JSON.stringify({ objects: ['Account', 'Gone__c'] }));
      const run = await runCli(['sync'], { ...env, SFSYNC_CONFIG: config, SFSYNC_SCHEMA: 'gone' });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toMatch(/Gone__c.*skipped/);
      expect(run.stdout).toMatch(/^Account\s+initial/m);
    });
  });
});
