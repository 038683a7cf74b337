// loadConfig: the environment (read once, by cli/main.ts) and the config file -> the typed, frozen Config that
// everything deeper receives.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as z from 'zod/mini';
import { configFileSchema, envSchema, type ConfigFile, type OrgOptions } from '../schemas/config.ts';
import { describeUnknown } from './didYouMean.ts';
import { ConfigError } from './errors.ts';
import { httpsUnlessLoopback } from './loopback.ts';
import { readSecret, type SecretSource } from './secretRef.ts';

export const PRODUCTION_LOGIN_URL = 'https://login.salesforce.com';
export const SANDBOX_LOGIN_URL = 'https://test.salesforce.com';

/** The standard set synced when neither --objects nor the config file names objects. */
export const DEFAULT_OBJECTS = ['Account', 'Contact', 'Opportunity', 'Lead', 'User', 'Task'];

export type AuthConfig =
  | { flow: 'jwt'; clientId: string; username: string; privateKeyPem: string }
  | { flow: 'client_credentials'; clientId: string; clientSecret: string }
  | { flow: 'refresh_token'; clientId: string; clientSecret?: string; refreshToken: string }
  | { flow: 'password'; clientId: string; clientSecret: string; username: string; password: string };

export interface ObjectOptions {
  name: string;
  overlapMinutes: number;
  fullRefresh: boolean;
  /** Refresh formula fields when the last refresh is older than this; null = only when a formula's text changes. */
  formulaRefreshHours: number | null;
  /**
   * Reconcile Ids when the last reconciliation (or, before any, the first load) is older than this; null = the default
   * for the object (pipelines/completeness/reconcileObject.ts reconcileHoursOf).
   */
  reconcileHours: number | null;
  /** Keep a type-2 history table (loaders/history.ts). */
  history: boolean;
  /** A validated SOQL condition every read of the object is limited to; null = the whole object. */
  where: string | null;
  columns: ColumnOptions;
}

/** Which fields to load and which to hash; API names as the config spells them. */
export interface ColumnOptions {
  include: readonly string[] | null;
  exclude: readonly string[];
  hash: readonly string[];
}

/** A relationship pipeline (schemas/config.ts pipelineOptions). */
export interface PipelineOptions {
  name: string;
  soql: string;
  overlapMinutes: number;
  /** Selected paths stored as keyed hashes (SFSYNC_HASH_KEY). */
  hash: readonly string[];
}

export interface SalesforceConfig {
  loginUrl: string;
  apiVersion: string;
  auth: AuthConfig;
}

export interface ScheduleGroup {
  cron: string;
  objects?: readonly string[];
  timezone?: string;
}

