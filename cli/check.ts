// `sfsync check`: a connectivity doctor. One line per check (PASS, WARN: sync copes but differently, FAIL: sync cannot
// run) with the fix: the settings, the login (naming the wrong setting), the API version, the database, each object
// (readable, Bulk API 2.0, getDeleted) and the API budget left.
import { X509Certificate, createPublicKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { type Config, type Env, loadConfig } from '../lib/config.ts';
import { CheckFailedError, ConfigError, SalesforceApiError, oneLine } from '../lib/errors.ts';
import { type Logger, silentLogger } from '../lib/log.ts';
import { isLoopback } from '../lib/loopback.ts';
import {
  type Session,
  fetchToken,
  isSandboxHost,
  loginOrigin,
  normalisePrivateKey,
  signAssertion,
  postToken as postTokenRequest,
} from '../extractors/client/auth.ts';
import { createSalesforceHttp, type SalesforceHttp } from '../extractors/client/salesforceHttp.ts';
import { createTokenProvider } from '../extractors/client/tokenProvider.ts';
import { abortJob, createQueryJob, deleteJob } from '../extractors/bulk/queryJob.ts';
import { describeObject } from '../extractors/describe.ts';
import { getLimits } from '../extractors/limits.ts';
import { describeUrl } from '../pipelines/runtime/database.ts';
import { describeUnknown } from '../lib/didYouMean.ts';
import { type GlobalObject, listOrgObjects } from '../pipelines/runtime/objectNames.ts';
import { type LoginReply, diagnoseLogin } from './loginDiagnosis.ts';

export type CheckStatus = 'PASS' | 'WARN' | 'FAIL';

export interface CheckResult {
  check: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
}

export interface CheckOptions {
  json?: boolean;
  objects?: string;
  sandbox?: boolean;
  /** --org: the org of the config file's `orgs` (required when it lists several). */
  org?: string;
}

const PRODUCTION = 'https://login.salesforce.com';
const SANDBOX = 'https://test.salesforce.com';
const JWT_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** Seconds each doctor call may take: a check should answer quickly, not retry for minutes. */
const CALL_TIMEOUT_MS = 15_000;

const pass = (check: string, detail: string): CheckResult => ({ check, status: 'PASS', detail });
const warn = (check: string, detail: string, fix?: string): CheckResult => ({ check, status: 'WARN', detail, fix });
const fail = (check: string, detail: string, fix?: string): CheckResult => ({ check, status: 'FAIL', detail, fix });

async function postToken(origin: string, form: Record<string, string>): Promise<LoginReply> {
  try {
    const res = await postTokenRequest(origin, form, CALL_TIMEOUT_MS);
    return { status: res.status, body: res.body ?? '', contentType: res.contentType };
  } catch (err) {
    return { status: 0, body: '', code: (err as { code?: string }).code ?? 'unreachable' };
  }
}

function sessionOf(reply: LoginReply): Session | undefined {
  if (reply.status !== 200) return undefined;
  try {
    const j = JSON.parse(reply.body) as { access_token?: unknown; instance_url?: unknown };
    if (typeof j.access_token !== 'string' || typeof j.instance_url !== 'string') return undefined;
    return { accessToken: j.access_token, instanceUrl: j.instance_url.replace(/\/+$/, '') };
  } catch {
    return undefined;
  }
}

/** The certificate sfsync init wrote beside the key (`<name>.crt`, else `sfsync.crt`), and whether it is the key's. */
function certificateBeside(
  keyPath: string | undefined,
  pem: string,
): { path: string; matchesKey: boolean } | undefined {
  if (!keyPath) return undefined;
  const dir = path.dirname(keyPath);
  const base = path.basename(keyPath).replace(/\.[^.]*$/, '');
  const file = [path.join(dir, `${base}.crt`), path.join(dir, 'sfsync.crt')].find((f) => existsSync(f));
  if (!file) return undefined;
  try {
    const der = (k: ReturnType<typeof createPublicKey>) => k.export({ type: 'spki', format: 'der' });
    const certKey = new X509Certificate(readFileSync(file)).publicKey;
    return { path: file, matchesKey: der(certKey).equals(der(createPublicKey(pem))) };
  } catch {
    return { path: file, matchesKey: false };
  }
}

/**
 * docs/salesforce.md#login-hosts-and-instance-url: a sandbox org does not log in at the production host nor the other
 * way round. Only the two public login hosts are tried for each other; local and My Domain hosts are not guessed.
 */
function otherLoginHost(origin: string): string | undefined {
  if (isLoopback(new URL(origin))) return undefined;
  if (origin === PRODUCTION) return SANDBOX;
  if (origin === SANDBOX) return PRODUCTION;
  return undefined;
}

interface LoginOutcome {
  result: CheckResult;
  session?: Session;
}

async function jwtLogin(config: Config, keyPath: string | undefined): Promise<LoginOutcome> {
  const sf = config.salesforce!;
  if (sf.auth.flow !== 'jwt') throw new Error('jwtLogin: not the JWT flow');
  const auth = sf.auth;
  const origin = loginOrigin(sf.loginUrl);
  let key: ReturnType<typeof normalisePrivateKey>;
  try {
    key = normalisePrivateKey(auth.privateKeyPem);
  } catch (err) {
    return { result: fail('login', `SF_PRIVATE_KEY_PATH: ${oneLine(err)}`, 'run sfsync init for a new key') };
  }
  const now = () => Math.floor(Date.now() / 1000);
  const attempt = async (host: string, audience: string) => {
    const assertion = await signAssertion(key, {
      clientId: auth.clientId,
      username: auth.username,
      audience,
      now: now(),
    });
    return postToken(host, { grant_type: JWT_GRANT, assertion });
  };
  let reply = await attempt(origin, origin);
  // docs/salesforce.md#oauth-jwt-bearer-flow: as the sync does, a refused My Domain audience is tried once more with
  // the documented login audience.
  if (/audience is invalid/.test(reply.body)) {
    const fallback = isSandboxHost(origin) ? SANDBOX : PRODUCTION;
    if (fallback !== origin) reply = await attempt(origin, fallback);
  }
  const session = sessionOf(reply);
  if (session) return { session, result: pass('login', `JWT bearer login as ${auth.username} at ${origin}`) };
  const facts = {
    loginUrl: origin,
    flow: 'jwt',
    username: auth.username,
    certificate: certificateBeside(keyPath, auth.privateKeyPem),
  };
  const found = diagnoseLogin(reply, facts);
  // The same app and user at the other public login host: a success (or another refusal than "no such app") there
  // means SF_LOGIN_URL points at the wrong environment.
  const other = otherLoginHost(origin);
  if (other && /invalid_client_id|approved/.test(found.detail)) {
    const there = await attempt(other, other);
    if (sessionOf(there) || (/invalid_client_id/.test(found.detail) && !/invalid_client_id/.test(there.body)))
      return {
        result: fail(
          'login',
          `SF_LOGIN_URL: ${found.detail}; the app and user are known at ${other}`,
          `set SF_LOGIN_URL=${other}`,
        ),
      };
  }
  return { result: fail('login', `${found.setting}: ${found.detail}`, found.fix) };
}

async function otherFlowLogin(config: Config, log: Logger): Promise<LoginOutcome> {
  const sf = config.salesforce!;
  try {
    const session = await fetchToken({ loginUrl: sf.loginUrl, auth: sf.auth, log, timeoutMs: CALL_TIMEOUT_MS });
    return { session, result: pass('login', `${sf.auth.flow} login at ${loginOrigin(sf.loginUrl)}`) };
  } catch (err) {
    const m = /refused: (\S+) \((.*)\)$/.exec(oneLine(err));
    const reply: LoginReply = m
      ? { status: 400, body: JSON.stringify({ error: m[1], error_description: m[2] }) }
      : { status: 0, body: '', code: (err as { code?: string }).code ?? oneLine(err) };
    const found = diagnoseLogin(reply, { loginUrl: sf.loginUrl, flow: sf.auth.flow });
    return { result: fail('login', `${found.setting}: ${found.detail}`, found.fix) };
  }
}

async function checkApiVersion(sf: SalesforceHttp, wanted: string): Promise<CheckResult> {
  try {
    const list = await sf.get<{ version?: string }[]>('/services/data/');
    const versions = (Array.isArray(list) ? list : []).map((v) => String(v?.version)).filter((v) => /^\d/.test(v));
    const newest = versions[versions.length - 1] ?? '?';
    if (versions.includes(wanted)) return pass('api version', `${wanted} is served (the org's newest is ${newest})`);
    // docs/salesforce.md#api-versions: Bulk API 2.0 query needs 47.0, parallel result pages 58.0.
    const usable = versions.filter((v) => Number(v) >= 47 && Number(v) <= Number(wanted));
    const pick = usable[usable.length - 1] ?? newest;
    return fail(
      'api version',
      `SF_API_VERSION=${wanted} is not served by this org (${versions.join(', ')})`,
      `set SF_API_VERSION=${pick}`,
    );
  } catch (err) {
    return fail('api version', `GET /services/data/ failed: ${oneLine(err)}`);
  }
}

async function checkDatabase(config: Config): Promise<CheckResult> {
  if (!config.databaseUrl)
    return warn(
      'database',
      `DATABASE_URL is not set: sync uses the embedded PostgreSQL under ${path.join(config.home, 'pg')} ` +
        '(not started by check)',
      'set DATABASE_URL=postgres://user:password@host:5432/db to load into your own PostgreSQL',
    );
  const where = describeUrl(config.databaseUrl);
  const client = new pg.Client({ connectionString: config.databaseUrl, connectionTimeoutMillis: CALL_TIMEOUT_MS });
  try {
    await client.connect();
  } catch (err) {
    return fail(
      'database',
      `cannot connect to ${where}: ${oneLine(err)}`,
      'check DATABASE_URL (host, port, user, password)',
    );
  }
  try {
    await client.query('CREATE TEMP TABLE sfsync_check (x int)');
    await client.query('INSERT INTO sfsync_check VALUES (1)');
    // sfsync creates its own schema (sfsync) and the data schema on first use unless they exist already.
    const { rows } = await client.query<{ can: boolean; schemas: string[] }>(
      `SELECT has_database_privilege(current_database(), 'CREATE') AS can,
              ARRAY(SELECT nspname::text FROM pg_namespace WHERE nspname IN ('sfsync', $1)
                    AND NOT has_schema_privilege(nspname, 'CREATE')) AS schemas`,
      [config.schema],
    );
    const row = rows[0];
    if (row && row.schemas.length > 0)
      return fail(
        'database',
        `${where}: no CREATE on schema ${row.schemas.join(', ')}`,
        `GRANT CREATE ON SCHEMA ... TO the user of DATABASE_URL`,
      );
    if (row && !row.can) {
      const exists = await client.query(`SELECT 1 FROM pg_namespace WHERE nspname IN ('sfsync', $1)`, [config.schema]);
      if (exists.rowCount !== 2)
        return fail(
          'database',
          `${where}: the user may not create schemas`,
          'GRANT CREATE ON DATABASE ... TO the user of DATABASE_URL',
        );
    }
    return pass('database', `${where} reachable and writable (schema ${config.schema})`);
  } catch (err) {
    return fail('database', `${where}: ${oneLine(err)}`, 'give the DATABASE_URL user the right to create tables');
  } finally {
    await client.end().catch(() => {});
  }
}

async function checkObject(
  sf: SalesforceHttp,
  name: string,
  org: GlobalObject[],
  user: string,
): Promise<CheckResult[]> {
  const listed = org.find((o) => o.name.toLowerCase() === name.toLowerCase());
  const noAccess = (why: string) =>
    fail(
      `object ${name}`,
      `${why}: no such object, or ${user}'s profile and permission sets lack Read on it`,
      `grant Read on ${name} to the integration user (profile or permission set), or remove it from the object list`,
    );
  if (!listed)
    return [
      noAccess(
        `${describeUnknown(
          name,
          org.map((o) => o.name),
        )} is not in the org's object list`,
      ),
    ];
  if (!listed.queryable) return [fail(`object ${name}`, `${name} cannot be queried (describeGlobal queryable: false)`)];
  const out: CheckResult[] = [];
  try {
    const { raw } = await describeObject(sf, listed.name, null);
    out.push(pass(`object ${name}`, `readable, ${raw.length} fields`));
  } catch (err) {
    // docs/salesforce.md#sobject-describe: 404 NOT_FOUND (INVALID_TYPE from SOQL) means unknown or not readable.
    if (err instanceof SalesforceApiError && (err.status === 404 || err.errorCode === 'INVALID_TYPE'))
      return [noAccess('describe answered ' + err.errorCode)];
    return [fail(`object ${name}`, `describe failed: ${oneLine(err)}`)];
  }
  // docs/salesforce.md#bulk-api-20-soql-restrictions: no LIMIT sent to Bulk; a filter that matches nothing keeps the
  // job trivial, and it is aborted and deleted at once (docs/salesforce.md#bulk-api-20-abort-and-delete).
  try {
    const job = await createQueryJob(sf, { soql: `SELECT Id FROM ${listed.name} WHERE Id = null`, operation: 'query' });
    await abortJob(sf, job.id).catch(() => {});
    await deleteJob(sf, job.id).catch(() => {});
    out.push(pass(`bulk ${name}`, 'Bulk API 2.0 query jobs accepted'));
  } catch (err) {
    out.push(
      warn(
        `bulk ${name}`,
        `Bulk API 2.0 refused the object (${oneLine(err)})`,
        'nothing to do: sync reads it through the REST query resource instead, more slowly',
      ),
    );
  }
  // docs/salesforce.md#getdeleted: only replicateable objects can be asked.
  out.push(
    listed.replicateable
      ? pass(`getDeleted ${name}`, 'replicateable: hard deletes come from getDeleted')
      : warn(
          `getDeleted ${name}`,
          'not replicateable: getDeleted refuses it',
          'nothing to do: its deletes are found by Id reconciliation (per-object reconcileHours, 24 by default)',
        ),
  );
  return out;
}

async function checkLimits(sf: SalesforceHttp, config: Config): Promise<CheckResult> {
  try {
    const api = (await getLimits(sf)).DailyApiRequests;
    if (!api) return warn('api budget', '/limits has no DailyApiRequests');
    const used = api.max - api.remaining;
    const share = api.max > 0 ? used / api.max : 1;
    const detail = `${api.remaining} of ${api.max} daily API requests left (${Math.round(share * 100)}% used)`;
    // docs/salesforce.md#limits: past SFSYNC_MAX_ORG_API_SHARE the budget guard starts no object.
    if (share >= config.maxOrgApiShare)
      return fail(
        'api budget',
        `${detail}: past SFSYNC_MAX_ORG_API_SHARE=${config.maxOrgApiShare}, sync would start no object`,
        'wait for the rolling 24 h window, or raise SFSYNC_MAX_ORG_API_SHARE',
      );
    return pass('api budget', detail);
  } catch (err) {
    // docs/salesforce.md#limits-resource: /limits needs "View Setup and Configuration".
    return warn(
      'api budget',
      `GET /limits failed (${oneLine(err)})`,
      'give the integration user "View Setup and Configuration", or rely on Sforce-Limit-Info alone',
    );
  }
}

export async function runChecks(opts: CheckOptions, env: Env): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const flags = { objects: opts.objects, sandbox: opts.sandbox, org: opts.org };
  let config: Config;
  try {
    config = loadConfig(env, flags);
    results.push(pass('settings', `${config.salesforce!.auth.flow} login at ${config.salesforce!.loginUrl}`));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    results.push(fail('settings', oneLine(err), 'set the variables named (sfsync init writes a file of them)'));
    // Without Salesforce settings the database can still be checked.
    let dbOnly: Config;
    try {
      dbOnly = loadConfig(env, { ...flags, needSalesforce: false });
    } catch {
      return results;
    }
    results.push(await checkDatabase(dbOnly));
    return results;
  }
  const log = silentLogger();
  const sfConfig = config.salesforce!;
  const keyPath = env.SF_PRIVATE_KEY_PATH ? path.resolve(env.SF_PRIVATE_KEY_PATH) : undefined;
  const [login, database] = await Promise.all([
    sfConfig.auth.flow === 'jwt' ? jwtLogin(config, keyPath) : otherFlowLogin(config, log),
    checkDatabase(config),
  ]);
  results.push(login.result);
  if (login.session) {
    const session = login.session;
    const sf = createSalesforceHttp({
      tokens: createTokenProvider({ loginUrl: sfConfig.loginUrl, auth: sfConfig.auth, log, mint: async () => session }),
      apiVersion: sfConfig.apiVersion,
      log,
      retry: { attempts: 2 },
      timeouts: { responseMs: CALL_TIMEOUT_MS, idleMs: CALL_TIMEOUT_MS },
    });
    const version = await checkApiVersion(sf, sfConfig.apiVersion);
    results.push(version);
    if (version.status !== 'FAIL') {
      const user = 'username' in sfConfig.auth ? sfConfig.auth.username : 'the integration user';
      let org: GlobalObject[] | undefined;
      try {
        org = await listOrgObjects(sf);
      } catch (err) {
        results.push(fail('objects', `describeGlobal failed: ${oneLine(err)}`));
      }
      if (org) for (const o of config.objects) results.push(...(await checkObject(sf, o.name, org, user)));
      results.push(await checkLimits(sf, config));
    }
  }
  results.push(database);
  return results;
}

export function formatChecks(results: readonly CheckResult[]): string {
  const width = Math.max(...results.map((r) => r.check.length));
  return results
    .map((r) => `${r.status} ${r.check.padEnd(width)}  ${r.detail}${r.fix ? `. Fix: ${r.fix}` : ''}\n`)
    .join('');
}

export async function runCheck(opts: CheckOptions, env: Env): Promise<void> {
  const results = await runChecks(opts, env);
  const failed = results.filter((r) => r.status === 'FAIL');
  process.stdout.write(
    opts.json ? `${JSON.stringify({ ok: failed.length === 0, checks: results }, null, 2)}\n` : formatChecks(results),
  );
  if (failed.length > 0)
    throw new CheckFailedError(
      `${failed.length} of ${results.length} checks failed: ${failed.map((r) => r.check).join(', ')}`,
    );
}
