// The keyed hash of a hashed column (config columns.hash): HMAC-SHA256 under SFSYNC_HASH_KEY, lowercase hex, over the
// UTF-8 bytes of the value's text exactly as it would have been loaded (NUL bytes dropped, as loaders/copyCsv.ts
// drops them). The same value hashes the same in every table, so joins on it still work; PostgreSQL's pgcrypto gives
// the same result for a lookup value: encode(hmac('a@example.com', '<key>', 'sha256'), 'hex').
import { createHmac } from 'node:crypto';
import { ConfigError } from '../lib/errors.ts';

export function hashValue(key: string, text: string): string {
  const loaded = text.includes('\0') ? text.replaceAll('\0', '') : text;
  return createHmac('sha256', key).update(loaded, 'utf8').digest('hex');
}

/** The key of an object that hashes columns; loadConfig already refuses such a config without one. */
export function requireHashKey(key: string | null | undefined): string {
  if (!key) throw new ConfigError('SFSYNC_HASH_KEY is required when an object hashes columns (columns.hash)');
  return key;
}