export interface Config {
  /**
   * The org these settings are for: a config file `orgs` entry's name, else DEFAULT_ORG (the SF_* variables and
   * SFSYNC_SCHEMA). Absent in hand-built configs, which are DEFAULT_ORG too.
   */
  org?: string;
  /** Undefined when Salesforce settings are not needed by the command (status, migrate). */
  salesforce?: SalesforceConfig;
  databaseUrl?: string;
  schema: string;
  objects: ObjectOptions[];
  /** True when the object list came from --objects or the config file (not the default set). */
  objectsChosen: boolean;
  /**
   * Where the object list came from: an `--objects` name the org lacks is a typo that stops the command; one from the
   * file or the default set is skipped with a warning (pipelines/runtime/objectNames.ts).
   */
  objectsFrom: 'flag' | 'file' | 'default';
  concurrency: number;
  bulkThreshold: number;
  /** Bulk loads of more records than this are split into cursor windows, each committed with its own watermark. */
  windowRows: number;
  /**
   * Bulk result pages downloaded at once through resultPages (docs/salesforce.md#bulk-api-20-parallel-results, API
   * 58.0+); 1 = the locator loop.
   */
  bulkParallel: number;
  /**
   * docs/salesforce.md#timeouts: every Salesforce call's response headers must arrive within this (connect included),
   * else it is sent again.
   */
  httpTimeoutMs: number;
  /** docs/salesforce.md#timeouts: a response body that sends nothing for this long is dropped and requested again. */
  idleTimeoutMs: number;
  /** An object another sfsync process is loading: wait for it (true) or skip it with LockedError (false). */
  waitForLock: boolean;
  /** Stop starting objects when the org's daily API usage would pass this share of its allowance. */
  maxOrgApiShare: number;
  /** Stop starting objects when this run alone has spent this share of the daily allowance. */
  maxRunApiShare: number;
  /**
   * `sfsync worker`: how long a job may hold its lease (SFSYNC_JOB_LEASE_SECONDS); a dead worker's job runs again
   * after it. Absent in hand-built configs: the default.
   */
  jobLeaseSeconds?: number;
  logLevel: string;
  /** Every log record is appended here as JSON (SFSYNC_LOG_FILE, --log-file); null: the command's default. */
  logFile: string | null;
  /** A terminal shows every log record, not only warnings, errors and finished objects (SFSYNC_VERBOSE, --verbose). */
  verbose: boolean;
  home: string;
  pipelines: PipelineOptions[];
  /** SFSYNC_HASH_KEY: required when an object hashes columns; never logged. */
  hashKey: string | null;
  /** From the config file's `schedule` key; empty when it has none. */
  schedule: readonly ScheduleGroup[];
  /**
   * SFSYNC_EXACT_NUMERIC=1: new double, currency and percent columns are numeric(precision, scale) from describe,
   * which rounds decimals Salesforce keeps beyond the scale (docs/salesforce.md#field-sizes). Absent = false.
   */
  exactNumeric?: boolean;
  /** SF_PUBSUB_ENDPOINT: host:port of the Pub/Sub API (`sfsync stream`); absent = the default endpoint. */
  pubsubEndpoint?: string;
  /**
   * PEM files the Pub/Sub channel trusts besides Node's CA store: NODE_EXTRA_CA_CERTS, and the gRPC roots file
   * (GRPC_DEFAULT_SSL_ROOTS_FILE_PATH) when one is set.
   */
  extraCaFiles?: readonly string[];
}

export interface Flags {
  objects?: string;
  sandbox?: boolean;
  concurrency?: number;
  needSalesforce?: boolean;
  /** Wait for another process loading the same object instead of skipping it. */
  waitForLock?: boolean;
  /** --org: the one org of the config file's `orgs` to use (loadConfigs: absent = every org). */
  org?: string;
}

/** The one org of an install whose config file has no `orgs` key. */
export const DEFAULT_ORG = 'default';

/** An org's schema when its entry names none. */
export function orgSchemaOf(org: Pick<OrgOptions, 'name' | 'schema'>): string {
  return org.schema ?? `salesforce_${org.name}`;
}

function formatIssues(issues: readonly z.core.$ZodIssue[], prefix = ''): string[] {
  return issues.map((i) => {
    const where = i.path.length > 0 ? `${prefix}${i.path.join('.')}: ` : prefix;
    return `${where}${i.message}`;
  });
}

/** yaml is loaded only for a YAML config file: most runs have none, and loading it costs every command ~40 ms. */
function parseYaml(text: string): unknown {
  const { parse } = createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return parse(text);
}

/**
 * Where and why the text is not YAML or JSON, without the text itself: the parsers quote the lines around the fault,
 * which may hold a secret pasted inline (a private key breaks YAML more often than not).
 */
function parseProblem(err: unknown): string {
  const e = err as Error & { code?: string; linePos?: { line: number; col: number }[] };
  const at = e.linePos?.[0];
  if (at) return `not valid YAML at line ${at.line}, column ${at.col} (${e.code ?? 'parse error'})`;
  return `not valid JSON (${e.message.split(/,? \.\.\."|, "|: "/)[0]})`;
}

