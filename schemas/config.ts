// The shape of sfsync's settings: environment variables and the optional config file, validated with zod.
import { validate as validCron } from 'node-cron';
import { z } from 'zod';

const identifier = /^[a-z_][a-z0-9_]*$/;
/** An sObject API name; anything that would need quoting in SOQL is refused up front. */
export const SOBJECT_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

const positiveInt = (name: string) =>
  z.coerce.number({ error: `${name} must be a number` }).int(`${name} must be a whole number`).positive(`${name} must be positive`);

export const envSchema = z.object({
  SF_LOGIN_URL: z.url({ error: 'SF_LOGIN_URL must be a URL such as https://login.salesforce.com or your My Domain URL' }).optional(),
  SF_AUTH_FLOW: z
    .enum(['jwt', 'client_credentials', 'refresh_token', 'password'], {
      error: 'SF_AUTH_FLOW must be one of jwt, client_credentials, refresh_token, password',
    })
    .default('jwt'),
  SF_CLIENT_ID: z.string().min(1).optional(),
  SF_CLIENT_SECRET: z.string().min(1).optional(),
  SF_USERNAME: z.string().min(1).optional(),
  SF_PASSWORD: z.string().min(1).optional(),
  SF_REFRESH_TOKEN: z.string().min(1).optional(),
  SF_PRIVATE_KEY_PATH: z.string().min(1).optional(),
  SF_PRIVATE_KEY: z.string().min(1).optional(),
  SF_API_VERSION: z
    .string()
    .regex(/^\d{2}\.0$/, 'SF_API_VERSION must look like 62.0')
    .default('62.0'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'DATABASE_URL must be a postgres:// URL')
    .optional(),
  SFSYNC_SCHEMA: z
    .string()
    .regex(identifier, 'SFSYNC_SCHEMA must be a lowercase SQL identifier such as salesforce')
    .refine((s) => s !== 'sfsync', 'SFSYNC_SCHEMA cannot be sfsync (that schema holds sfsync\'s own state)')
    .default('salesforce'),
  SFSYNC_CONFIG: z.string().min(1).optional(),
  SFSYNC_CONCURRENCY: positiveInt('SFSYNC_CONCURRENCY').default(4),
  SFSYNC_BULK_THRESHOLD: positiveInt('SFSYNC_BULK_THRESHOLD').default(50_000),
  SFSYNC_WINDOW_ROWS: positiveInt('SFSYNC_WINDOW_ROWS').default(1_000_000),
  // §6.4: resultPages lists up to 5 result URLs at a time.
  SFSYNC_BULK_PARALLEL: positiveInt('SFSYNC_BULK_PARALLEL').max(5, 'SFSYNC_BULK_PARALLEL must be at most 5').default(1),
  SFSYNC_OVERLAP_MINUTES: z.coerce.number({ error: 'SFSYNC_OVERLAP_MINUTES must be a number' }).min(0).default(10),
  SFSYNC_MAX_ORG_API_SHARE: z.coerce.number({ error: 'SFSYNC_MAX_ORG_API_SHARE must be a number' }).gt(0).max(1).default(0.8),
  SFSYNC_MAX_RUN_API_SHARE: z.coerce.number({ error: 'SFSYNC_MAX_RUN_API_SHARE must be a number' }).gt(0).max(1).default(0.25),
  SFSYNC_HOME: z.string().min(1).default('.sfsync'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});
export type EnvInput = z.input<typeof envSchema>;

const objectOptions = z.object({
  name: z.string().regex(SOBJECT_NAME, 'object names are Salesforce API names such as Account or Invoice__c'),
  overlapMinutes: z.number().min(0).optional(),
  fullRefresh: z.boolean().optional(),
  /** Re-read formula fields at least this often (formula results change without touching SystemModstamp). */
  formulaRefreshHours: z.number().positive().optional(),
});

const scheduleGroup = z
  .object({
    cron: z.string().refine((c) => validCron(c), 'not a valid cron expression'),
    objects: z.array(z.string().regex(SOBJECT_NAME, 'object names are Salesforce API names')).min(1).optional(),
    timezone: z.string().min(1).optional(),
  })
  .strict();

export const configFileSchema = z
  .object({
    objects: z.array(z.union([z.string().regex(SOBJECT_NAME, 'object names are Salesforce API names'), objectOptions])).optional(),
    concurrency: z.number().int().positive().optional(),
    bulkThreshold: z.number().int().positive().optional(),
    windowRows: z.number().int().positive().optional(),
    overlapMinutes: z.number().min(0).optional(),
    /** One cron expression for all objects, or groups of objects each on its own schedule. */
    schedule: z.union([z.string().refine((c) => validCron(c), 'not a valid cron expression'), z.array(scheduleGroup).min(1)]).optional(),
  })
  .strict();
export type ConfigFile = z.infer<typeof configFileSchema>;
