// The config file's `orgs`: each org's Config, secrets by reference only, and the refusals (lib/config.ts).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_OBJECTS, loadConfig, loadConfigs } from '../../lib/config.ts';
import { ConfigError } from '../../lib/errors.ts';

const PEM = '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----';

/** A directory holding `config` as sfsync.config.json and a key file keys/emea.pem. */
function project(config: unknown): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'sfsync-orgs-'));
  writeFileSync(path.join(dir, 'sfsync.config.json'), JSON.stringify(config));
  writeFileSync(path.join(dir, 'emea.pem'), `${PEM}\n`);
  writeFileSync(path.join(dir, 'us.secret'), 'us-secret\n');
  return dir;
}

const emea = {
  name: 'emea',
  loginUrl: 'https://emea.my.salesforce.com',
  clientId: 'emea-app',
  username: 'sync@emea.example.com',
  privateKey: { file: 'emea.pem' },
  objects: ['Account'],
  schedule: '0 3 * * *',
  maxOrgApiShare: 0.5,
};
const us = {
  name: 'us',
  authFlow: 'client_credentials',
  loginUrl: 'https://us.my.salesforce.com',
  clientId: { env: 'US_CLIENT_ID' },
  clientSecret: { file: 'us.secret' },
  schema: 'sf_us',
  concurrency: 2,
};
const ENV = { US_CLIENT_ID: 'us-app', SF_CLIENT_ID: 'ignored' };

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('orgs in the config file', () => {
  it('gives each org its login, schema, objects, schedule and budget; the top-level keys are defaults', () => {
    const dir = project({ objects: ['Contact', 'Lead'], overlapMinutes: 3, orgs: [emea, us] });
    const [a, b] = loadConfigs(ENV, {}, dir);
    expect(a).toMatchObject({
      org: 'emea',
      schema: 'salesforce_emea',
      maxOrgApiShare: 0.5,
      maxRunApiShare: 0.25,
      concurrency: 4,
      schedule: [{ cron: '0 3 * * *' }],
      salesforce: {
        loginUrl: 'https://emea.my.salesforce.com',
        auth: { flow: 'jwt', clientId: 'emea-app', username: 'sync@emea.example.com', privateKeyPem: PEM },
      },
    });
    expect(a?.objects.map((o) => [o.name, o.overlapMinutes])).toEqual([['Account', 3]]);
    expect(b).toMatchObject({
      org: 'us',
      schema: 'sf_us',
      maxOrgApiShare: 0.8,
      concurrency: 2,
      schedule: [],
      salesforce: { auth: { flow: 'client_credentials', clientId: 'us-app', clientSecret: 'us-secret' } },
    });
    expect(b?.objects.map((o) => o.name)).toEqual(['Contact', 'Lead']);
  });

  it('chooses one org with --org; loadConfig asks for it when there are several', () => {
    const dir = project({ orgs: [emea, us] });
    expect(loadConfigs(ENV, { org: 'us' }, dir).map((c) => c.org)).toEqual(['us']);
    expect(loadConfig(ENV, { org: 'emea' }, dir).schema).toBe('salesforce_emea');
    expect(refusal(() => loadConfig(ENV, {}, dir))).toBe(
      'the config file lists 2 orgs (emea, us): choose one with --org',
    );
    expect(refusal(() => loadConfigs(ENV, { org: 'emia' }, dir))).toBe(
      "--org: 'emia' (did you mean emea?) is not an org of the config file (orgs: emea, us)",
    );
  });

  it('keeps one implicit org `default` from the SF_* settings when the file has no orgs', () => {
    const dir = project({ objects: ['Account'] });
    const env = { SF_CLIENT_ID: 'cid', SF_USERNAME: 'u@example.com', SF_PRIVATE_KEY: PEM, SFSYNC_SCHEMA: 'crm' };
    const [only, ...none] = loadConfigs(env, {}, dir);
    expect(none).toEqual([]);
    expect(only).toMatchObject({ org: 'default', schema: 'crm', salesforce: { auth: { clientId: 'cid' } } });
    expect(loadConfig(env, { org: 'default' }, dir).schema).toBe('crm');
    expect(refusal(() => loadConfig(env, { org: 'defualt' }, dir))).toMatch(
      /^--org: 'defualt' \(did you mean default\?\) is not an org: the config file lists no orgs/,
    );
    expect(loadConfig({}, { needSalesforce: false }, project({})).objects.map((o) => o.name)).toEqual(DEFAULT_OBJECTS);
  });

  it('refuses an inline secret, naming the key', () => {
    const dir = project({ orgs: [{ ...us, clientSecret: 'hunter2-in-the-file' }] });
    const message = refusal(() => loadConfigs(ENV, {}, dir));
    expect(message).toMatch(/orgs\.0\.clientSecret: inline secrets are refused: write \{env: 'VARIABLE'\}/);
    expect(message).not.toContain('hunter2');
  });

  it('refuses two orgs in one schema, a name used twice, and SFSYNC_SCHEMA beside orgs', () => {
    const twins = project({ orgs: [emea, { ...us, schema: 'salesforce_emea' }] });
    expect(refusal(() => loadConfigs(ENV, { org: 'us' }, twins))).toBe(
      'orgs: emea and us both use schema salesforce_emea: each org needs a schema of its own ' +
        '(its tables and sfsync state live there)',
    );
    expect(refusal(() => loadConfigs(ENV, {}, project({ orgs: [us, { ...us, schema: 'other' }] })))).toBe(
      'orgs: the name us is used twice',
    );
    expect(refusal(() => loadConfigs({ ...ENV, SFSYNC_SCHEMA: 'salesforce' }, {}, project({ orgs: [us] })))).toMatch(
      /^SFSYNC_SCHEMA=salesforce is set, but the config file lists orgs/,
    );
  });

  it('refuses a schema name PostgreSQL would cut to 63 bytes (two orgs would share the cut schema)', () => {
    const long = `s${'x'.repeat(62)}`;
    const cut = project({
      orgs: [
        { ...emea, schema: `${long}a` },
        { ...us, schema: `${long}b` },
      ],
    });
    expect(refusal(() => loadConfigs(ENV, {}, cut))).toMatch(/orgs\.0\.schema: .*63/);
    expect(loadConfigs(ENV, {}, project({ orgs: [{ ...us, schema: long }] }))[0]?.schema).toBe(long);
    const env = { ...ENV, SF_USERNAME: 'u@example.com', SF_PRIVATE_KEY: PEM, SFSYNC_SCHEMA: `${long}a` };
    expect(refusal(() => loadConfig(env, {}, project({})))).toMatch(/SFSYNC_SCHEMA.*63/);
  });

  it('names the reference of a secret it cannot read, and reads none when the command needs no login', () => {
    const dir = project({ orgs: [emea, { ...us, clientSecret: { file: 'missing.secret' } }] });
    const message = refusal(() => loadConfigs({}, {}, dir));
    expect(message).toContain('org us: clientId: environment variable US_CLIENT_ID is not set');
    expect(message).toContain(`org us: clientSecret: cannot read ${path.join(dir, 'missing.secret')} (no such file)`);
    expect(loadConfigs({}, { needSalesforce: false }, dir).map((c) => [c.org, c.salesforce])).toEqual([
      ['emea', undefined],
      ['us', undefined],
    ]);
  });

  it('takes a key from an environment variable with \\n for line breaks', () => {
    const dir = project({ orgs: [{ ...emea, privateKey: { env: 'EMEA_KEY' } }] });
    const c = loadConfig({ EMEA_KEY: PEM.replaceAll('\n', '\\n') }, {}, dir);
    expect(c.salesforce?.auth).toMatchObject({ privateKeyPem: PEM });
  });
});
