// The shape of sfsync's settings: environment variables and the optional config file, validated with zod.
import { validate as validCron } from 'node-cron';
// zod/mini: the same validation as zod's chained API, but tree-shakable, so every command parses far less at start-up
// (docs/benchmarks.md#config-validation-with-zod-mini).
import en from 'zod/v4/locales/en.js';
import * as z from 'zod/mini';

// English messages for the issues this schema gives none of its own (zod/mini loads no locale by itself; the one
// module, not z.locales, which would bundle every language).
z.config(en());

const identifier = /^[a-z_][a-z0-9_]*$/;
/** PostgreSQL's identifier limit (NAMEDATALEN - 1); identifier's characters are one byte each. */
const MAX_SCHEMA = 63;
/** sfsync's own state, the worker fleet's queue (pipelines/fleet/queue.ts), and PostgreSQL's reserved pg_ prefix. */
const reservedSchema = (s: string) => s === 'sfsync' || s === 'sfsync_queue' || s.startsWith('pg_');
const RESERVED_SCHEMA = (what: string) =>
  `${what} cannot be sfsync or sfsync_queue (sfsync's own state and job queue) or start with pg_ (PostgreSQL's)`;
/** An sObject API name; anything that would need quoting in SOQL is refused up front. */
export const SOBJECT_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

const nonEmpty = () => z.string().check(z.minLength(1));
const optionalText = () => z.optional(nonEmpty());
const positiveInt = (name: string) =>
  z.coerce
    .number({ error: `${name} must be a number` })
    .check(z.int(`${name} must be a whole number`), z.positive(`${name} must be positive`));
const positiveSeconds = (name: string, fallback: number) =>
  z._default(
    z.coerce.number({ error: `${name} must be a number of seconds` }).check(z.positive(`${name} must be positive`)),
    fallback,
  );
const share = (name: string, fallback: number) =>
  z._default(z.coerce.number({ error: `${name} must be a number` }).check(z.gt(0), z.lte(1)), fallback);
const validCronExpression = () => z.string().check(z.refine((c) => validCron(c), 'not a valid cron expression'));
const objectName = (message: string) => z.string().check(z.regex(SOBJECT_NAME, message));
const FIELD_PATH = /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$/;
const fieldList = () =>
  z
    .array(z.string().check(z.regex(SOBJECT_NAME, 'field names are Salesforce API names such as Email')))
    .check(z.minLength(1));

