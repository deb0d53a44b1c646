import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bloomRateFor,
  confirmationKey,
  confirmationWidths,
  EXTENSION_BITS,
  FALSE_BLOCK_TARGET,
  falseBlockChance,
  insertCapacity,
  isConfirmationBits,
  isKeyWidths,
  isRootExpression,
  type KeyWidths,
  keyExtension,
  keyTail,
  keyWidthsText,
  MAX_CONFIRMATION_BITS,
  MIN_CONFIRMATION_BITS,
  PATH_EXPRESSIONS_PER_URL,
  ROOT_EXPRESSIONS_PER_URL,
  sameKeyWidths,
} from '../../src/core/confirm.ts';
import { hostSuffixes, lookupExpressions } from '../../src/core/expressions.ts';
import { canonicalizeUrl } from '../../src/core/url.ts';

describe('key classes', () => {
  it('calls an expression root when its first slash ends it', () => {
    expect(['example.com/', 'a.b.example.com/', '1.2.3.4/', '[::1]/'].map(isRootExpression)).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(
      ['example.com/a', 'example.com/a/', 'example.com/?x=1', 'example.com/a?b/', 'example.com', ''].map(
        isRootExpression,
      ),
    ).toEqual([false, false, false, false, false, false]);
  });

  it('gives a URL one root expression per host suffix (5 within the window) and at most 25 others', () => {
    const url = canonicalizeUrl('http://a.b.c.d.e.f.example.com/1/2/3/4/5.html?q=1');
    if (!url.ok) throw new Error(url.error.message);
    const expressions = lookupExpressions(url.value);
    // 7 host suffixes down to example.com: each a root expression; the 5 in Safe Browsing's window also with paths.
    expect(expressions).toHaveLength(32);
    expect(expressions.filter(isRootExpression)).toHaveLength(ROOT_EXPRESSIONS_PER_URL + 2);
    expect(expressions.filter((e) => !isRootExpression(e))).toHaveLength(PATH_EXPRESSIONS_PER_URL);
    fc.assert(
      fc.property(
        fc.webUrl({ withQueryParameters: true, withFragments: true }),
        fc.array(fc.stringMatching(/^[a-z0-9-]{1,8}$/), { maxLength: 8 }),
        (web, labels) => {
          const withLabels = web.replace('://', `://${labels.map((l) => `${l}.`).join('')}`);
          const canonical = canonicalizeUrl(withLabels);
          if (!canonical.ok) return;
          const found = lookupExpressions(canonical.value);
          const roots = found.filter(isRootExpression);
          const suffixes = hostSuffixes(canonical.value.host, canonical.value.isIp);
          expect(roots.length).toBe(suffixes.length);
          if (suffixes.length <= 5) expect(roots.length).toBeLessThanOrEqual(ROOT_EXPRESSIONS_PER_URL);
          expect(found.length - roots.length).toBeLessThanOrEqual(PATH_EXPRESSIONS_PER_URL);
          // One root per host suffix: `suffix/`, each once.
          expect(new Set(roots).size).toBe(roots.length);
        },
      ),
    );
  });
});

/** Counts grown to the insert capacity of their sum, as the widths and the Bloom rate are sized. */
const grown = (counts: { root: number; path: number }) => {
  const total = counts.root + counts.path;
  if (total === 0) return { root: insertCapacity(0), path: 0 };
  const scale = insertCapacity(total) / total;
  return { root: counts.root * scale, path: counts.path * scale };
};

