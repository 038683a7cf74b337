import { once } from 'node:events';
import { ConfigError } from '../lib/errors.ts';
import { PROFILES, createEmulator, isProfileName } from '../emulator/index.ts';

function intOption(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new ConfigError(`--${name} must be a whole number (got '${value}')`);
  return n;
}

export async function runEmulator(opts: {
  port: string;
  accounts: string;
  seed: string;
  profile: string;
  /** Comma-separated objects: serve the Pub/Sub API with Change Data Capture on them. */
  cdc?: string;
}): Promise<void> {
  if (!isProfileName(opts.profile))
    throw new ConfigError(`--profile must be one of ${PROFILES.join(', ')} (got '${opts.profile}')`);
  const emulator = await createEmulator({
    profile: opts.profile,
    port: intOption('port', opts.port),
    accounts: intOption('accounts', opts.accounts),
    seed: intOption('seed', opts.seed),
    pubsub:
      opts.cdc === undefined
        ? undefined
        : {
            cdcObjects: opts.cdc
              .split(',')
              .map((o) => o.trim())
              .filter(Boolean),
          },
  }).catch((err: Error) => {
    // An unknown --cdc object is the user's input, not a crash.
    if (/^Unknown object /.test(err.message)) throw new ConfigError(`--cdc: ${err.message}`);
    throw err;
  });
  const pubsub = emulator.pubsub;
  // docs/salesforce.md#pubsub-api: TLS only, with a certificate minted for this run.
  const stream = pubsub
    ? [
        `  export SF_PUBSUB_ENDPOINT=${pubsub.endpoint}`,
        `  export NODE_EXTRA_CA_CERTS=${pubsub.caPath}`,
      ]
    : [];
  process.stdout.write(
    [
      `Salesforce emulator listening on ${emulator.url}`,
      '',
      'Point sfsync at it with:',
      `  export SF_LOGIN_URL=${emulator.loginUrl}`,
      `  export SF_CLIENT_ID=${emulator.clientId}`,
      `  export SF_USERNAME=${emulator.username}`,
      `  export SF_PRIVATE_KEY_PATH=${emulator.privateKeyPath}`,
      ...stream,
      '',
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
  await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
  await emulator.close();
}
