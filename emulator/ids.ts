// Salesforce record ids: 3-char key prefix + 12 base-62 chars, plus a 3-char case-safe suffix (18-char form).
// Fixed-width base 62 in ASCII order ('0'-'9' < 'A'-'Z' < 'a'-'z') sorts like the number, so `ORDER BY Id` follows
// slot order.
import { createHash } from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SUFFIX = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';
/** Pod and reserved characters of every emulator id (mixed case so the 18-char suffix matters). */
const POD = 'Hp0';
const NUMBER_DIGITS = 9;

function isUpper(code: number): boolean {
  return code >= 65 && code <= 90;
}

/** The 3-char suffix: one char per 5-char chunk, bit i set when char i of the chunk is upper case. */
function suffixOf(id15: string): string {
  let out = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) if (isUpper(id15.charCodeAt(chunk * 5 + i))) bits |= 1 << i;
    out += SUFFIX[bits];
  }
  return out;
}

/** 15-char (case-sensitive) id -> 18-char (case-safe) id. */
export function to18(id15: string): string {
  return id15 + suffixOf(id15);
}

/** The record number encoded in an id's last 9 base-62 chars (-1 when malformed). */
export function numberOf(id: string): number {
  let n = 0;
  for (let i = 6; i < 15; i++) {
    const d = BASE62.indexOf(id[i] ?? '');
    if (d < 0) return -1;
    n = n * 62 + d;
  }
  return n;
}

/** The 18-char id of record number `n` (n >= 0) of the object with this key prefix. */
export function makeId(keyPrefix: string, n: number): string {
  let digits = '';
  let rest = n;
  for (let i = 0; i < NUMBER_DIGITS; i++) {
    digits = BASE62[rest % 62] + digits;
    rest = Math.floor(rest / 62);
  }
  return to18(keyPrefix + POD + digits);
}

/**
 * The canonical 15-char (case-correct) form of a 15- or 18-char id, or undefined when malformed. A 15-char id is
 * case-sensitive; an 18-char id is case-insensitive: its suffix restores the case of the first 15 chars.
 */
export function normalizeId(id: string): string | undefined {
  if (id.length === 15) return /^[0-9A-Za-z]{15}$/.test(id) ? id : undefined;
  if (id.length !== 18 || !/^[0-9A-Za-z]{18}$/.test(id)) return undefined;
  let id15 = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    const bits = SUFFIX.indexOf((id[15 + chunk] as string).toUpperCase());
    if (bits < 0) return undefined;
    for (let i = 0; i < 5; i++) {
      const c = id[chunk * 5 + i] as string;
      id15 += bits & (1 << i) ? c.toUpperCase() : c.toLowerCase();
    }
  }
  // A letter the suffix marks upper case may only be a letter; digits have no case to restore.
  return to18(id15).toUpperCase() === id.toUpperCase() ? id15 : undefined;
}

/**
 * The 15-char id (`00N...`) of a custom field, as a custom field's `doc` in an event schema ends with
 * (`Data:Text:00NDp000009Rr9D`, docs/salesforce.md#change-event-fields): derived from the object and field names, so
 * the same field keeps its id across schema versions and emulator runs.
 */
export function customFieldIdOf(object: string, field: string): string {
  const digest = createHash('sha256').update(`${object}.${field}`.toLowerCase()).digest();
  return makeId('00N', digest.readUIntBE(0, 6)).slice(0, 15);
}
