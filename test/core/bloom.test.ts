import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ExpressionBloom } from '../../src/core/bloom.ts';
import { hashExpression } from '../../src/core/hash.ts';

const domains = readFileSync(new URL('../fixtures/filter/malware-domains.txt', import.meta.url), 'utf8')
  .split('\n')
  .filter(Boolean);
const members = domains.map((name) => `${name}/`);

function filled(fpr: number): ExpressionBloom {
  const bloom = ExpressionBloom.create(members.length, fpr);
  for (const expression of members) bloom.add(expression);
  return bloom;
}

describe('ExpressionBloom', () => {
  it('has no false negatives on real domains', () => {
    const bloom = filled(1e-6);
    expect(members.filter((expression) => !bloom.has(expression))).toEqual([]);
  });

  it('sizes itself as bloom-filters does for n and fpr', () => {
    const bloom = ExpressionBloom.create(100_000, 1e-6);
    expect(bloom.size).toBe(Math.ceil((-100_000 * Math.log(1e-6)) / Math.LN2 ** 2));
    expect(bloom.hashCount).toBe(20);
    expect(bloom.bytes()).toHaveLength(Math.ceil(bloom.size / 8));
  });

  it("answers exactly as bloom-filters' own has, for members and non-members at any size and rate", () => {
    const expression = fc.oneof(
      fc.constantFrom(...members),
      fc.stringMatching(/^[a-z0-9.-]{1,30}\/[a-z0-9/?=&%._-]{0,40}$/),
    );
    fc.assert(
      fc.property(
        fc.uniqueArray(expression, { maxLength: 200 }),
        fc.array(expression, { minLength: 1, maxLength: 200 }),
        fc.double({ min: 1e-9, max: 0.6, noNaN: true }),
        (added, probes, fpr) => {
          const bloom = ExpressionBloom.create(added.length, fpr);
          for (const e of added) bloom.add(e);
          const hash = new Uint32Array(4);
          for (const e of [...added, ...probes]) {
            const expected = bloom.libraryHas(e);
            expect(bloom.has(e)).toBe(expected);
            hashExpression(e, hash);
            expect(bloom.hasHash(hash)).toBe(expected);
          }
          for (const e of added) expect(bloom.has(e)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('matches the library on a real-size filter read back from its bytes, hits and misses alike', () => {
    const bloom = filled(0.05);
    const copy = ExpressionBloom.fromBytes(bloom.size, bloom.hashCount, bloom.bytes().slice());
    if (!copy.ok) throw new Error(copy.error.message);
    let hits = 0;
    for (let i = 0; i < 20_000; i++) {
      const probe = i % 2 ? `probe-${i}.example/` : `${members[i % members.length]}p/${i}`;
      const expected = bloom.libraryHas(probe);
      if (expected) hits++;
      expect(copy.value.has(probe)).toBe(expected);
    }
    // A loose rate, so both answers are well represented.
    expect(hits).toBeGreaterThan(500);
  });

  it('leaves the hash of the last expression for the caller', () => {
    const bloom = filled(1e-3);
    const expected = new Uint32Array(4);
    for (const expression of ['example.com/', members[7] as string, 'other.example/']) {
      bloom.has(expression);
      hashExpression(expression, expected);
      expect(bloom.hash).toEqual(expected);
      bloom.libraryHas(members[9] as string);
      hashExpression(members[9] as string, expected);
      expect(bloom.hash).toEqual(expected);
    }
  });

  it('rejects few non-members at a loose rate and reads back from its raw bytes', () => {
    const bloom = filled(0.01);
    const probes = Array.from({ length: 20_000 }, (_, i) => `probe-${i}.example/`);
    const positives = probes.filter((expression) => bloom.has(expression)).length;
    expect(positives).toBeGreaterThan(100);
    expect(positives).toBeLessThan(300);

    const copy = ExpressionBloom.fromBytes(bloom.size, bloom.hashCount, bloom.bytes().slice());
    if (!copy.ok) throw new Error(copy.error.message);
    expect(copy.value.bytes()).toEqual(bloom.bytes());
    expect(members.every((expression) => copy.value.has(expression))).toBe(true);
    expect(probes.filter((expression) => copy.value.has(expression)).length).toBe(positives);
  });

  it('copies the bytes it is built from', () => {
    const bloom = filled(0.01);
    const bytes = bloom.bytes().slice();
    const copy = ExpressionBloom.fromBytes(bloom.size, bloom.hashCount, bytes);
    bytes.fill(0);
    expect(copy.ok && copy.value.has(members[0] as string)).toBe(true);
  });

  it('refuses a bit array that does not match its size or hash count', () => {
    const codes = [
      ExpressionBloom.fromBytes(100, 3, new Uint8Array(12)),
      ExpressionBloom.fromBytes(100, 3, new Uint8Array(14)),
      ExpressionBloom.fromBytes(100, 3, Uint8Array.of(...new Uint8Array(12), 0x10)),
      ExpressionBloom.fromBytes(0, 3, new Uint8Array(0)),
      ExpressionBloom.fromBytes(100, 0, new Uint8Array(13)),
      ExpressionBloom.fromBytes(100, 256, new Uint8Array(13)),
    ].map((result) => (result.ok ? 'ok' : result.error.code));
    expect(codes).toEqual(Array(6).fill('bloom_malformed'));
    expect(ExpressionBloom.fromBytes(100, 3, Uint8Array.of(...new Uint8Array(12), 0x0f)).ok).toBe(true);
  });

  it('refuses a false-positive rate outside (0, 1) and filters past 2^32 bits', () => {
    for (const fpr of [0, 1, -0.5, Number.NaN])
      expect(() => ExpressionBloom.create(10, fpr)).toThrow(RangeError);
    expect(() => ExpressionBloom.create(200_000_000, 1e-6)).toThrow(/exceeds 2\^32/);
  });
});