describe('confirmationWidths', () => {
  it.each([
    [1_000, 0, 1 / 32, { root: 51, path: 54 }],
    [60_000, 0, 1 / 32, { root: 54, path: 56 }],
    [1_000_000, 0, 1 / 32, { root: 58, path: 60 }],
    [1_000_000, 0, 1e-6, { root: 55, path: 57 }],
    [0, 1_000_000, 1e-6, { root: 55, path: 57 }],
    [0, 0, 1 / 32, { root: 51, path: 53 }],
    [1e12, 0, 0.5, { root: MAX_CONFIRMATION_BITS, path: MAX_CONFIRMATION_BITS }],
  ])('gives %d root and %d path keys at fpr %d the widths %o', (root, path, fpr, widths) => {
    expect(confirmationWidths({ root, path }, fpr)).toEqual(widths);
  });

  it('spends the rounding slack of one class on the other', () => {
    // Ceilings 55 and 57; the root term leaves room for 56-bit path keys.
    expect(confirmationWidths({ root: 1_000_000, path: 100_000 }, 1e-6)).toEqual({ root: 55, path: 56 });
    expect(confirmationWidths({ root: 100_000, path: 1_000_000 }, 1e-6)).toEqual({ root: 54, path: 57 });
  });

  it('keeps widths it is given as a minimum', () => {
    expect(confirmationWidths({ root: 1_000_000, path: 0 }, 1e-6, { root: 59, path: 30 })).toEqual({
      root: 59,
      path: 57,
    });
  });

  /** The fewest bits above log2(perUrl fpr n / T), clamped: each class's width at its proportional share. */
  const proportional = (perUrl: number, fpr: number, n: number) => {
    let bits = MIN_CONFIRMATION_BITS;
    const rate = fpr + 2 ** -EXTENSION_BITS;
    while (
      bits < MAX_CONFIRMATION_BITS &&
      (perUrl * rate * insertCapacity(n)) / 2 ** bits >= FALSE_BLOCK_TARGET
    )
      bits++;
    return bits;
  };

  it('keeps the false-block chance below the target with the fewest key bits near the proportional split', () => {
    const count = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 50_000_000 }));
    const width = fc.integer({ min: MIN_CONFIRMATION_BITS, max: MAX_CONFIRMATION_BITS });
    fc.assert(
      fc.property(
        count,
        count,
        fc.double({ min: 1e-9, max: 0.1, noNaN: true }),
        fc.option(fc.record({ root: width, path: width }), { nil: undefined }),
        (root, path, fpr, minimum) => {
          const counts = { root, path };
          const widths = confirmationWidths(counts, fpr, minimum);
          expect(isKeyWidths(widths)).toBe(true);
          const n = root + path;
          const top = {
            root: Math.max(proportional(ROOT_EXPRESSIONS_PER_URL, fpr, n), minimum?.root ?? 0),
            path: Math.max(proportional(PATH_EXPRESSIONS_PER_URL, fpr, n), minimum?.path ?? 0),
          };
          const fits = (w: KeyWidths) => falseBlockChance(grown(counts), fpr, w) < FALSE_BLOCK_TARGET;
          if (top.root < MAX_CONFIRMATION_BITS && top.path < MAX_CONFIRMATION_BITS)
            expect(fits(widths)).toBe(true);
          // Brute force over every pair within a bit of the proportional widths, never below the minimum.
          const cost = (w: KeyWidths) => root * w.root + path * w.path;
          for (const r of [top.root - 1, top.root]) {
            for (const p of [top.path - 1, top.path]) {
              const pair = { root: r, path: p };
              const allowed =
                r >= Math.max(MIN_CONFIRMATION_BITS, minimum?.root ?? 0) &&
                p >= Math.max(MIN_CONFIRMATION_BITS, minimum?.path ?? 0);
              if (allowed && fits(pair)) expect(cost(widths)).toBeLessThanOrEqual(cost(pair));
            }
          }
          expect(widths.root).toBeGreaterThanOrEqual(top.root - 1);
          expect(widths.root).toBeLessThanOrEqual(top.root);
          expect(widths.path).toBeGreaterThanOrEqual(top.path - 1);
          expect(widths.path).toBeLessThanOrEqual(top.path);
        },
      ),
    );
  });

  it('takes the fewest bits that keep the chance below the target when all keys are of one class', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50_000_000 }),
        fc.double({ min: 1e-9, max: 0.1, noNaN: true }),
        fc.boolean(),
        (count, fpr, rootOnly) => {
          const counts = rootOnly ? { root: count, path: 0 } : { root: 0, path: count };
          const widths = confirmationWidths(counts, fpr);
          const cls = rootOnly ? 'root' : 'path';
          const narrower = { ...widths, [cls]: widths[cls] - 1 };
          if (widths[cls] < MAX_CONFIRMATION_BITS)
            expect(falseBlockChance(grown(counts), fpr, widths)).toBeLessThan(FALSE_BLOCK_TARGET);
          if (widths[cls] > MIN_CONFIRMATION_BITS)
            expect(falseBlockChance(grown(counts), fpr, narrower)).toBeGreaterThanOrEqual(FALSE_BLOCK_TARGET);
        },
      ),
    );
  });
});