export const envSchema = z.object({
  SF_LOGIN_URL: z.optional(
    z.url({ error: 'SF_LOGIN_URL must be a URL such as https://login.salesforce.com or your My Domain URL' }),
  ),
  SF_AUTH_FLOW: z._default(
    z.enum(['jwt', 'client_credentials', 'refresh_token', 'password'], {
      error: 'SF_AUTH_FLOW must be one of jwt, client_credentials, refresh_token, password',
    }),
    'jwt',
  ),
  SF_CLIENT_ID: optionalText(),
  SF_CLIENT_SECRET: optionalText(),
  SF_USERNAME: optionalText(),
  SF_PASSWORD: optionalText(),
  SF_REFRESH_TOKEN: optionalText(),
  SF_PRIVATE_KEY_PATH: optionalText(),
  SF_PRIVATE_KEY: optionalText(),
  SF_API_VERSION: z._default(z.string().check(z.regex(/^\d{2}\.0$/, 'SF_API_VERSION must look like 62.0')), '62.0'),
  DATABASE_URL: z.optional(z.string().check(z.regex(/^postgres(ql)?:\/\//, 'DATABASE_URL must be a postgres:// URL'))),
  SFSYNC_SCHEMA: z._default(
    z.string().check(
      z.regex(identifier, 'SFSYNC_SCHEMA must be a lowercase SQL identifier such as salesforce'),
      z.maxLength(MAX_SCHEMA, `SFSYNC_SCHEMA must be at most ${MAX_SCHEMA} characters (PostgreSQL cuts longer names)`),
      z.refine((s) => !reservedSchema(s), RESERVED_SCHEMA('SFSYNC_SCHEMA')),
    ),
    'salesforce',
  ),
  SFSYNC_CONFIG: optionalText(),
  // The key of columns.hash: long enough that the hashes cannot be reversed by guessing it.
  SFSYNC_HASH_KEY: z.optional(z.string().check(z.minLength(16, 'SFSYNC_HASH_KEY must be at least 16 characters'))),
  SFSYNC_CONCURRENCY: z._default(positiveInt('SFSYNC_CONCURRENCY'), 4),
  SFSYNC_BULK_THRESHOLD: z._default(positiveInt('SFSYNC_BULK_THRESHOLD'), 50_000),
  SFSYNC_WINDOW_ROWS: z._default(positiveInt('SFSYNC_WINDOW_ROWS'), 1_000_000),
  // docs/salesforce.md#bulk-api-20-parallel-results: resultPages lists up to 5 result URLs at a time.
  SFSYNC_BULK_PARALLEL: z._default(
    positiveInt('SFSYNC_BULK_PARALLEL').check(z.lte(5, 'SFSYNC_BULK_PARALLEL must be at most 5')),
    1,
  ),
  SFSYNC_OVERLAP_MINUTES: z._default(
    z.coerce.number({ error: 'SFSYNC_OVERLAP_MINUTES must be a number' }).check(z.gte(0)),
    10,
  ),
  // docs/salesforce.md#timeouts: a silent connection must not hold an object's lock and transaction forever.
  SFSYNC_HTTP_TIMEOUT_SECONDS: positiveSeconds('SFSYNC_HTTP_TIMEOUT_SECONDS', 300),
  SFSYNC_IDLE_TIMEOUT_SECONDS: positiveSeconds('SFSYNC_IDLE_TIMEOUT_SECONDS', 120),
  SFSYNC_MAX_ORG_API_SHARE: share('SFSYNC_MAX_ORG_API_SHARE', 0.8),
  SFSYNC_MAX_RUN_API_SHARE: share('SFSYNC_MAX_RUN_API_SHARE', 0.25),
  // `sfsync worker`: a job a worker holds longer is retried by another (pg-boss keeps a job at most a day).
  SFSYNC_JOB_LEASE_SECONDS: z._default(
    positiveInt('SFSYNC_JOB_LEASE_SECONDS').check(z.lt(86_400, 'SFSYNC_JOB_LEASE_SECONDS must be under a day')),
    7200,
  ),
  SFSYNC_HOME: z._default(nonEmpty(), '.sfsync'),
  // docs/salesforce.md#pubsub-api: the Pub/Sub API's gRPC endpoint (always TLS), host:port.
  SF_PUBSUB_ENDPOINT: z._default(
    z
      .string()
      .check(
        z.regex(
          /^[A-Za-z0-9.-]+:\d{1,5}$/,
          'SF_PUBSUB_ENDPOINT must be host:port such as api.pubsub.salesforce.com:7443',
        ),
      ),
    'api.pubsub.salesforce.com:7443',
  ),
  // Read by Node for HTTPS; the gRPC channel is given them explicitly (extractors/pubsub/pubsubClient.ts says why).
  NODE_EXTRA_CA_CERTS: optionalText(),
  GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: optionalText(),
  SFSYNC_LOG_FILE: optionalText(),
  SFSYNC_VERBOSE: z._default(z.enum(['0', '1'], { error: 'SFSYNC_VERBOSE must be 0 or 1' }), '0'),
  // docs/salesforce.md#field-sizes: numeric(precision, scale) rounds the decimals Salesforce keeps beyond the scale.
  SFSYNC_EXACT_NUMERIC: z._default(z.enum(['0', '1'], { error: 'SFSYNC_EXACT_NUMERIC must be 0 or 1' }), '0'),
  LOG_LEVEL: z._default(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), 'info'),
});
export type EnvInput = z.input<typeof envSchema>;

const objectOptions = z.object({
  name: objectName('object names are Salesforce API names such as Account or Invoice__c'),
  overlapMinutes: z.optional(z.number().check(z.gte(0))),
  fullRefresh: z.optional(z.boolean()),
  /** Re-read formula fields at least this often (formula results change without touching SystemModstamp). */
  formulaRefreshHours: z.optional(z.number().check(z.positive())),
  /**
   * Reconcile Ids at least this often (docs/salesforce.md#hard-delete-detection). Objects getDeleted refuses (not
   * replicateable) default to 24; others reconcile only when getDeleted cannot cover a window.
   */
  reconcileHours: z.optional(z.number().check(z.positive())),
  /** Keep a type-2 history table beside the current one (loaders/history.ts). */
  history: z.optional(z.boolean()),
  /** A SOQL condition every read of the object is limited to (extractors/soqlFilter.ts validates it). */
  where: optionalText(),
  columns: z.optional(
    z.strictObject({
      /** Only these fields (Id, the cursor and IsDeleted are always kept). */
      include: z.optional(fieldList()),
      /** Never these fields: they are not requested from Salesforce. */
      exclude: z.optional(fieldList()),
      /** Stored as a keyed hash (SFSYNC_HASH_KEY), never as the value. */
      hash: z.optional(fieldList()),
    }),
  ),
});

/** A relationship pipeline: its own table, filled by one SOQL statement over an object and its parents. */
const pipelineOptions = z.strictObject({
  name: z
    .string()
    .check(z.regex(identifier, 'pipeline names are lowercase SQL identifiers such as opportunity_accounts')),
  soql: nonEmpty(),
  overlapMinutes: z.optional(z.number().check(z.gte(0))),
  /** Selected paths (`Owner.Email`) stored as keyed hashes, as an object's columns.hash. */
  hash: z.optional(
    z
      .array(z.string().check(z.regex(FIELD_PATH, 'hash: give field paths of the SOQL, such as Owner.Email')))
      .check(z.minLength(1)),
  ),
});

const scheduleGroup = z.strictObject({
  cron: validCronExpression(),
  objects: z.optional(z.array(objectName('object names are Salesforce API names')).check(z.minLength(1))),
  timezone: optionalText(),
});

const positiveWhole = () => z.optional(z.number().check(z.int(), z.positive()));
const objectList = () =>
  z.optional(z.array(z.union([objectName('object names are Salesforce API names'), objectOptions])));
const scheduleSetting = () =>
  z.optional(z.union([validCronExpression(), z.array(scheduleGroup).check(z.minLength(1))]));
const optionalShare = () =>
  z.optional(z.number().check(z.gt(0, 'a share is above 0'), z.lte(1, 'a share is 1 at most')));

/** A secret is named, never written in the file: an environment variable, or a file holding nothing else. */
const secretRef = () =>
  z.union(
    [
      z.strictObject({ env: z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'env: a variable name')) }),
      z.strictObject({ file: nonEmpty() }),
    ],
    {
      error: (issue) =>
        typeof issue.input === 'string'
          ? "inline secrets are refused: write {env: 'VARIABLE'} or {file: 'path'}"
          : "expected {env: 'VARIABLE'} or {file: 'path'}",
    },
  );

