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
}): Promise<void> {
  if (!isProfileName(opts.profile))
    throw new ConfigError(`--profile must be one of ${PROFILES.join(', ')} (got '${opts.profile}')`);
  const emulator = await createEmulator({
    profile: opts.profile,
    port: intOption('port', opts.port),
    accounts: intOption('accounts', opts.accounts),
    seed: intOption('seed', opts.seed),
  });
  process.stdout.write(
    [
      `Salesforce emulator listening on ${emulator.url}`,
      '',
      'Point sfsync at it with:',
      `  export SF_LOGIN_URL=${emulator.loginUrl}`,
      `  export SF_CLIENT_ID=${emulator.clientId}`,
      `  export SF_USERNAME=${emulator.username}`,
      `  export SF_PRIVATE_KEY_PATH=${emulator.privateKeyPath}`,
      '',
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
  await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
  await emulator.close();
}
