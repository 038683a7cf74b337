import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../lib/log.ts';

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

describe('logger redaction', () => {
  it('never prints tokens, keys, secrets or passwords, at any nesting the code uses', () => {
    const out = capture();
    const log = createLogger({ level: 'debug', destination: out.stream });
    const secrets = [
      '00Dxx!AQ4AQ.secret-token',
      '-----BEGIN PRIVATE KEY-----MIIE',
      'client-secret-value',
      'hunter2',
      'eyJhbGciOiJSUzI1NiJ9.claims.sig',
    ];
    log.info(
      {
        accessToken: secrets[0],
        privateKey: secrets[1],
        clientSecret: secrets[2],
        password: secrets[3],
        assertion: secrets[4],
      },
      'top level',
    );
    log.info(
      {
        session: { accessToken: secrets[0] },
        auth: { privateKey: secrets[1], client_secret: secrets[2], password: secrets[3] },
      },
      'nested',
    );
    log.info(
      {
        headers: { authorization: `Bearer ${secrets[0]}` },
        req: { headers: { Authorization: `Bearer ${secrets[0]}` } },
      },
      'headers',
    );
    const text = out.text();
    for (const s of secrets) expect(text).not.toContain(s);
    expect(text.match(/\[redacted\]/g)?.length).toBeGreaterThanOrEqual(11);
    expect(text).toContain('"msg":"nested"');
  });

  it('never prints the hash key of hashed columns (SFSYNC_HASH_KEY), as a setting or inside a config', () => {
    const out = capture();
    const log = createLogger({ level: 'debug', destination: out.stream });
    const key = 'hash-key-0123456789abcdef';
    log.info({ hashKey: key, SFSYNC_HASH_KEY: key }, 'top level');
    log.debug({ config: { hashKey: key }, env: { SFSYNC_HASH_KEY: key } }, 'nested');
    const text = out.text();
    expect(text).not.toContain(key);
    expect(text.match(/\[redacted\]/g)?.length).toBe(4);
  });
});