function readConfigFile(file: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config file ${file} is ${parseProblem(err)}`);
  }
  const result = configFileSchema.safeParse(parsed ?? {});
  if (!result.success) throw new ConfigError(`config file ${file}: ${formatIssues(result.error.issues).join('; ')}`);
  return result.data;
}

function findConfigFile(cwd: string, explicit?: string): string | undefined {
  if (explicit) {
    const file = path.resolve(cwd, explicit);
    if (!existsSync(file)) throw new ConfigError(`SFSYNC_CONFIG points at ${file}, which does not exist`);
    return file;
  }
  for (const name of ['sfsync.config.json', 'sfsync.config.yaml', 'sfsync.config.yml']) {
    const file = path.join(cwd, name);
    if (existsSync(file)) return file;
  }
  return undefined;
}

function readPrivateKey(env: z.infer<typeof envSchema>, cwd: string, problems: string[]): string {
  if (env.SF_PRIVATE_KEY) return env.SF_PRIVATE_KEY.replace(/\\n/g, '\n');
  if (!env.SF_PRIVATE_KEY_PATH) {
    problems.push(
      'SF_PRIVATE_KEY_PATH (or SF_PRIVATE_KEY) is required for the JWT flow: ' +
        'the PEM private key of the Connected App certificate',
    );
    return '';
  }
  const file = path.resolve(cwd, env.SF_PRIVATE_KEY_PATH);
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    problems.push(
      `SF_PRIVATE_KEY_PATH: cannot read ${file} (${code === 'ENOENT' ? 'no such file' : (code ?? 'unreadable')})`,
    );
    return '';
  }
}

function buildAuth(env: z.infer<typeof envSchema>, cwd: string, problems: string[]): AuthConfig {
  const need = (name: keyof typeof env, why: string): string => {
    const v = env[name];
    if (typeof v === 'string' && v.length > 0) return v;
    problems.push(`${name} is required ${why}`);
    return '';
  };
  const flow = env.SF_AUTH_FLOW;
  const clientId = need('SF_CLIENT_ID', '(the Connected App consumer key)');
  switch (flow) {
    case 'jwt':
      return {
        flow,
        clientId,
        username: need('SF_USERNAME', 'for the JWT flow (the integration user)'),
        privateKeyPem: readPrivateKey(env, cwd, problems),
      };
    case 'client_credentials':
      return { flow, clientId, clientSecret: need('SF_CLIENT_SECRET', 'for the client-credentials flow') };
    case 'refresh_token':
      return {
        flow,
        clientId,
        clientSecret: env.SF_CLIENT_SECRET,
        refreshToken: need('SF_REFRESH_TOKEN', 'for the refresh-token flow'),
      };
    case 'password':
      return {
        flow,
        clientId,
        clientSecret: need('SF_CLIENT_SECRET', 'for the password flow'),
        username: need('SF_USERNAME', 'for the password flow'),
        password: need('SF_PASSWORD', 'for the password flow'),
      };
  }
}

function parseObjectList(text: string, problems: string[]): string[] {
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0) problems.push('--objects: give at least one object, e.g. --objects Account,Contact');
  for (const n of names)
    if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(n)) problems.push(`--objects: '${n}' is not a Salesforce API name`);
  return names;
}

/** The environment variables, as cli/main.ts hands them on. */
export type Env = Readonly<Record<string, string | undefined>>;

/** The settings of one org: the only org, or the one --org names; several orgs and no --org is a ConfigError. */
export function loadConfig(env: Env, flags: Flags = {}, cwd = process.cwd()): Readonly<Config> {
  const configs = loadConfigs(env, flags, cwd);
  if (configs.length > 1)
    throw new ConfigError(
      `the config file lists ${configs.length} orgs (${configs.map((c) => c.org).join(', ')}): choose one with --org`,
    );
  return configs[0]!;
}

/**
 * The settings of every org of the config file's `orgs` (or of the one --org names), in the file's order; without
 * `orgs`, the one org DEFAULT_ORG from the SF_* variables, exactly as before orgs existed.
 */
export function loadConfigs(env: Env, flags: Flags = {}, cwd = process.cwd()): Readonly<Config>[] {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(formatIssues(parsed.error.issues).join('; '));
  const e = parsed.data;
  const file = findConfigFile(cwd, e.SFSYNC_CONFIG);
  const fileConfig = file ? readConfigFile(file) : {};
  if (!file || !fileConfig.orgs) {
    if (flags.org !== undefined && flags.org !== DEFAULT_ORG)
      throw new ConfigError(
        `--org: ${describeUnknown(flags.org, [DEFAULT_ORG])} is not an org: the config file lists no orgs, ` +
          `so the one org is ${DEFAULT_ORG} (SF_* settings)`,
      );
    return [configOf(e, fileConfig, flags, cwd)];
  }
  const orgs = chooseOrgs(fileConfig.orgs, flags.org, env);
  const source = { env, dir: path.dirname(file) };
  return orgs.map((org) => configOf(e, withOrgDefaults(fileConfig, org), flags, cwd, { org, source }));
}

/** Names and schemas are distinct (an org's tables and sfsync state live in its schema); --org must name one. */
function chooseOrgs(orgs: readonly OrgOptions[], chosen: string | undefined, env: Env): OrgOptions[] {
  const problems: string[] = [];
  if (env.SFSYNC_SCHEMA !== undefined)
    problems.push(
      `SFSYNC_SCHEMA=${env.SFSYNC_SCHEMA} is set, but the config file lists orgs: give each org its schema in the ` +
        'file (orgs[].schema) and unset SFSYNC_SCHEMA',
    );
  const names = new Set<string>();
  const schemas = new Map<string, string>();
  for (const org of orgs) {
    if (names.has(org.name)) problems.push(`orgs: the name ${org.name} is used twice`);
    names.add(org.name);
    const schema = orgSchemaOf(org);
    const other = schemas.get(schema);
    if (other !== undefined && other !== org.name)
      problems.push(
        `orgs: ${other} and ${org.name} both use schema ${schema}: each org needs a schema of its own ` +
          '(its tables and sfsync state live there)',
      );
    schemas.set(schema, org.name);
  }
  if (problems.length > 0) throw new ConfigError(problems.join('; '));
  if (chosen === undefined) return [...orgs];
  const org = orgs.find((o) => o.name === chosen);
  if (!org)
    throw new ConfigError(
      `--org: ${describeUnknown(chosen, [...names])} is not an org of the config file (orgs: ${[...names].join(', ')})`,
    );
  return [org];
}

/** An org's own objects, schedule, pipelines, concurrency and overlap; the file's top-level keys where it has none. */
function withOrgDefaults(file: ConfigFile, org: OrgOptions): ConfigFile {
  return {
    ...file,
    objects: org.objects ?? file.objects,
    schedule: org.schedule ?? file.schedule,
    pipelines: org.pipelines ?? file.pipelines,
    concurrency: org.concurrency ?? file.concurrency,
    overlapMinutes: org.overlapMinutes ?? file.overlapMinutes,
  };
}

function orgSalesforce(org: OrgOptions, e: z.infer<typeof envSchema>, flags: Flags, source: SecretSource) {
  const problems: string[] = [];
  const loginUrl = (org.loginUrl ?? (flags.sandbox ? SANDBOX_LOGIN_URL : PRODUCTION_LOGIN_URL)).replace(/\/+$/, '');
  const insecure = httpsUnlessLoopback(new URL(loginUrl), `org ${org.name}: loginUrl`);
  if (insecure) problems.push(insecure);
  const salesforce = { loginUrl, apiVersion: org.apiVersion ?? e.SF_API_VERSION, auth: orgAuth(org, source, problems) };
  return { salesforce, problems };
}

/** buildAuth's checks for an org entry: each secret read through its reference (lib/secretRef.ts). */
function orgAuth(org: OrgOptions, source: SecretSource, problems: string[]): AuthConfig {
  const at = `org ${org.name}`;
  const secret = (key: 'privateKey' | 'clientSecret' | 'password' | 'refreshToken', why?: string): string => {
    const ref = org[key];
    if (ref) return readSecret(ref, `${at}: ${key}`, source, problems);
    if (why) problems.push(`${at}: ${key} is required ${why}`);
    return '';
  };
  const username = (why: string): string => {
    if (!org.username) problems.push(`${at}: username is required ${why}`);
    return org.username ?? '';
  };
  let clientId = typeof org.clientId === 'string' ? org.clientId : '';
  if (typeof org.clientId === 'object') clientId = readSecret(org.clientId, `${at}: clientId`, source, problems);
  if (org.clientId === undefined) problems.push(`${at}: clientId is required (the Connected App consumer key)`);
  const flow = org.authFlow ?? 'jwt';
  switch (flow) {
    case 'jwt':
      return {
        flow,
        clientId,
        username: username('for the JWT flow (the integration user)'),
        // A key in an environment variable often has its line breaks written as \n (as SF_PRIVATE_KEY).
        privateKeyPem: secret('privateKey', 'for the JWT flow: the PEM private key of the Connected App').replace(
          /\\n/g,
          '\n',
        ),
      };
    case 'client_credentials':
      return { flow, clientId, clientSecret: secret('clientSecret', 'for the client-credentials flow') };
    case 'refresh_token':
      return {
        flow,
        clientId,
        clientSecret: org.clientSecret ? secret('clientSecret') : undefined,
        refreshToken: secret('refreshToken', 'for the refresh-token flow'),
      };
    case 'password':
      return {
        flow,
        clientId,
        clientSecret: secret('clientSecret', 'for the password flow'),
        username: username('for the password flow'),
        password: secret('password', 'for the password flow'),
      };
  }
}

/** One org's Config: the SF_* variables (no `org`), or an `orgs` entry with its secrets. */
function configOf(
  e: z.infer<typeof envSchema>,
  fileConfig: ConfigFile,
  flags: Flags,
  cwd: string,
  org?: { org: OrgOptions; source: SecretSource },
): Readonly<Config> {
  const problems: string[] = [];
  const overlapDefault = fileConfig.overlapMinutes ?? e.SFSYNC_OVERLAP_MINUTES;

  let salesforce: SalesforceConfig | undefined;
  if (flags.needSalesforce !== false && org) {
    const built = orgSalesforce(org.org, e, flags, org.source);
    salesforce = built.salesforce;
    problems.push(...built.problems);
  } else if (flags.needSalesforce !== false) {
    const loginUrl = (e.SF_LOGIN_URL ?? (flags.sandbox ? SANDBOX_LOGIN_URL : PRODUCTION_LOGIN_URL)).replace(/\/+$/, '');
    const insecure = httpsUnlessLoopback(new URL(loginUrl), 'SF_LOGIN_URL');
    if (insecure) problems.push(insecure);
    salesforce = { loginUrl, apiVersion: e.SF_API_VERSION, auth: buildAuth(e, cwd, problems) };
  }

  const fromFile = (fileConfig.objects ?? []).map((o) => (typeof o === 'string' ? { name: o } : o));
  const byName = new Map(fromFile.map((o) => [o.name.toLowerCase(), o]));
  const names = flags.objects
    ? parseObjectList(flags.objects, problems)
    : fromFile.length > 0
      ? fromFile.map((o) => o.name)
      : DEFAULT_OBJECTS;
  const objects = names.map((name) => {
    const o = byName.get(name.toLowerCase());
    return {
      name,
      overlapMinutes: o?.overlapMinutes ?? overlapDefault,
      fullRefresh: o?.fullRefresh ?? false,
      formulaRefreshHours: o?.formulaRefreshHours ?? null,
      reconcileHours: o?.reconcileHours ?? null,
      history: o?.history ?? false,
      where: o?.where ?? null,
      columns: {
        include: o?.columns?.include ?? null,
        exclude: o?.columns?.exclude ?? [],
        hash: o?.columns?.hash ?? [],
      },
    };
  });
  if (objects.some((o) => o.columns.hash.length > 0) && !e.SFSYNC_HASH_KEY)
    problems.push('SFSYNC_HASH_KEY is required when an object hashes columns (columns.hash)');
  const pipelines = (fileConfig.pipelines ?? []).map((p) => ({
    name: p.name,
    soql: p.soql,
    overlapMinutes: p.overlapMinutes ?? overlapDefault,
    hash: p.hash ?? [],
  }));
  if (pipelines.some((p) => p.hash.length > 0) && !e.SFSYNC_HASH_KEY)
    problems.push('SFSYNC_HASH_KEY is required when a pipeline hashes columns (pipelines[].hash)');
  if (problems.length > 0) throw new ConfigError(problems.join('; '));
  return Object.freeze({
    org: org?.org.name ?? DEFAULT_ORG,
    salesforce,
    databaseUrl: e.DATABASE_URL,
    schema: org ? orgSchemaOf(org.org) : e.SFSYNC_SCHEMA,
    objects,
    objectsChosen: Boolean(flags.objects) || fromFile.length > 0,
    objectsFrom: flags.objects ? 'flag' : fromFile.length > 0 ? 'file' : 'default',
    concurrency: flags.concurrency ?? fileConfig.concurrency ?? e.SFSYNC_CONCURRENCY,
    bulkThreshold: fileConfig.bulkThreshold ?? e.SFSYNC_BULK_THRESHOLD,
    windowRows: fileConfig.windowRows ?? e.SFSYNC_WINDOW_ROWS,
    bulkParallel: e.SFSYNC_BULK_PARALLEL,
    httpTimeoutMs: Math.round(e.SFSYNC_HTTP_TIMEOUT_SECONDS * 1000),
    idleTimeoutMs: Math.round(e.SFSYNC_IDLE_TIMEOUT_SECONDS * 1000),
    waitForLock: flags.waitForLock ?? false,
    maxOrgApiShare: org?.org.maxOrgApiShare ?? e.SFSYNC_MAX_ORG_API_SHARE,
    maxRunApiShare: org?.org.maxRunApiShare ?? e.SFSYNC_MAX_RUN_API_SHARE,
    jobLeaseSeconds: e.SFSYNC_JOB_LEASE_SECONDS,
    logLevel: e.LOG_LEVEL,
    logFile: e.SFSYNC_LOG_FILE ? path.resolve(cwd, e.SFSYNC_LOG_FILE) : null,
    verbose: e.SFSYNC_VERBOSE === '1',
    home: path.resolve(cwd, e.SFSYNC_HOME),
    pipelines,
    hashKey: e.SFSYNC_HASH_KEY ?? null,
    schedule: typeof fileConfig.schedule === 'string' ? [{ cron: fileConfig.schedule }] : (fileConfig.schedule ?? []),
    exactNumeric: e.SFSYNC_EXACT_NUMERIC === '1',
    pubsubEndpoint: e.SF_PUBSUB_ENDPOINT,
    extraCaFiles: [e.NODE_EXTRA_CA_CERTS, e.GRPC_DEFAULT_SSL_ROOTS_FILE_PATH].filter((f): f is string => !!f),
  });
}

/** LOG_LEVEL as set, before (or without) full validation: the CLI's error path and the demo's quiet default. */
export function requestedLogLevel(env: Env): string | undefined {
  return env.LOG_LEVEL;
}
