// The environment a user would export to point sfsync at the emulator (JWT flow) and a test database, plus any
// further settings (SFSYNC_SCHEMA, LOG_LEVEL, ...), which win over the defaults.
import type { Emulator } from '../../emulator/index.ts';

export function emulatorEnv(
  emulator: Pick<Emulator, 'loginUrl' | 'clientId' | 'username' | 'privateKeyPath'>,
  databaseUrl: string,
  settings: Record<string, string> = {},
): Record<string, string> {
  return {
    SF_LOGIN_URL: emulator.loginUrl,
    SF_CLIENT_ID: emulator.clientId,
    SF_USERNAME: emulator.username,
    SF_PRIVATE_KEY_PATH: emulator.privateKeyPath,
    DATABASE_URL: databaseUrl,
    ...settings,
  };
}

/** emulatorEnv for `sfsync stream`: also the emulator's Pub/Sub endpoint and the CA its certificate is signed by. */
export function streamEnv(
  emulator: Pick<Emulator, 'loginUrl' | 'clientId' | 'username' | 'privateKeyPath' | 'pubsub'>,
  databaseUrl: string,
  settings: Record<string, string> = {},
): Record<string, string> {
  return emulatorEnv(emulator, databaseUrl, {
    SF_PUBSUB_ENDPOINT: emulator.pubsub!.endpoint,
    NODE_EXTRA_CA_CERTS: emulator.pubsub!.caPath,
    ...settings,
  });
}
