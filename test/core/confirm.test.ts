import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  confirmationBits,
  confirmationKey,
  isConfirmationBits,
  MAX_CONFIRMATION_BITS,
  MIN_CONFIRMATION_BITS,
} from '../../src/core/confirm.ts';

describe('confirmationBits', () => {
  it.each([
    [1_000_000, 1e-6, 45],
    [1_500_000, 1e-6, 46],
    [10_000_000, 1e-6, 49],
    [100_000, 1e-4, 49],
    [0, 1e-6, 25],
    [1, 1e-9, MIN_CONFIRMATION_BITS],
    [1e12, 0.5, MAX_CONFIRMATION_BITS],
  ])('gives %d entries at fpr %d %d bits', (count, fpr, bits) => {
    expect(confirmationBits(count, fpr)).toBe(bits);
  });

  it('takes the fewest bits that keep the false-block chance below the target', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50_000_000 }),
        fc.double({ min: 1e-9, max: 0.1, noNaN: true }),
        fc.integer({ min: 1, max: 100 }),
        fc.double({ min: 1e-15, max: 1e-6, noNaN: true }),
        (count, fpr, perUrl, target) => {
          const bits = confirmationBits(count, fpr, perUrl, target);
          const chance = (b: number) => (perUrl * fpr * count) / 2 ** b;
          expect(isConfirmationBits(bits)).toBe(true);
          if (bits < MAX_CONFIRMATION_BITS) expect(chance(bits)).toBeLessThan(target);
          if (bits > MIN_CONFIRMATION_BITS) expect(chance(bits - 1)).toBeGreaterThanOrEqual(target);
        },
      ),
    );
  });
});

describe('confirmationKey', () => {
  const hash = Uint32Array.of(0, 0, 0x12345678, 0x9abcdef0);

  it('takes the top bits of the last 64 bits of the hash', () => {
    expect(confirmationKey(hash, 24)).toBe(0x123456);
    expect(confirmationKey(hash, 32)).toBe(0x12345678);
    expect(confirmationKey(hash, 40)).toBe(0x123456789a);
    expect(confirmationKey(hash, 53)).toBe(Math.floor((0x12345678 * 2 ** 32 + 0x9abcdef0) / 2 ** 11));
  });

  it('ignores the Bloom words and stays exact at 53 bits', () => {
    const ones = Uint32Array.of(7, 9, 0xffffffff, 0xffffffff);
    expect(confirmationKey(ones, 53)).toBe(2 ** 53 - 1);
    expect(confirmationKey(ones, 24)).toBe(2 ** 24 - 1);
    expect(confirmationKey(Uint32Array.of(1, 2, 0, 0), 53)).toBe(0);
  });

  it('agrees with BigInt arithmetic for every width', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: MIN_CONFIRMATION_BITS, max: MAX_CONFIRMATION_BITS }),
        (high, low, bits) => {
          const expected = ((BigInt(high) << 32n) | BigInt(low)) >> BigInt(64 - bits);
          expect(confirmationKey(Uint32Array.of(0, 0, high, low), bits)).toBe(Number(expected));
        },
      ),
    );
  });
});

describe('isConfirmationBits', () => {
  it('accepts whole widths from 24 to 53 only', () => {
    expect([23, 24, 45, 53, 54, 30.5, Number.NaN].map(isConfirmationBits)).toEqual([
      false,
      true,
      true,
      true,
      false,
      false,
      false,
    ]);
  });
});
