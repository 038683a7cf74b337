// The Connected App's credentials, minted fresh for every emulator (no key is ever committed): an RS256 key pair for
// the JWT bearer flow (docs/salesforce.md#oauth-jwt-bearer-flow), a consumer key (client id) and a consumer secret
// (docs/salesforce.md#oauth-client-credentials-flow).
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportPKCS8, generateKeyPair, type CryptoKey } from 'jose';

export interface ConnectedAppKeys {
  clientId: string;
  clientSecret: string;
  publicKey: CryptoKey;
  privateKeyPem: string;
  privateKeyPath: string;
  /** Removes the temporary key file. */
  dispose(): Promise<void>;
}

export async function createConnectedAppKeys(): Promise<ConnectedAppKeys> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const privateKeyPem = await exportPKCS8(privateKey);
  const dir = await mkdtemp(join(tmpdir(), 'sfsync-emulator-'));
  const privateKeyPath = join(dir, 'server.key');
  await writeFile(privateKeyPath, privateKeyPem, { mode: 0o600 });
  // Real consumer keys are ~85 chars starting with 3MVG; secrets are long decimal/hex strings.
  const clientId = `3MVG9emulator${randomBytes(24).toString('base64url')}`;
  const clientSecret = randomBytes(32).toString('hex').toUpperCase();
  return {
    clientId,
    clientSecret,
    publicKey,
    privateKeyPem,
    privateKeyPath,
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}