/** One Salesforce org of several: its login, its schema and its own objects, schedule and API budget. */
const orgOptions = z.strictObject({
  name: z
    .string()
    .check(z.regex(/^[a-z][a-z0-9_]{0,39}$/, 'org names are lowercase letters, digits and _ (40 at most), e.g. emea')),
  loginUrl: z.optional(z.url({ error: 'loginUrl must be a URL such as https://login.salesforce.com' })),
  authFlow: z.optional(
    z.enum(['jwt', 'client_credentials', 'refresh_token', 'password'], {
      error: 'authFlow must be one of jwt, client_credentials, refresh_token, password',
    }),
  ),
  apiVersion: z.optional(z.string().check(z.regex(/^\d{2}\.0$/, 'apiVersion must look like 62.0'))),
  /** The consumer key identifies the Connected App and is no secret; it may be written or referenced. */
  clientId: z.optional(z.union([nonEmpty(), secretRef()])),
  username: optionalText(),
  privateKey: z.optional(secretRef()),
  clientSecret: z.optional(secretRef()),
  password: z.optional(secretRef()),
  refreshToken: z.optional(secretRef()),
  /** Default: salesforce_<name> (lib/config.ts orgSchemaOf). */
  schema: z.optional(
    z.string().check(
      z.regex(identifier, 'schema must be a lowercase SQL identifier such as salesforce_emea'),
      // Two longer names cut to the same 63 bytes would be one schema, holding two orgs' records.
      z.maxLength(MAX_SCHEMA, `schema must be at most ${MAX_SCHEMA} characters (PostgreSQL cuts longer names)`),
      z.refine((s) => !reservedSchema(s), RESERVED_SCHEMA('schema')),
    ),
  ),
  objects: objectList(),
  schedule: scheduleSetting(),
  pipelines: z.optional(z.array(pipelineOptions)),
  concurrency: positiveWhole(),
  overlapMinutes: z.optional(z.number().check(z.gte(0))),
  maxOrgApiShare: optionalShare(),
  maxRunApiShare: optionalShare(),
});
export type OrgOptions = z.infer<typeof orgOptions>;

export const configFileSchema = z.strictObject({
  objects: z.optional(z.array(z.union([objectName('object names are Salesforce API names'), objectOptions]))),
  concurrency: positiveWhole(),
  bulkThreshold: positiveWhole(),
  windowRows: positiveWhole(),
  overlapMinutes: z.optional(z.number().check(z.gte(0))),
  pipelines: z.optional(z.array(pipelineOptions)),
  /** One cron expression for all objects, or groups of objects each on its own schedule. */
  schedule: z.optional(z.union([validCronExpression(), z.array(scheduleGroup).check(z.minLength(1))])),
  /**
   * Several Salesforce orgs, each with its own login, schema, objects, schedule and budget; the keys above are their
   * defaults. Absent: one org from the SF_* variables (lib/config.ts DEFAULT_ORG).
   */
  orgs: z.optional(z.array(orgOptions).check(z.minLength(1))),
});
export type ConfigFile = z.infer<typeof configFileSchema>;
