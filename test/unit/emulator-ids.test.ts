// Salesforce ids: 15 -> 18 case-safe suffix, and 15/18-char forms resolving to the same record.
import { describe, expect, it } from 'vitest';
import { makeId, normalizeId, numberOf, to18 } from '../../emulator/ids.ts';

describe('emulator ids', () => {
  it('computes the case-safe suffix of real Salesforce ids', () => {
    // Known pairs (15 -> 18) as Salesforce prints them.
    expect(to18('001RO0000035WQg')).toBe('001RO0000035WQgYAM');
    expect(to18('0015000000Gv7qJ')).toBe('0015000000Gv7qJAAR');
  });

  it('makes 18-char ids that round-trip to their record number, sorting like the number', () => {
    const ids = [0, 1, 61, 62, 3843, 1_000_000].map((n) => makeId('001', n));
    for (const [i, n] of [0, 1, 61, 62, 3843, 1_000_000].entries()) {
      expect(ids[i]).toHaveLength(18);
      expect(numberOf(ids[i]!)).toBe(n);
    }
    expect([...ids].sort()).toEqual(ids);
  });

  it('normalizes 15-char ids case-sensitively and 18-char ids case-insensitively', () => {
    const id = makeId('003', 123_456);
    const id15 = id.slice(0, 15);
    expect(normalizeId(id)).toBe(id15);
    expect(normalizeId(id15)).toBe(id15);
    expect(normalizeId(id.toLowerCase())).toBe(id15);
    expect(normalizeId(id.toUpperCase())).toBe(id15);
    expect(normalizeId(id15.toLowerCase())).toBe(id15.toLowerCase());
    expect(normalizeId('not-an-id')).toBeUndefined();
    expect(normalizeId('001Hp0000000000IA!')).toBeUndefined();
  });
});
