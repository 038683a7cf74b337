// `sfsync init`: a private key and a self-signed certificate for the JWT bearer flow
// (docs/salesforce.md#oauth-jwt-bearer-flow), a commented config file and a file of the SF_* settings to fill in,
// then the app's setup steps. Never overwrites a file; never prints the key.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PRODUCTION_LOGIN_URL, SANDBOX_LOGIN_URL } from '../lib/config.ts';
import { ConfigError } from '../lib/errors.ts';
import { loginOrigin } from '../extractors/client/auth.ts';

export interface InitOptions {
  dir?: string;
  sandbox?: boolean;
  loginUrl?: string;
}

export const INIT_FILES = {
  key: 'sfsync.key',
  certificate: 'sfsync.crt',
  config: 'sfsync.config.yaml',
  env: 'sfsync.env',
} as const;

/** The certificate's lifetime: Salesforce accepts any; two years is the usual rotation. */
const CERT_DAYS = 730;

/** A callback URL is required by the app form although the JWT bearer flow never redirects (the Salesforce CLI's). */
export const CALLBACK_URL = 'http://localhost:1717/OauthRedirect';

function configYaml(): string {
  return `# sfsync's config file (README.md "Connect a real org"). Settings that differ per machine or are secret stay
# in the environment (see sfsync.env); this file holds what to sync and how.

# The objects to sync, by API name. A name the org does not have (or the integration user cannot read) is skipped
# with a warning; --objects on the command line overrides this list.
objects:
  - Account
  - Contact
  - Opportunity
  # Per-object options:
  # - { name: Invoice__c, formulaRefreshHours: 24 }   # re-read formula fields at least daily
  # - { name: Contact, overlapMinutes: 30 }            # start each delta 30 minutes before the watermark
  # - { name: AccountShare, reconcileHours: 12 }       # reconcile Ids (hard deletes) every 12 hours
  # - { name: Opportunity, where: "StageName != 'Closed Lost'" }   # only the records a SOQL condition keeps

# Objects extracting and loading at once (default 4).
# concurrency: 4

# Deltas with more records than this go through Bulk API 2.0 (default 50000).
# bulkThreshold: 50000

# When \`sfsync schedule\` runs a sync (cron, default 0 2 * * *).
# schedule: "0 2 * * *"
`;
}

function envFile(loginUrl: string, keyPath: string, configPath: string): string {
  return `# sfsync settings. Fill in SF_CLIENT_ID and SF_USERNAME, then load them into the shell and check:
#   set -a; . ./${INIT_FILES.env}; set +a; npx sfsync check
# Keep ${INIT_FILES.key} secret; this file holds no secret.

# Where to log in: https://login.salesforce.com (production), https://test.salesforce.com (sandbox) or the org's
# My Domain URL (https://<domain>.my.salesforce.com).
SF_LOGIN_URL=${loginUrl}
# The app's Consumer Key (Setup > App Manager > the app > View > Manage Consumer Details).
SF_CLIENT_ID=
# The integration user's username (a sandbox username ends in .<sandbox name>).
SF_USERNAME=
# The private key whose certificate (${INIT_FILES.certificate}) is uploaded to the app.
SF_PRIVATE_KEY_PATH=${keyPath}
SFSYNC_CONFIG=${configPath}
# The PostgreSQL to load into; unset, sfsync uses an embedded one under ./.sfsync/.
# DATABASE_URL=postgres://user:password@host:5432/warehouse
`;
}

function steps(certPath: string, envPath: string, loginUrl: string): string {
  return `
Next, in Salesforce Setup (${loginUrl}):
  1. App Manager > New External Client App (older orgs: New Connected App). Enable OAuth.
     Callback URL:            ${CALLBACK_URL}   (required by the form; the JWT flow never calls it)
     OAuth scopes:            Manage user data via APIs (api)
                              Perform requests at any time (refresh_token, offline_access)
     Use digital signatures:  on; upload ${certPath}
     Enable the JWT Bearer Flow (External Client Apps: under Flow Enablement).
  2. Policies (Manage > Edit Policies): Permitted Users = "Admin approved users are pre-authorized";
     then add the integration user's profile or permission set to the app.
     That user needs "API Enabled" and Read on the objects you sync.
  3. Copy the Consumer Key into SF_CLIENT_ID and the username into SF_USERNAME in ${envPath}.
  4. set -a; . ${envPath}; set +a; npx sfsync check
`;
}

async function keyAndCertificate(): Promise<{ key: string; cert: string }> {
  // selfsigned: the certificate in pure JS (Node's WebCrypto), so no openssl binary is needed.
  const { default: selfsigned } = await import('selfsigned');
  const notAfterDate = new Date(Date.now() + CERT_DAYS * 86_400_000);
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'sfsync' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notAfterDate,
  });
  return { key: pems.private, cert: pems.cert };
}

export async function runInit(opts: InitOptions): Promise<void> {
  const dir = path.resolve(opts.dir ?? '.');
  const raw = opts.loginUrl ?? (opts.sandbox ? SANDBOX_LOGIN_URL : PRODUCTION_LOGIN_URL);
  if (opts.loginUrl && opts.sandbox)
    throw new ConfigError('--sandbox and --login-url both name the login URL: give one of them');
  const loginUrl = loginOrigin(raw);
  const file = (name: string) => path.join(dir, name);
  const paths = {
    key: file(INIT_FILES.key),
    certificate: file(INIT_FILES.certificate),
    config: file(INIT_FILES.config),
    env: file(INIT_FILES.env),
  };
  for (const p of Object.values(paths))
    if (existsSync(p)) throw new ConfigError(`${p} already exists: sfsync init never overwrites a file`);
  mkdirSync(dir, { recursive: true });
  const { key, cert } = await keyAndCertificate();
  // 'wx': fail rather than overwrite a file created since the check above.
  writeFileSync(paths.key, key, { mode: 0o600, flag: 'wx' });
  writeFileSync(paths.certificate, cert, { mode: 0o644, flag: 'wx' });
  writeFileSync(paths.config, configYaml(), { flag: 'wx' });
  writeFileSync(paths.env, envFile(loginUrl, paths.key, paths.config), { flag: 'wx' });
  process.stdout.write(
    `Wrote:\n  ${paths.key}  (private key, mode 0600: keep it secret)\n` +
      `  ${paths.certificate}  (certificate to upload)\n` +
      `  ${paths.config}  (objects and options)\n  ${paths.env}  (SF_* settings to fill in)\n` +
      steps(paths.certificate, paths.env, loginUrl),
  );
}