describe('falseBlockChance', () => {
  it('is the union bound over 5 root and 25 path expressions, each a key match passing the filter', () => {
    const chance = falseBlockChance({ root: 1_000_000, path: 1000 }, 1e-3, { root: 50, path: 48 });
    const rate = 1e-3 + 2 ** -EXTENSION_BITS;
    expect(chance).toBeCloseTo(((5 * 1e6) / 2 ** 50 + (25 * 1000) / 2 ** 48) * rate, 25);
  });
});

describe('bloomRateFor', () => {
  it('gives the filter the rest of the bound at the insert capacity: rounding slack, or the 53-bit cap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 20_000_000 }),
        fc.integer({ min: 0, max: 2_000_000 }),
        fc.double({ min: 1e-6, max: 0.25, noNaN: true }),
        (root, path, configured) => {
          const counts = { root, path };
          const bits = confirmationWidths(counts, configured);
          const rate = bloomRateFor(counts, bits, configured);
          expect(rate).toBeLessThanOrEqual(0.5);
          expect(falseBlockChance(grown(counts), rate, bits)).toBeLessThanOrEqual(
            FALSE_BLOCK_TARGET * (1 + 1e-9),
          );
          if (bits.root < MAX_CONFIRMATION_BITS && bits.path < MAX_CONFIRMATION_BITS && rate < 0.5)
            expect(rate).toBeGreaterThanOrEqual(configured);
        },
      ),
    );
  });

  it('falls back to the configured rate when forced widths cannot keep the bound', () => {
    expect(bloomRateFor({ root: 1_000_000, path: 0 }, { root: 24, path: 24 }, 0.01)).toBe(0.01);
  });
});

describe('keyExtension', () => {
  it('takes the top bits of the first hash word, apart from the key', () => {
    expect(keyExtension(Uint32Array.of(0xabcdef12, 0, 0xffffffff, 0xffffffff))).toBe(
      0xabcdef12 >>> (32 - EXTENSION_BITS),
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
          const key = ((BigInt(high) << 32n) | BigInt(low)) >> BigInt(64 - bits);
          const tail = BigInt(Math.max(0, bits - 53));
          const hash = Uint32Array.of(0, 0, high, low);
          expect(confirmationKey(hash, bits)).toBe(Number(key >> tail));
          expect(keyTail(hash, bits)).toBe(Number(key & ((1n << tail) - 1n)));
        },
      ),
    );
  });
});

describe('width checks', () => {
  it('accepts whole widths from 24 to 64 only', () => {
    expect([23, 24, 45, 64, 65, 30.5, Number.NaN].map(isConfirmationBits)).toEqual([
      false,
      true,
      true,
      true,
      false,
      false,
      false,
    ]);
    expect(isKeyWidths({ root: 43, path: 45 })).toBe(true);
    expect(isKeyWidths({ root: 43, path: 65 })).toBe(false);
    expect(isKeyWidths({ root: 23, path: 45 })).toBe(false);
  });

  it('compares and writes width pairs', () => {
    expect(sameKeyWidths({ root: 43, path: 45 }, { root: 43, path: 45 })).toBe(true);
    expect(sameKeyWidths({ root: 43, path: 45 }, { root: 45, path: 43 })).toBe(false);
    expect(keyWidthsText({ root: 43, path: 45 })).toBe('43,45');
  });
});
