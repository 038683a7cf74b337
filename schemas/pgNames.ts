// PostgreSQL names for Salesforce names (pure). PostgreSQL keeps at most 63 bytes of an identifier and silently cuts
// the rest (NAMEDATALEN - 1, https://www.postgresql.org/docs/current/sql-syntax-lexical.html#SQL-SYNTAX-IDENTIFIERS),
// so two names sharing their first 63 bytes would become one. Salesforce names pass that once lowercased: a namespaced
// object's History (`ns__<40 characters>__History`), a geolocation component (`ns__<40 characters>__Latitude__s`,
// docs/salesforce.md#compound-fields); so do the names sfsync derives from a table (`<table>_live`, its cursor index).
import { createHash } from 'node:crypto';

export const MAX_IDENTIFIER_BYTES = 63;

/** Hex digits of SHA-256 kept in a shortened name: 32 bits tell apart any names one org can have. */
const HASH_DIGITS = 8;

/** The longest start of `text` that fits in `bytes` UTF-8 bytes, cut between characters. */
function cutToBytes(text: string, bytes: number): string {
  let out = '';
  let used = 0;
  for (const ch of text) {
    const size = Buffer.byteLength(ch);
    if (used + size > bytes) break;
    out += ch;
    used += size;
  }
  return out;
}

/**
 * `base + suffix` when it fits in 63 bytes: every name that fitted keeps exactly the name it had, so no existing table,
 * column, view or index is renamed. A longer one becomes `base` cut short + `_` + 8 hex digits of the SHA-256 of the
 * whole name + `suffix`: the same every time, still readable, and different for names that share their first 63
 * bytes (the hash covers what the cut drops). The suffix (`_live`, `_idx`) survives the cut.
 */
export function pgIdentifier(base: string, suffix = ''): string {
  const full = base + suffix;
  if (Buffer.byteLength(full) <= MAX_IDENTIFIER_BYTES) return full;
  const hash = createHash('sha256').update(full).digest('hex').slice(0, HASH_DIGITS);
  const room = MAX_IDENTIFIER_BYTES - 1 - HASH_DIGITS - Buffer.byteLength(suffix);
  if (room < 1) return `${cutToBytes(full, MAX_IDENTIFIER_BYTES - 1 - HASH_DIGITS)}_${hash}`;
  return `${cutToBytes(base, room)}_${hash}${suffix}`;
}

/** The table of an sObject: its API name lowercased, shortened past 63 bytes. */
export function tableNameOf(objectName: string): string {
  return pgIdentifier(objectName.toLowerCase());
}

/** The column of a field: its API name lowercased, shortened past 63 bytes. */
export function columnNameOf(fieldName: string): string {
  return pgIdentifier(fieldName.toLowerCase());
}

/**
 * True when the PostgreSQL name is not simply the Salesforce name lowercased (comments then say so); a parent path's
 * dots become underscores (pipelines/relationships/).
 */
export function isShortened(salesforceName: string, pgName: string): boolean {
  return pgName !== salesforceName.toLowerCase().replaceAll('.', '_');
}
