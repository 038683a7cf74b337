// The Pub/Sub server's TLS identity: the real API only speaks TLS (docs/salesforce.md#pubsub-api), so the emulator does
// too, with a certificate minted per emulator (never committed) for the loopback names. Its PEM doubles as the CA a
// client trusts (NODE_EXTRA_CA_CERTS, or grpc-js createSsl(rootCerts)). grpc-js ignores NODE_EXTRA_CA_CERTS when
// GRPC_DEFAULT_SSL_ROOTS_FILE_PATH names a roots file (it then trusts that file alone), so a bundle of Node's roots
// plus this certificate is written too, for that variable.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { generate } from 'selfsigned';

export interface TlsIdentity {
  certPem: string;
  keyPem: string;
  /** The certificate as a file, for NODE_EXTRA_CA_CERTS. */
  caPath: string;
  /** Node's root certificates plus this one, for GRPC_DEFAULT_SSL_ROOTS_FILE_PATH. */
  caBundlePath: string;
  dispose(): Promise<void>;
}

export async function createTlsIdentity(): Promise<TlsIdentity> {
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 30 * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  const dir = await mkdtemp(join(tmpdir(), 'sfsync-pubsub-'));
  const caPath = join(dir, 'pubsub-ca.pem');
  await writeFile(caPath, pems.cert);
  const caBundlePath = join(dir, 'pubsub-ca-bundle.pem');
  await writeFile(caBundlePath, `${[...rootCertificates, pems.cert.trim()].join('\n')}\n`);
  return {
    certPem: pems.cert,
    keyPem: pems.private,
    caPath,
    caBundlePath,
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}
