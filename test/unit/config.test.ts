import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_OBJECTS, loadConfig } from '../../lib/config.ts';
import { ConfigError } from '../../lib/errors.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'sfsync-config-'));
const keyPath = path.join(dir, 'key.pem');
writeFileSync(keyPath, '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n');
const base = { SF_CLIENT_ID: 'cid', SF_USERNAME: 'u@example.com', SF_PRIVATE_KEY_PATH: keyPath };

function problemsOf(env: Record<string, string>, flags = {}): string {
  try {
    loadConfig(env, flags, dir);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies documented defaults', () => {
    const c = loadConfig(base, {}, dir);
    expect(c.salesforce?.loginUrl).toBe('https://login.salesforce.com');
    expect(c.salesforce?.apiVersion).toBe('62.0');
    expect(c.schema).toBe('salesforce');
    expect(c.concurrency).toBe(4);
    expect(c.bulkThreshold).toBe(50_000);
    expect(c.windowRows).toBe(1_000_000);
    expect(c.bulkParallel).toBe(1);
    expect(c.waitForLock).toBe(false);
    expect(c.objects.map((o) => o.name)).toEqual(DEFAULT_OBJECTS);
    expect(c.objects[0]?.overlapMinutes).toBe(10);
    expect(c.salesforce?.auth).toMatchObject({ flow: 'jwt', clientId: 'cid', username: 'u@example.com' });
  });

  it('reads the HTTP timeouts in seconds (docs/salesforce.md#timeouts), a few minutes by default', () => {
    expect(loadConfig(base, {}, dir)).toMatchObject({ httpTimeoutMs: 300_000, idleTimeoutMs: 120_000 });
    const c = loadConfig({ ...base, SFSYNC_HTTP_TIMEOUT_SECONDS: '30', SFSYNC_IDLE_TIMEOUT_SECONDS: '0.5' }, {}, dir);
    expect(c).toMatchObject({ httpTimeoutMs: 30_000, idleTimeoutMs: 500 });
    expect(problemsOf({ ...base, SFSYNC_HTTP_TIMEOUT_SECONDS: 'soon' })).toMatch(
      /SFSYNC_HTTP_TIMEOUT_SECONDS must be a number of seconds/,
    );
    expect(problemsOf({ ...base, SFSYNC_IDLE_TIMEOUT_SECONDS: '0' })).toMatch(
      /SFSYNC_IDLE_TIMEOUT_SECONDS must be positive/,
    );
  });

  it('uses the sandbox login host with --sandbox and keeps My Domain URLs as given', () => {
    expect(loadConfig(base, { sandbox: true }, dir).salesforce?.loginUrl).toBe('https://test.salesforce.com');
    const my = loadConfig({ ...base, SF_LOGIN_URL: 'https://acme--uat.sandbox.my.salesforce.com/' }, {}, dir);
    expect(my.salesforce?.loginUrl).toBe('https://acme--uat.sandbox.my.salesforce.com');
  });

  it('reads the window size, parallel downloads and lock waiting, and refuses values out of range', () => {
    const c = loadConfig(
      { ...base, SFSYNC_WINDOW_ROWS: '250000', SFSYNC_BULK_PARALLEL: '3' },
      { waitForLock: true },
      dir,
    );
    expect([c.windowRows, c.bulkParallel, c.waitForLock]).toEqual([250_000, 3, true]);
    expect(problemsOf({ ...base, SFSYNC_BULK_PARALLEL: '6' })).toMatch(/SFSYNC_BULK_PARALLEL must be at most 5/);
    expect(problemsOf({ ...base, SFSYNC_WINDOW_ROWS: '0' })).toMatch(/SFSYNC_WINDOW_ROWS must be positive/);
  });

  it('names every missing setting at once', () => {
    const msg = problemsOf({});
    expect(msg).toContain('SF_CLIENT_ID');
    expect(msg).toContain('SF_USERNAME');
    expect(msg).toContain('SF_PRIVATE_KEY_PATH');
  });

  it('refuses plain http except on loopback', () => {
    expect(problemsOf({ ...base, SF_LOGIN_URL: 'http://login.example.com' })).toContain('https');
    expect(loadConfig({ ...base, SF_LOGIN_URL: 'http://127.0.0.1:8080' }, {}, dir).salesforce?.loginUrl).toBe(
      'http://127.0.0.1:8080',
    );
    expect(loadConfig({ ...base, SF_LOGIN_URL: 'http://[::1]:8080' }, {}, dir).salesforce?.loginUrl).toBe(
      'http://[::1]:8080',
    );
    // The same rule as the login itself: loopback allows http, not any other scheme.
    expect(problemsOf({ ...base, SF_LOGIN_URL: 'ftp://127.0.0.1' })).toContain('https');
  });

  it('reports an unreadable key file without its contents', () => {
    expect(problemsOf({ ...base, SF_PRIVATE_KEY_PATH: path.join(dir, 'missing.pem') })).toMatch(
      /SF_PRIVATE_KEY_PATH: cannot read .*no such file/,
    );
  });

  it('rejects a schema name that would need quoting and object names that are not API names', () => {
    expect(problemsOf({ ...base, SFSYNC_SCHEMA: 'Bad-Name' })).toContain('SFSYNC_SCHEMA');
    for (const reserved of ['sfsync', 'sfsync_queue', 'pg_temp'])
      expect(problemsOf({ ...base, SFSYNC_SCHEMA: reserved })).toContain('SFSYNC_SCHEMA cannot be sfsync');
    expect(problemsOf(base, { objects: 'Account,Drop Table' })).toContain("'Drop Table'");
  });

  it('reads the object list and per-object options from sfsync.config.json', () => {
    const d = mkdtempSync(path.join(tmpdir(), 'sfsync-config-'));
    writeFileSync(
      path.join(d, 'sfsync.config.json'),
      JSON.stringify({
        objects: ['Account', { name: 'Contact', overlapMinutes: 3 }, { name: 'AccountShare', reconcileHours: 6 }],
      }),
    );
    const c = loadConfig({ ...base, SF_PRIVATE_KEY_PATH: keyPath }, {}, d);
    const defaults = { history: false, where: null, columns: { include: null, exclude: [], hash: [] } };
    expect(c.objects).toEqual(
      [
        { name: 'Account', overlapMinutes: 10, fullRefresh: false, formulaRefreshHours: null, reconcileHours: null },
        { name: 'Contact', overlapMinutes: 3, fullRefresh: false, formulaRefreshHours: null, reconcileHours: null },
        { name: 'AccountShare', overlapMinutes: 10, fullRefresh: false, formulaRefreshHours: null, reconcileHours: 6 },
      ].map((o) => ({ ...o, ...defaults })),
    );
    expect(c.objectsChosen).toBe(true);
  });

  it('reads sfsync.config.yaml the same way', () => {
    const d = mkdtempSync(path.join(tmpdir(), 'sfsync-config-'));
    writeFileSync(
      path.join(d, 'sfsync.config.yaml'),
      'objects:\n  - Account\n  - name: Contact\n    overlapMinutes: 3\n',
    );
    const c = loadConfig({ ...base, SF_PRIVATE_KEY_PATH: keyPath }, {}, d);
    expect(c.objects.map((o) => [o.name, o.overlapMinutes])).toEqual([
      ['Account', 10],
      ['Contact', 3],
    ]);
    writeFileSync(path.join(d, 'sfsync.config.yaml'), 'objects: [Account\n');
    expect(() => loadConfig({ ...base, SF_PRIVATE_KEY_PATH: keyPath }, {}, d)).toThrow(
      /config file .*sfsync.config.yaml is not valid YAML at line \d+, column \d+/,
    );
  });

  it('says where a config file does not parse, never quoting it: the text may hold a secret', () => {
    const d = mkdtempSync(path.join(tmpdir(), 'sfsync-config-'));
    const cases: [string, string, RegExp][] = [
      [
        'sfsync.config.yaml',
        'orgs:\n  - name: a\n    clientSecret: s3cr3tVALUE: x\n',
        /not valid YAML at line 3, column 19/,
      ],
      ['sfsync.config.json', '{"orgs": [{"clientSecret": "s3cr3tVALUE" x}]}', /not valid JSON \(/],
      ['sfsync.config.json', '{"orgs": [{"privateKey": "-----BEGIN s3cr3tVALUE\n"}]}', /not valid JSON \(Bad control/],
    ];
    for (const [name, text, expected] of cases) {
      const file = path.join(d, name);
      writeFileSync(file, text);
      let message = '';
      try {
        loadConfig({ ...base, SFSYNC_CONFIG: file }, {}, d);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        message = (err as Error).message;
      }
      expect(message).toMatch(expected);
      expect(message).not.toMatch(/s3cr3t|BEGIN/);
    }
  });

  it('refuses a reconcileHours that is not a positive number', () => {
    const d = mkdtempSync(path.join(tmpdir(), 'sfsync-config-'));
    for (const bad of [0, -1]) {
      writeFileSync(
        path.join(d, 'sfsync.config.json'),
        JSON.stringify({ objects: [{ name: 'AccountShare', reconcileHours: bad }] }),
      );
      expect(() => loadConfig({ ...base, SF_PRIVATE_KEY_PATH: keyPath }, {}, d)).toThrow(/reconcileHours/);
    }
  });

  it('does not require Salesforce settings for commands that only read the database', () => {
    expect(loadConfig({}, { needSalesforce: false }, dir).salesforce).toBeUndefined();
  });

  it('reads schedules from the config file and refuses an invalid cron expression', () => {
    const d = mkdtempSync(path.join(tmpdir(), 'sfsync-config-'));
    writeFileSync(
      path.join(d, 'sfsync.config.json'),
      JSON.stringify({
        schedule: [{ cron: '*/5 * * * *', objects: ['Account'], timezone: 'Europe/Paris' }, { cron: '0 2 * * *' }],
      }),
    );
    expect(loadConfig(base, {}, d).schedule).toEqual([
      { cron: '*/5 * * * *', objects: ['Account'], timezone: 'Europe/Paris' },
      { cron: '0 2 * * *' },
    ]);
    writeFileSync(path.join(d, 'sfsync.config.json'), JSON.stringify({ schedule: 'every night' }));
    expect(() => loadConfig(base, {}, d)).toThrow(/schedule: not a valid cron expression/);
    expect(loadConfig(base, {}, dir).schedule).toEqual([]);
  });
});
