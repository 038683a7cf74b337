import { describe, expect, it } from 'vitest';
import { canonicalDecimal } from '../support/compare.ts';

describe('canonicalDecimal (test support)', () => {
  it.each([
    ['1.2345678E7', '12345678'],
    ['12345678.000', '12345678'],
    ['-0.0500', '-0.05'],
    ['0', '0'],
    ['000123.4500', '123.45'],
    ['1E-3', '0.001'],
    ['-9999999999999999.99', '-9999999999999999.99'],
    ['5e2', '500'],
  ])('%s -> %s', (input, want) => {
    expect(canonicalDecimal(input)).toBe(want);
  });
});
